package cells

import (
	"fmt"

	"github.com/mpgo/mp"
)

// Cell "Lock": ten processes print under one shared lock, so their lines never mix.
//
//	def f(l, i):
//	    l.acquire()
//	    print('hello world', i)
//	    l.release()

// lockArg is f's (l, i).
type lockArg struct {
	L *mp.Lock
	I int
}

var lockF = mp.RegisterErr("cells.lockF", func(a lockArg) (struct{}, error) {
	if err := a.L.Acquire(ctx); err != nil {
		return struct{}{}, err
	}
	fmt.Println("hello world", a.I)
	return struct{}{}, a.L.Release()
})

// Lock is the notebook's Lock cell: processes 0..9 each print "hello world i" while
// holding the lock. The order of the lines may vary; a line is never cut by another.
func Lock() {
	lock, err := mp.NewLock()
	must(err)
	defer lock.Close()
	var ps []*mp.Process
	for num := range 10 {
		p := mp.NewProcess(lockF, lockArg{L: lock, I: num})
		must(p.Start())
		ps = append(ps, p)
	}
	for _, p := range ps {
		must(p.Wait(ctx))
	}
}
