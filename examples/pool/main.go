// Command pool runs the notebook's Pool cell as a Go program.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.Pool()
}
