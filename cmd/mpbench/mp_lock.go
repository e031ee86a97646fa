package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/mpgo/mp"
)

// mp sides that need Lock and Value.

func mpLockUncontended(b *bench) (float64, error) {
	ctx := context.Background()
	l, err := mp.NewLock()
	if err != nil {
		return 0, err
	}
	defer l.Close()
	k := b.n(1_000_000, 200_000)
	t := time.Now()
	for range k {
		if err := l.Acquire(ctx); err != nil {
			return 0, err
		}
		if err := l.Release(); err != nil {
			return 0, err
		}
	}
	return perOp(time.Since(t), k, time.Nanosecond), nil
}

// mpCounterArg is what each incrementing child gets.
type mpCounterArg struct {
	V     *mp.Value[int64]
	Start *mp.Barrier
	N     int
}

// mpCounterFn waits at the barrier, then increments V N times under its lock.
var mpCounterFn = mp.RegisterErr("mpbench.counter", func(a mpCounterArg) (struct{}, error) {
	ctx := context.Background()
	l := a.V.Lock()
	if _, err := a.Start.Wait(ctx); err != nil {
		return struct{}{}, err
	}
	for range a.N {
		if err := l.Acquire(ctx); err != nil {
			return struct{}{}, err
		}
		*a.V.Pointer() += 1
		if err := l.Release(); err != nil {
			return struct{}{}, err
		}
	}
	runtime.KeepAlive(a.V)
	return struct{}{}, nil
})

func mpLockContended(b *bench) (float64, error) {
	ctx := context.Background()
	n := b.n(200_000, 50_000)
	v, err := mp.NewValue[int64](0)
	if err != nil {
		return 0, err
	}
	defer v.Close()
	start, err := mp.NewBarrier(3)
	if err != nil {
		return 0, err
	}
	defer start.Close()
	var ps []*mp.Process
	defer func() {
		for _, p := range ps {
			p.Kill()
			p.Wait(ctx)
			p.Close()
		}
	}()
	for range 2 {
		p := mp.NewProcess(mpCounterFn, mpCounterArg{V: v, Start: start, N: n})
		if err := p.Start(); err != nil {
			return 0, err
		}
		ps = append(ps, p)
	}
	if _, err := start.Wait(ctx); err != nil {
		return 0, err
	}
	t := time.Now()
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			return 0, fmt.Errorf("incrementing child: %w", err)
		}
	}
	d := time.Since(t)
	if got := v.Load(); got != int64(2*n) {
		return 0, fmt.Errorf("lost updates: %d, want %d", got, 2*n)
	}
	return rate(2*n, d), nil
}
