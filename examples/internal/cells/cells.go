// Package cells holds the Go twin of each cell of the multiprocessing notebook, one
// exported function per cell. The programs under examples/ run one cell each; the tour
// runs them all in the notebook's order.
package cells

import (
	"context"
	"fmt"
	"os"
)

// must stops the cell with a message when err is not nil.
func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ctx is the context the cells run under.
var ctx = context.Background()
