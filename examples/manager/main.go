// Manager is the notebook's "Manager" cell: a child process changes a dict and a list
// held by a manager server, through proxies; the parent prints them.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.Manager()
}
