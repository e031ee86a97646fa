package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// Child functions for the cross-process tests of shared memory and the locks.

type shmCountArg struct {
	V      *mp.Value[int64]
	Go     *mp.Event // start gate, so the children overlap
	K      int
	Locked bool
}

type shmHoldArg struct {
	Lock  *mp.Lock
	RLock *mp.RLock
	Sem   *mp.Semaphore
	Bar   *mp.Barrier
	Held  *mp.Event
}

type shmCondArg struct {
	Cond   *mp.Condition
	Turn   *mp.Value[int64]
	Me     int64
	Rounds int
}

type shmBarrierArg struct {
	Bar    *mp.Barrier
	Sums   *mp.Array[int64]
	Rounds int
}

type shmEventArg struct {
	Go, Done *mp.Event
}

var (
	tShmCount = mp.RegisterErr("test.shm.count", func(a shmCountArg) (struct{}, error) {
		ctx := context.Background()
		if err := a.Go.Wait(ctx); err != nil {
			return struct{}{}, err
		}
		if a.Locked {
			l := a.V.Lock()
			for range a.K {
				if err := l.Acquire(ctx); err != nil {
					return struct{}{}, err
				}
				*a.V.Pointer() += 1
				if err := l.Release(); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		}
		// A read-modify-write that is not atomic: concurrent updates get lost.
		for range a.K {
			mp.AtomicStore(a.V, mp.AtomicLoad(a.V)+1)
		}
		return struct{}{}, nil
	})
	tShmHold = mp.RegisterErr("test.shm.hold", func(a shmHoldArg) (struct{}, error) {
		ctx := context.Background()
		var err error
		switch {
		case a.Lock != nil:
			err = a.Lock.Acquire(ctx)
		case a.RLock != nil:
			if err = a.RLock.Acquire(ctx); err == nil {
				err = a.RLock.Acquire(ctx)
			}
		case a.Sem != nil:
			err = a.Sem.Acquire(ctx)
		case a.Bar != nil:
			a.Held.Set()
			_, err = a.Bar.Wait(ctx)
			return struct{}{}, err
		}
		if err != nil {
			return struct{}{}, err
		}
		a.Held.Set()
		time.Sleep(time.Hour) // until killed
		return struct{}{}, nil
	})
	tShmCond = mp.RegisterErr("test.shm.cond", func(a shmCondArg) (struct{}, error) {
		return struct{}{}, condPingPong(context.Background(), a)
	})
	tShmBarrier = mp.RegisterErr("test.shm.barrier", func(a shmBarrierArg) (struct{}, error) {
		return struct{}{}, barrierRounds(context.Background(), a)
	})
	tShmEvent = mp.RegisterErr("test.shm.event", func(a shmEventArg) (struct{}, error) {
		if err := a.Go.Wait(context.Background()); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, a.Done.Set()
	})
	tShmValues = mp.RegisterErr("test.shm.values", func(a shmValuesArg) (struct{}, error) {
		a.F.Store(3.1415927)
		for i := range a.A.Len() {
			x, err := a.A.Get(i)
			if err != nil {
				return struct{}{}, err
			}
			if err := a.A.Set(i, -x); err != nil {
				return struct{}{}, err
			}
		}
		p := a.P.Load()
		p.X, p.Y = p.Y, p.X
		p.Tag[0] = 'z'
		a.P.Store(p)
		copy(a.M.Bytes(), "from the child")
		if a.Named != nil {
			copy(a.Named.Bytes(), "named too")
		}
		return struct{}{}, nil
	})
)

type shmPoint struct {
	X, Y float64
	Tag  [4]byte
}

type shmValuesArg struct {
	F     *mp.Value[float64]
	A     *mp.Array[int32]
	P     *mp.Value[shmPoint]
	M     *mp.SharedMemory
	Named *mp.SharedMemory
}

func condPingPong(ctx context.Context, a shmCondArg) error {
	for range a.Rounds {
		if err := a.Cond.Acquire(ctx); err != nil {
			return err
		}
		err := a.Cond.WaitFor(ctx, func() bool { return a.Turn.Load()%2 == a.Me })
		if err != nil {
			a.Cond.Release()
			return err
		}
		a.Turn.Store(a.Turn.Load() + 1)
		if err := a.Cond.NotifyAll(); err != nil {
			return err
		}
		if err := a.Cond.Release(); err != nil {
			return err
		}
	}
	return nil
}

func barrierRounds(ctx context.Context, a shmBarrierArg) error {
	for r := range a.Rounds {
		i, err := a.Bar.Wait(ctx)
		if err != nil {
			return err
		}
		l := a.Sums.Lock()
		if err := l.Acquire(ctx); err != nil {
			return err
		}
		a.Sums.Slice()[r] += int64(1 << (4 * i))
		l.Release()
	}
	return nil
}

// startShm starts fn(arg) in a child and makes sure it is gone when the test ends.
func startShm[A, R any](t *testing.T, fn *mp.Func[A, R], arg A) *mp.Process {
	t.Helper()
	p := mp.NewProcess(fn, arg)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		p.Wait(ctx)
	})
	return p
}

