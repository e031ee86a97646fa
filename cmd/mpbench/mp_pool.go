package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mpgo/mp"
)

// mp sides that need Pool. Each sample makes its own pool (outside the timed part, except
// for pool_start_ms) and closes it.

var (
	mpIdentFn  = mp.RegisterFunc("mpbench.ident", func(x int) int { return x })
	mpSquareFn = mp.RegisterFunc("mpbench.square", func(x int) int { return x * x })
	mpBurnFn   = mp.RegisterFunc("mpbench.burn", func(n int) uint64 { return cpuBurn(n) })
	mpGetpidFn = mp.RegisterFunc("mpbench.getpid", func(struct{}) int { return os.Getpid() })
)

// mpWithPool runs f on a fresh pool of workers whose workers have each answered once.
func mpWithPool(workers int, f func(ctx context.Context, p *mp.Pool) error) error {
	ctx := context.Background()
	p, err := mp.NewPool(mp.WithWorkers(workers))
	if err != nil {
		return err
	}
	warm := make([]int, 4*workers)
	if _, err = mp.Map(ctx, p, mpIdentFn, warm, mp.WithChunkSize(1)); err == nil {
		err = f(ctx, p)
	}
	if err != nil {
		p.Terminate()
		return err
	}
	p.Close()
	return p.Wait(ctx)
}

func mpPoolStart(b *bench) (float64, error) {
	ctx := context.Background()
	k := b.n(10, 5)
	t := time.Now()
	for range k {
		p, err := mp.NewPool(mp.WithWorkers(b.workers))
		if err != nil {
			return 0, err
		}
		if _, err := mp.Apply(ctx, p, mpIdentFn, 1); err != nil {
			p.Terminate()
			return 0, err
		}
		p.Close()
		if err := p.Wait(ctx); err != nil {
			return 0, err
		}
	}
	return perOp(time.Since(t), k, time.Millisecond), nil
}

func mpApplyLatency(b *bench) (float64, error) {
	k := b.n(2000, 500)
	var d time.Duration
	err := mpWithPool(b.workers, func(ctx context.Context, p *mp.Pool) error {
		t := time.Now()
		for i := range k {
			if _, err := mp.Apply(ctx, p, mpIdentFn, i); err != nil {
				return err
			}
		}
		d = time.Since(t)
		return nil
	})
	return perOp(d, k, time.Microsecond), err
}

func mpApplyAsync(b *bench) (float64, error) {
	n := b.n(20000, 5000)
	var d time.Duration
	err := mpWithPool(b.workers, func(ctx context.Context, p *mp.Pool) error {
		rs := make([]*mp.AsyncResult[int], n)
		t := time.Now()
		for i := range rs {
			rs[i] = mp.ApplyAsync(p, mpIdentFn, i)
		}
		for i, r := range rs {
			v, err := r.Get(ctx)
			if err != nil {
				return err
			}
			if v != i {
				return fmt.Errorf("apply_async %d returned %d", i, v)
			}
		}
		d = time.Since(t)
		return nil
	})
	return rate(n, d), err
}

// mpItems is 0..n-1, made outside the timed part (Python's list(range(n)) is too).
func mpItems(n int) []int {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	return items
}

func mpMap(b *bench) (float64, error) {
	n := b.n(1_000_000, 200_000)
	items := mpItems(n)
	var d time.Duration
	err := mpWithPool(b.workers, func(ctx context.Context, p *mp.Pool) error {
		t := time.Now()
		res, err := mp.Map(ctx, p, mpSquareFn, items) // default chunk size: CPython's
		d = time.Since(t)
		if err == nil && (len(res) != n || res[n-1] != (n-1)*(n-1)) {
			err = fmt.Errorf("map returned %d results", len(res))
		}
		return err
	})
	return rate(n, d), err
}

func mpCPUScaling(b *bench) (float64, error) {
	tasks := slices.Repeat([]int{b.burnN()}, 8)
	timeOn := func(workers int) (d time.Duration, err error) {
		err = mpWithPool(workers, func(ctx context.Context, p *mp.Pool) error {
			t := time.Now()
			_, err := mp.Map(ctx, p, mpBurnFn, tasks, mp.WithChunkSize(1))
			d = time.Since(t)
			return err
		})
		return d, err
	}
	t1, err := timeOn(1)
	if err != nil {
		return 0, err
	}
	t2, err := timeOn(2)
	if err != nil {
		return 0, err
	}
	return float64(t1) / float64(t2), nil
}

// mpIdleWorkerRSS is the VmRSS of a Pool(1) worker 200 ms after its first task.
func mpIdleWorkerRSS(b *bench) (float64, error) {
	var rss float64
	err := mpWithPool(1, func(ctx context.Context, p *mp.Pool) error {
		pid, err := mp.Apply(ctx, p, mpGetpidFn, struct{}{})
		if err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
		rss, err = rssMiB(pid)
		return err
	})
	return rss, err
}

func mpImapUnordered(b *bench) (float64, error) {
	n := b.n(1_000_000, 200_000)
	items := mpItems(n)
	var d time.Duration
	err := mpWithPool(b.workers, func(ctx context.Context, p *mp.Pool) error {
		t := time.Now()
		got := 0
		// The same chunk size as Map (ImapUnordered's default is 1, as in Python).
		for _, err := range mp.ImapUnordered(ctx, p, mpSquareFn, slices.Values(items), mp.WithChunkSize(mapChunksize(n, b.workers))) {
			if err != nil {
				return err
			}
			got++
		}
		d = time.Since(t)
		if got != n {
			return fmt.Errorf("imap_unordered yielded %d results, want %d", got, n)
		}
		return nil
	})
	return rate(n, d), err
}
