package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

var (
	tSquare  = mp.RegisterFunc("test.pool.square", func(x int) int { return x * x })
	tPid     = mp.RegisterFunc("test.pool.pid", func(struct{}) int { return os.Getpid() })
	tPidOf   = mp.RegisterFunc("test.pool.pidof", func(int) int { return os.Getpid() })
	tSleepMs = mp.RegisterFunc("test.pool.sleepms", func(ms int) int { time.Sleep(time.Duration(ms) * time.Millisecond); return ms })
	tCtxWait = mp.RegisterCtx("test.pool.ctxwait", func(ctx context.Context, d time.Duration) (string, error) {
		select {
		case <-ctx.Done():
			return "cancelled", ctx.Err()
		case <-time.After(d):
			return "slept", nil
		}
	})
	// tMaybeDie exits the worker abruptly on item -1, panics on -2, fails on -3.
	tMaybeDie = mp.RegisterErr("test.pool.maybedie", func(x int) (int, error) {
		switch x {
		case -1:
			os.Exit(7)
		case -2:
			panic("boom in worker")
		case -3:
			return 0, fmt.Errorf("refused %d: %w", x, mp.ErrFull)
		}
		return x + 1, nil
	})
	tPanicAt3 = mp.RegisterFunc("test.pool.panicat3", func(x int) int {
		if x == 3 {
			panic("three")
		}
		return x * 10
	})
	tKillSelf = mp.RegisterFunc("test.pool.killself", func(x int) int {
		if x == 500 {
			if self, err := os.FindProcess(os.Getpid()); err == nil {
				self.Kill() // SIGKILL on unix
			}
			time.Sleep(time.Second)
		}
		return 2 * x
	})
	tChanRes = mp.RegisterFunc("test.pool.chanres", func(x int) any {
		if x == 1 {
			return make(chan int)
		}
		return x
	})
)

func newTestPool(t *testing.T, opts ...mp.PoolOption) *mp.Pool {
	t.Helper()
	p, err := mp.NewPool(opts...)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { p.Terminate() })
	return p
}

func ctx20(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPoolMapOrder(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	for _, n := range []int{0, 1, 3, 10, 1000, 100_000} {
		items := make([]int, n)
		for i := range items {
			items[i] = i
		}
		for _, chunk := range []int{0, 1, 7} {
			if chunk == 1 && n > 1000 {
				continue
			}
			var opts []mp.MapOption
			if chunk > 0 {
				opts = append(opts, mp.WithChunkSize(chunk))
			}
			got, err := mp.Map(ctx, p, tSquare, items, opts...)
			if err != nil {
				t.Fatalf("Map(%d items, chunk %d): %v", n, chunk, err)
			}
			if len(got) != n {
				t.Fatalf("Map(%d items): %d results", n, len(got))
			}
			for i, v := range got {
				if v != i*i {
					t.Fatalf("Map(%d items, chunk %d)[%d] = %d", n, chunk, i, v)
				}
			}
		}
	}
	got, err := mp.Map(ctx, p, tSquare, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Map(nil) = %v, %v", got, err)
	}
}

func TestPoolApply(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	v, err := mp.Apply(ctx, p, tSquare, 20)
	if err != nil || v != 400 {
		t.Fatalf("Apply = %d, %v", v, err)
	}
	var rs []*mp.AsyncResult[int]
	for i := range 100 {
		rs = append(rs, mp.ApplyAsync(p, tSquare, i))
	}
	for i, r := range rs {
		v, err := r.Get(ctx)
		if err != nil || v != i*i {
			t.Fatalf("ApplyAsync(%d) = %d, %v", i, v, err)
		}
		if !r.Ready() || !r.Successful() {
			t.Fatal("not Ready/Successful after Get")
		}
	}
	pid, err := mp.Apply(ctx, p, tPid, struct{}{})
	if err != nil || !slices.Contains(p.Pids(), pid) {
		t.Fatalf("Apply(pid) = %d, %v; pool pids %v", pid, err, p.Pids())
	}
}

func TestPoolItemErrors(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	items := []int{1, 2, -2, 4, -3, 6, -1, 8, 9}
	got, err := mp.Map(ctx, p, tMaybeDie, items, mp.WithChunkSize(4))
	var me *mp.MapError
	if !errors.As(err, &me) {
		t.Fatalf("Map err = %v, want *MapError", err)
	}
	want := []int{2, 3, 0, 5, 0, 7, 0, 9, 10}
	if !slices.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	if len(me.Errors) != 3 || me.Errors[0].Index != 2 || me.Errors[1].Index != 4 || me.Errors[2].Index != 6 {
		t.Fatalf("errors %+v", me.Errors)
	}
	var pe *mp.PanicError
	if !errors.As(me.Errors[0].Err, &pe) || pe.Value != "boom in worker" || pe.Stack == "" {
		t.Fatalf("item 2: %v, want a PanicError with stack", me.Errors[0].Err)
	}
	if !errors.Is(me.Errors[1].Err, mp.ErrFull) {
		t.Fatalf("item 4: %v, want ErrFull identity", me.Errors[1].Err)
	}
	var wl *mp.WorkerLostError
	if !errors.As(me.Errors[2].Err, &wl) || wl.Code != 7 || !errors.Is(err, mp.ErrWorkerLost) {
		t.Fatalf("item 6: %v, want WorkerLostError with code 7", me.Errors[2].Err)
	}
	// A panic in a plain function, in the middle of a batch.
	got, err = mp.Map(ctx, p, tPanicAt3, []int{1, 2, 3, 4, 5}, mp.WithChunkSize(5))
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 2 || !errors.As(err, &pe) || pe.Value != "three" {
		t.Fatalf("Map with a panic = %v", err)
	}
	if !slices.Equal(got, []int{10, 20, 0, 40, 50}) {
		t.Fatalf("results %v", got)
	}
	// The pool still works.
	if v, err := mp.Apply(ctx, p, tSquare, 3); err != nil || v != 9 {
		t.Fatalf("Apply after failures = %d, %v", v, err)
	}
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
