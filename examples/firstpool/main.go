// Command firstpool runs the notebook's first cell, Pool(5).map(f, [1, 2, 3]), as a Go program.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.FirstPool()
}
