package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mpgo/mp"
)

// mp sides that need Process.

var mpNoopFn = mp.Register0("mpbench.noop", func() {})

// mpProcessStart: start and wait for a child running a no-op, k times.
func mpProcessStart(b *bench) (float64, error) {
	ctx := context.Background()
	k := b.n(20, 10)
	t := time.Now()
	for range k {
		p := mp.NewProcess(mpNoopFn, struct{}{})
		if err := p.Start(); err != nil {
			return 0, err
		}
		if err := p.Wait(ctx); err != nil {
			return 0, err
		}
		p.Close()
	}
	return perOp(time.Since(t), k, time.Millisecond), nil
}

// mpIdleChild tells its parent it is up, then blocks until the parent closes its end.
var mpIdleFn = mp.Register("mpbench.idle", func(c *mp.Conn) {
	c.Send(1)
	var x int
	c.Recv(&x)
})

// mpIdleProcessRSS is the VmRSS of an idle mp child (a Process blocked in Recv), used for
// idle_worker_rss_mib until Pool exists.
func mpIdleProcessRSS(b *bench) (float64, error) {
	a, c, err := mp.Pipe()
	if err != nil {
		return 0, err
	}
	defer a.Close()
	p := mp.NewProcess(mpIdleFn, c)
	if err := p.Start(); err != nil {
		c.Close()
		return 0, err
	}
	c.Close()
	var up int
	err = a.Recv(&up)
	if err == nil {
		time.Sleep(200 * time.Millisecond)
	}
	var rss float64
	if err == nil {
		rss, err = rssMiB(p.Pid())
	}
	a.Close()
	if werr := p.Wait(context.Background()); err == nil && werr != nil {
		err = fmt.Errorf("idle child: %w", werr)
	}
	p.Close()
	return rss, err
}
