// Sharedmemory is the notebook's shared-memory cell: a child changes a Value and an
// Array in shared memory, and the parent prints them.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.SharedMemory()
}