func waitShm(t *testing.T, ps ...*mp.Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("child %s: %v", p.Name(), err)
		}
	}
}

func TestValueCounterAcrossProcesses(t *testing.T) {
	const n, k = 4, 2000
	v := must(mp.NewValue[int64](0))
	closeLater(t, v)
	gate := must(mp.NewEvent())
	closeLater(t, gate)
	var ps []*mp.Process
	for range n {
		ps = append(ps, startShm(t, tShmCount, shmCountArg{V: v, Go: gate, K: k, Locked: true}))
	}
	gate.Set()
	waitShm(t, ps...)
	if got := v.Load(); got != n*k {
		t.Fatalf("counter = %d, want %d", got, n*k)
	}
}

// Without the lock the same counting loses updates: the lock above is what makes it exact.
func TestValueRaceWithoutLock(t *testing.T) {
	const n, k = 2, 2_000_000
	for attempt := range 5 {
		v := must(mp.NewValue[int64](0, mp.WithoutLock()))
		gate := must(mp.NewEvent())
		var ps []*mp.Process
		for range n {
			ps = append(ps, startShm(t, tShmCount, shmCountArg{V: v, Go: gate, K: k}))
		}
		gate.Set()
		waitShm(t, ps...)
		got := v.Load()
		v.Close()
		gate.Close()
		t.Logf("attempt %d: %d of %d updates lost", attempt, n*k-got, n*k)
		if got > n*k {
			t.Fatalf("counter = %d > %d", got, n*k)
		}
		if got < n*k {
			return
		}
	}
	t.Fatal("no update was ever lost without the lock: the race test cannot detect a broken lock")
}

