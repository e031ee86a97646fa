//go:build linux

package psync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

// deadPid is beyond Linux's largest pid_max, so no process has it.
const deadPid = 1<<22 + 1

func TestAlive(t *testing.T) {
	if !Alive(Pid) || !Alive(1) {
		t.Fatal("this process or init looks dead")
	}
	if Alive(deadPid) || Alive(0) {
		t.Fatal("a pid nobody has looks alive")
	}
}

func TestMutexDeadOwner(t *testing.T) {
	w := uint32(deadPid)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Lock(ctx, &w); !errors.Is(err, errs.ErrOwnerDead) {
		t.Fatalf("Lock of a dead owner's mutex: %v", err)
	}
	if Owner(&w) != Pid {
		t.Fatalf("owner %d after recovery", Owner(&w))
	}
	if err := Unlock(&w); err != nil {
		t.Fatal(err)
	}
	if err := Unlock(&w); !errors.Is(err, errs.ErrNotOwner) {
		t.Fatalf("Unlock of a free mutex: %v", err)
	}
}

func TestSemTracking(t *testing.T) {
	var s Sem
	s.Init(2, 2)
	ctx := context.Background()
	for range 2 {
		if err := s.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s.Holdings[0].Pid != Pid || s.Holdings[0].N != 2 {
		t.Fatalf("holdings %+v", s.Holdings[:2])
	}
	// Pretend a dead process holds one of the units.
	s.Holdings[0].N = 1
	s.Holdings[1] = struct{ Pid, N uint32 }{deadPid, 1}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Acquire(tctx); !errors.Is(err, errs.ErrOwnerDead) {
		t.Fatalf("Acquire of a dead process's unit: %v", err)
	}
	if s.Holdings[1].N != 0 {
		t.Fatal("the dead process's holding was not cleared")
	}
	for range 2 {
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Release(); !errors.Is(err, errs.ErrTooManyCalls) {
		t.Fatalf("over-release: %v", err)
	}
	for _, h := range s.Holdings {
		if h.N != 0 {
			t.Fatalf("holdings left after releasing everything: %+v", h)
		}
	}
}

func TestBarrierDeadParty(t *testing.T) {
	var b Barrier
	b.Parties = 3
	b.Count = 1
	b.Pids[0] = deadPid
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Wait(ctx); !errors.Is(err, errs.ErrBrokenBarrier) {
		t.Fatalf("Wait with a dead party: %v", err)
	}
	if !b.IsBroken() {
		t.Fatal("not broken")
	}
}

func TestCondCancelledTicket(t *testing.T) {
	var c Cond
	ctx := context.Background()
	t0 := c.Register()
	t1 := c.Register()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Await(cctx, t0); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	// t0 left: one Notify must reach t1, not be spent on t0.
	if n := c.Notify(1); n != 1 {
		t.Fatalf("Notify woke %d", n)
	}
	if err := c.Await(ctx, t1); err != nil {
		t.Fatal(err)
	}
	if n := c.Notify(1); n != 0 {
		t.Fatalf("Notify with no waiter woke %d", n)
	}
}
