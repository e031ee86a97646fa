package mp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// must unwraps a constructor's result; a constructor failing is a broken test setup.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func closeLater(t testing.TB, c interface{ Close() error }) {
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func TestLockGoroutines(t *testing.T) {
	l := must(mp.NewLock())
	closeLater(t, l)
	const n, k = 8, 2000
	counter := 0
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for range k {
				if err := l.Acquire(t.Context()); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := l.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if counter != n*k {
		t.Fatalf("counter = %d, want %d", counter, n*k)
	}
}

func TestLockTryAndRelease(t *testing.T) {
	l := must(mp.NewLock())
	closeLater(t, l)
	if err := l.Release(); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Release of a free lock: %v, want ErrNotOwner", err)
	}
	if !l.TryAcquire() {
		t.Fatal("TryAcquire of a free lock failed")
	}
	if l.TryAcquire() {
		t.Fatal("TryAcquire of a held lock succeeded")
	}
	if !l.Locked() {
		t.Fatal("Locked() = false while held")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of a held lock: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a 100ms Acquire took %v", d)
	}
	// A cancel (no deadline) wakes a sleeping Acquire.
	ctx2, cancel2 := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Acquire(ctx2) }()
	time.Sleep(20 * time.Millisecond)
	cancel2()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("second Release: %v, want ErrNotOwner", err)
	}
}

