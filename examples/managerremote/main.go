// Managerremote runs a manager listening on 127.0.0.1 with a key, and a separate
// program — this binary re-executed with only the address and the key — that connects
// to it, takes work from a shared queue and writes results into a shared dict.
package main

import (
	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

func main() {
	mp.Main()
	cells.ManagerRemote()
}
