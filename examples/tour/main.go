// Command tour runs the Go twin of every cell of the multiprocessing notebook, in the
// notebook's order, under a heading each.
package main

import (
	"fmt"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/examples/internal/cells"
)

var tour = []struct {
	title string
	run   func()
}{
	{"Pool: o primeiro exemplo", cells.FirstPool},
	{"A classe Process", cells.HelloBob},
	{"Expondo os IDs dos processos", cells.ProcessIDs},
	{"Queues", cells.Queues},
	{"Pipes", cells.Pipe},
	{"Sincronização entre processos: Lock", cells.Lock},
	{"Memória compartilhada: Value e Array", cells.SharedMemory},
	{"Processo do servidor: Manager", cells.Manager},
	{"Um Manager compartilhado pela rede", cells.ManagerRemote},
	{"Usando um pool de trabalhadores", cells.Pool},
}

func main() {
	mp.Main()
	for i, c := range tour {
		if i > 0 {
			fmt.Println()
		}
		fmt.Printf("=== %s ===\n", c.title)
		c.run()
	}
}
