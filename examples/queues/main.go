// Queues is the notebook's "Queues" cell: a child process puts a list on a Queue, and
// the parent prints it.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.Queues()
}
