// Lock is the notebook's "Lock" cell: ten processes print "hello world i" under one
// shared lock.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.Lock()
}
