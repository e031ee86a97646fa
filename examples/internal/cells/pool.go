package cells

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mpgo/mp"
)

// Cells "Pool": the notebook's first cell and its Pool cell.
//
//	def f(x):
//	    return x*x
var poolF = mp.RegisterFunc("cells.pool.f", func(x int) int { return x * x })

// poolGetpid is os.getpid, run in a worker.
var poolGetpid = mp.RegisterFunc("cells.pool.getpid", func(struct{}) int { return os.Getpid() })

// poolSleep is time.sleep, run in a worker.
var poolSleep = mp.Register("cells.pool.sleep", func(d time.Duration) { time.Sleep(d) })

// FirstPool is the notebook's first cell:
//
//	p = Pool(5)
//	print(p.map(f, [1, 2, 3]))
func FirstPool() {
	p, err := mp.NewPool(mp.WithWorkers(5))
	must(err)
	defer p.Terminate()
	squares, err := mp.Map(ctx, p, poolF, []int{1, 2, 3})
	must(err)
	fmt.Println(squares)
	must(p.Close())
	must(p.Wait(ctx))
}

// getWithin is res.get(timeout=d).
func getWithin[R any](r *mp.AsyncResult[R], d time.Duration) (R, error) {
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return r.Get(c)
}

// Pool is the notebook's Pool cell: map, imap_unordered, apply_async with a timeout on
// Get, and a task that outlives the caller's patience.
func Pool() {
	pool, err := mp.NewPool(mp.WithWorkers(4)) // start 4 worker processes
	must(err)
	defer pool.Terminate()

	// print "[0, 1, 4,..., 81]"
	squares, err := mp.Map(ctx, pool, poolF, rangeN(10))
	must(err)
	fmt.Println(squares)

	// print same numbers in arbitrary order
	for v, err := range mp.ImapUnordered(ctx, pool, poolF, slices.Values(rangeN(10))) {
		must(err)
		fmt.Println(v)
	}

	// evaluate "f(20)" asynchronously
	res := mp.ApplyAsync(pool, poolF, 20) // runs in *only* one process
	v, err := getWithin(res, time.Second)
	must(err)
	fmt.Println(v) // prints "400"

	// evaluate "os.getpid()" asynchronously
	pidRes := mp.ApplyAsync(pool, poolGetpid, struct{}{}) // runs in *only* one process
	pid, err := getWithin(pidRes, time.Second)
	must(err)
	fmt.Println(pid) // prints the PID of that process

	// launching multiple evaluations asynchronously *may* use more processes
	var multiple []*mp.AsyncResult[int]
	for range 4 {
		multiple = append(multiple, mp.ApplyAsync(pool, poolGetpid, struct{}{}))
	}
	var pids []int
	for _, r := range multiple {
		pid, err := getWithin(r, time.Second)
		must(err)
		pids = append(pids, pid)
	}
	fmt.Println(pids)

	// make a single worker sleep for 10 secs
	sleeper := mp.ApplyAsync(pool, poolSleep, 10*time.Second)
	if _, err := getWithin(sleeper, time.Second); errors.Is(err, mp.ErrTimeout) {
		fmt.Println("We lacked patience and got a multiprocessing.TimeoutError")
	} else {
		must(err)
	}
	// Leaving the cell ends the pool at once, the sleeping worker with it.
	must(pool.Terminate())
}

func rangeN(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
