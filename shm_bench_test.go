package mp_test

import (
	"context"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

type shmSpinArg struct {
	V    *mp.Value[int64]
	Stop *mp.Event
}

// tShmSpin increments V under its lock until Stop is set.
var tShmSpin = mp.RegisterErr("test.shm.spin", func(a shmSpinArg) (struct{}, error) {
	ctx := context.Background()
	l := a.V.Lock()
	for !a.Stop.IsSet() {
		for range 256 {
			if err := l.Acquire(ctx); err != nil {
				return struct{}{}, err
			}
			*a.V.Pointer() += 1
			l.Release()
		}
	}
	return struct{}{}, nil
})

// BenchmarkLockUncontended is one Acquire plus one Release of a free Lock
// (lock_uncontended_ns).
func BenchmarkLockUncontended(b *testing.B) {
	l := must(mp.NewLock())
	defer l.Close()
	ctx := context.Background()
	for b.Loop() {
		l.Acquire(ctx)
		l.Release()
	}
}

func BenchmarkRLockUncontended(b *testing.B) {
	l := must(mp.NewRLock())
	defer l.Close()
	ctx := context.Background()
	for b.Loop() {
		l.Acquire(ctx)
		l.Release()
	}
}

func BenchmarkValueLoadStore(b *testing.B) {
	v := must(mp.NewValue[int64](0))
	defer v.Close()
	for b.Loop() {
		v.Store(v.Load() + 1)
	}
}

func BenchmarkAtomicAdd(b *testing.B) {
	v := must(mp.NewValue[int64](0, mp.WithoutLock()))
	defer v.Close()
	for b.Loop() {
		mp.AtomicAdd(v, 1)
	}
}

// BenchmarkLockContended2Proc increments one shared Value under its Lock from this
// process and a child at once; ops/s counts both processes' increments
// (lock_contended_ops_per_s).
func BenchmarkLockContended2Proc(b *testing.B) {
	v := must(mp.NewValue[int64](0))
	defer v.Close()
	stop := must(mp.NewEvent())
	defer stop.Close()
	p := mp.NewProcess(tShmSpin, shmSpinArg{V: v, Stop: stop})
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stop.Set()
		if err := p.Wait(context.Background()); err != nil {
			b.Error(err)
		}
	}()
	ctx := context.Background()
	l := v.Lock()
	// Wait for the child to be spinning.
	for mp.AtomicLoad(v) == 0 {
		time.Sleep(time.Millisecond)
	}
	start, before := time.Now(), mp.AtomicLoad(v)
	for b.Loop() {
		l.Acquire(ctx)
		*v.Pointer() += 1
		l.Release()
	}
	total := mp.AtomicLoad(v) - before
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "ops/s")
	b.ReportMetric(float64(total-int64(b.N))/float64(total), "child-share")
}