func TestRLock(t *testing.T) {
	l := must(mp.NewRLock())
	closeLater(t, l)
	ctx := t.Context()
	for range 3 {
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Another goroutine neither takes nor releases it.
	errc := make(chan error, 2)
	go func() {
		if l.TryAcquire() {
			errc <- errors.New("another goroutine took a held RLock")
		} else {
			errc <- nil
		}
		errc <- l.Release()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("Release by a non-owner: %v, want ErrNotOwner", err)
	}
	for range 3 {
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Release(); !errors.Is(err, mp.ErrNotOwner) {
		t.Fatalf("one Release too many: %v, want ErrNotOwner", err)
	}
	go func() { errc <- l.Acquire(ctx) }()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if l.TryAcquire() {
		t.Fatal("took an RLock another goroutine holds")
	}
}

func TestSemaphore(t *testing.T) {
	s := must(mp.NewSemaphore(2))
	closeLater(t, s)
	ctx := t.Context()
	if err := s.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.TryAcquire() {
		t.Fatal("TryAcquire with one unit left failed")
	}
	if s.TryAcquire() {
		t.Fatal("TryAcquire of an empty semaphore succeeded")
	}
	done := make(chan error, 1)
	go func() { done <- s.Acquire(ctx) }()
	time.Sleep(10 * time.Millisecond)
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Unbounded: release past the initial value is fine.
	for range 4 {
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if v := s.Value(); v != 4 {
		t.Fatalf("Value = %d, want 4", v)
	}

	b := must(mp.NewBoundedSemaphore(1))
	closeLater(t, b)
	if err := b.Release(); !errors.Is(err, mp.ErrTooManyCalls) {
		t.Fatalf("over-release of a BoundedSemaphore: %v, want ErrTooManyCalls", err)
	}
	if err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := b.Acquire(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of an empty semaphore: %v", err)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestEventTimeout(t *testing.T) {
	e := must(mp.NewEvent())
	closeLater(t, e)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a clear event: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a 200ms Wait took %v", d)
	}
	done := make(chan error, 1)
	go func() { done <- e.Wait(t.Context()) }()
	time.Sleep(10 * time.Millisecond)
	if err := e.Set(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !e.IsSet() {
		t.Fatal("IsSet = false after Set")
	}
	e.Clear()
	if e.IsSet() {
		t.Fatal("IsSet = true after Clear")
	}
}

func TestConditionGoroutines(t *testing.T) {
	for _, name := range []string{"rlock", "lock"} {
		t.Run(name, func(t *testing.T) {
			var lock mp.CondLock
			if name == "lock" {
				l := must(mp.NewLock())
				closeLater(t, l)
				lock = l
			}
			c := must(mp.NewCondition(lock))
			closeLater(t, c)
			ctx := t.Context()
			if err := c.Notify(1); !errors.Is(err, mp.ErrNotOwner) {
				t.Fatalf("Notify without the lock: %v", err)
			}
			// Ping-pong: two goroutines take turns through the condition.
			turn := 0
			const rounds = 50
			var wg sync.WaitGroup
			for me := range 2 {
				wg.Go(func() {
					for range rounds {
						if err := c.Acquire(ctx); err != nil {
							t.Error(err)
							return
						}
						if err := c.WaitFor(ctx, func() bool { return turn%2 == me }); err != nil {
							t.Error(err)
							c.Release()
							return
						}
						turn++
						c.NotifyAll()
						c.Release()
					}
				})
			}
			wg.Wait()
			if turn != 2*rounds {
				t.Fatalf("turn = %d", turn)
			}
			// Wait with a timeout returns with the lock held.
			if err := c.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
			tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if err := c.Wait(tctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait: %v", err)
			}
			if err := c.Release(); err != nil {
				t.Fatalf("Release after a timed-out Wait: %v", err)
			}
		})
	}
}

func TestBarrierGoroutines(t *testing.T) {
	b := must(mp.NewBarrier(3))
	closeLater(t, b)
	if b.Parties() != 3 {
		t.Fatalf("Parties = %d", b.Parties())
	}
	for round := range 3 {
		var wg sync.WaitGroup
		idx := make(chan int, 3)
		for range 3 {
			wg.Go(func() {
				i, err := b.Wait(t.Context())
				if err != nil {
					t.Error(err)
				}
				idx <- i
			})
		}
		wg.Wait()
		close(idx)
		seen := map[int]bool{}
		for i := range idx {
			seen[i] = true
		}
		if len(seen) != 3 || !seen[0] || !seen[1] || !seen[2] {
			t.Fatalf("round %d: indices %v", round, seen)
		}
	}
	// A timeout breaks it, for everyone, until Reset.
	done := make(chan error, 1)
	go func() { _, err := b.Wait(t.Context()); done <- err }()
	for b.NWaiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := b.Wait(ctx)
	if !errors.Is(err, mp.ErrBrokenBarrier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out Wait: %v", err)
	}
	if err := <-done; !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Fatalf("other party: %v", err)
	}
	if !b.Broken() {
		t.Fatal("Broken = false")
	}
	if _, err := b.Wait(t.Context()); !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Fatalf("Wait on a broken barrier: %v", err)
	}
	b.Reset()
	if b.Broken() {
		t.Fatal("Broken after Reset")
	}
	go func() { _, err := b.Wait(t.Context()); done <- err }()
	for b.NWaiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	b.Abort()
	if err := <-done; !errors.Is(err, mp.ErrBrokenBarrier) {
		t.Fatalf("Wait across Abort: %v", err)
	}
}

func TestSyncBadInput(t *testing.T) {
	for _, n := range []int{-1, 0} {
		if _, err := mp.NewBarrier(n); !errors.Is(err, mp.ErrInvalid) {
			t.Errorf("NewBarrier(%d): %v", n, err)
		}
		if _, err := mp.NewBoundedSemaphore(n); !errors.Is(err, mp.ErrInvalid) {
			t.Errorf("NewBoundedSemaphore(%d): %v", n, err)
		}
	}
	if _, err := mp.NewSemaphore(-1); !errors.Is(err, mp.ErrInvalid) {
		t.Errorf("NewSemaphore(-1): %v", err)
	}
	var zero mp.Lock
	if err := zero.Acquire(t.Context()); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("zero Lock: %v", err)
	}
	// Use after Close: ErrClosed, never a fault.
	l := must(mp.NewLock())
	rl := must(mp.NewRLock())
	s := must(mp.NewSemaphore(1))
	e := must(mp.NewEvent())
	b := must(mp.NewBarrier(2))
	c := must(mp.NewCondition(nil))
	for _, x := range []interface{ Close() error }{l, rl, s, e, b, c} {
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		if err := x.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	ctx := t.Context()
	for name, err := range map[string]error{
		"Lock.Acquire":  l.Acquire(ctx),
		"Lock.Release":  l.Release(),
		"RLock.Acquire": rl.Acquire(ctx),
		"Sem.Acquire":   s.Acquire(ctx),
		"Sem.Release":   s.Release(),
		"Event.Set":     e.Set(),
		"Event.Wait":    e.Wait(ctx),
		"Barrier.Abort": b.Abort(),
		"Cond.Wait":     c.Wait(ctx),
		"Cond.Notify":   c.Notify(1),
	} {
		if !errors.Is(err, mp.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, err := b.Wait(ctx); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("Barrier.Wait after Close: %v", err)
	}
	if l.TryAcquire() || rl.TryAcquire() || s.TryAcquire() {
		t.Error("TryAcquire after Close succeeded")
	}
}