func TestSharedValuesInChild(t *testing.T) {
	f := must(mp.NewValue(0.0))
	closeLater(t, f)
	a := must(mp.NewArrayFrom([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
	closeLater(t, a)
	p := must(mp.NewValue(shmPoint{X: 1, Y: 2, Tag: [4]byte{'a'}}))
	closeLater(t, p)
	m := must(mp.NewSharedMemory(100))
	closeLater(t, m)
	name := fmt.Sprintf("mp-test-%d", os.Getpid())
	named := must(mp.CreateSharedMemory(name, 64))
	closeLater(t, named)
	defer named.Unlink()

	waitShm(t, startShm(t, tShmValues, shmValuesArg{F: f, A: a, P: p, M: m, Named: named}))
	if got := f.Load(); got != 3.1415927 {
		t.Errorf("float = %v", got)
	}
	got, err := a.Range(0, a.Len())
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(got); s != "[0 -1 -2 -3 -4 -5 -6 -7 -8 -9]" {
		t.Errorf("array = %s", s)
	}
	if pt := p.Load(); pt.X != 2 || pt.Y != 1 || pt.Tag[0] != 'z' {
		t.Errorf("struct = %+v", pt)
	}
	if s := string(m.Bytes()[:14]); s != "from the child" {
		t.Errorf("shared memory = %q", s)
	}
	other, err := mp.OpenSharedMemory(name)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if s := string(other.Bytes()[:9]); s != "named too" {
		t.Errorf("named shared memory = %q", s)
	}
}

func TestConditionAcrossProcesses(t *testing.T) {
	for _, kind := range []string{"rlock", "lock"} {
		t.Run(kind, func(t *testing.T) {
			var lock mp.CondLock
			if kind == "lock" {
				l := must(mp.NewLock())
				closeLater(t, l)
				lock = l
			}
			c := must(mp.NewCondition(lock))
			closeLater(t, c)
			turn := must(mp.NewValue[int64](0))
			closeLater(t, turn)
			const rounds = 30
			p := startShm(t, tShmCond, shmCondArg{Cond: c, Turn: turn, Me: 1, Rounds: rounds})
			if err := condPingPong(t.Context(), shmCondArg{Cond: c, Turn: turn, Me: 0, Rounds: rounds}); err != nil {
				t.Fatal(err)
			}
			waitShm(t, p)
			if got := turn.Load(); got != 2*rounds {
				t.Fatalf("turn = %d, want %d", got, 2*rounds)
			}
		})
	}
}

func TestEventAcrossProcesses(t *testing.T) {
	gate, done := must(mp.NewEvent()), must(mp.NewEvent())
	closeLater(t, gate)
	closeLater(t, done)
	p := startShm(t, tShmEvent, shmEventArg{Go: gate, Done: done})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := done.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait before the child set it: %v", err)
	}
	gate.Set()
	ctx2, cancel2 := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel2()
	if err := done.Wait(ctx2); err != nil {
		t.Fatalf("Wait for the child: %v", err)
	}
	waitShm(t, p)
}

func TestBarrierAcrossProcesses(t *testing.T) {
	const rounds = 5
	b := must(mp.NewBarrier(3))
	closeLater(t, b)
	sums := must(mp.NewArray[int64](rounds))
	closeLater(t, sums)
	arg := shmBarrierArg{Bar: b, Sums: sums, Rounds: rounds}
	p1, p2 := startShm(t, tShmBarrier, arg), startShm(t, tShmBarrier, arg)
	if err := barrierRounds(t.Context(), arg); err != nil {
		t.Fatal(err)
	}
	waitShm(t, p1, p2)
	got, _ := sums.Range(0, rounds)
	for r, s := range got {
		// Indices 0, 1 and 2 each once per round.
		if s != 0x111 {
			t.Errorf("round %d: index sum %#x, want 0x111", r, s)
		}
	}
}

// Owner death: a child takes the primitive and is killed; the next acquirer gets it with
// ErrOwnerDead within a bounded time.
func TestOwnerDeath(t *testing.T) {
	cases := []struct {
		name    string
		arg     func(t *testing.T) shmHoldArg
		recover func(ctx context.Context, a shmHoldArg) error
	}{
		{"Lock", func(t *testing.T) shmHoldArg {
			l := must(mp.NewLock())
			closeLater(t, l)
			return shmHoldArg{Lock: l}
		}, func(ctx context.Context, a shmHoldArg) error {
			err := a.Lock.Acquire(ctx)
			if errors.Is(err, mp.ErrOwnerDead) {
				if rerr := a.Lock.Release(); rerr != nil {
					return rerr
				}
			}
			return err
		}},
		{"RLock", func(t *testing.T) shmHoldArg {
			l := must(mp.NewRLock())
			closeLater(t, l)
			return shmHoldArg{RLock: l}
		}, func(ctx context.Context, a shmHoldArg) error {
			err := a.RLock.Acquire(ctx)
			if errors.Is(err, mp.ErrOwnerDead) {
				if rerr := a.RLock.Release(); rerr != nil {
					return rerr
				}
				if a.RLock.TryAcquire() {
					a.RLock.Release()
				} else {
					return errors.New("RLock not free after the recovered hold was released")
				}
			}
			return err
		}},
		{"Semaphore", func(t *testing.T) shmHoldArg {
			s := must(mp.NewBoundedSemaphore(1))
			closeLater(t, s)
			return shmHoldArg{Sem: s}
		}, func(ctx context.Context, a shmHoldArg) error {
			err := a.Sem.Acquire(ctx)
			if errors.Is(err, mp.ErrOwnerDead) {
				if rerr := a.Sem.Release(); rerr != nil {
					return rerr
				}
			}
			return err
		}},
		{"Barrier", func(t *testing.T) shmHoldArg {
			b := must(mp.NewBarrier(3))
			closeLater(t, b)
			return shmHoldArg{Bar: b}
		}, func(ctx context.Context, a shmHoldArg) error {
			for a.Bar.NWaiting() != 1 {
				time.Sleep(time.Millisecond)
			}
			_, err := a.Bar.Wait(ctx)
			if errors.Is(err, mp.ErrBrokenBarrier) {
				return mp.ErrOwnerDead // the expected outcome, in this table's terms
			}
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.arg(t)
			a.Held = must(mp.NewEvent())
			closeLater(t, a.Held)
			p := startShm(t, tShmHold, a)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			if err := a.Held.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.name == "Barrier" {
				for a.Bar.NWaiting() != 1 {
					time.Sleep(time.Millisecond)
				}
			}
			if err := p.Kill(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err := tc.recover(ctx, a)
			if !errors.Is(err, mp.ErrOwnerDead) {
				t.Fatalf("after the holder was killed: %v, want ErrOwnerDead", err)
			}
			t.Logf("recovered in %v", time.Since(start))
			if err := p.Wait(ctx); err == nil || !strings.Contains(err.Error(), "signal") {
				t.Fatalf("killed child: %v", err)
			}
		})
	}
}
