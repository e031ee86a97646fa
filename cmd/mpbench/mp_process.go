package main

import (
	"context"
	"time"

	"github.com/mpgo/mp"
)

// mp sides that need Process. (idle_worker_rss_mib is measured on a Pool worker: mp_pool.go.)

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
