package psync

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/shm"
)

// SemSlots is how many processes' holdings a semaphore tracks for owner-death recovery.
const SemSlots = 60

// Sem is a counting semaphore. Guard protects every other field; Value is also the word
// waiters sleep on. Holdings records, per process, units acquired and not yet released,
// at most Tracked units in all (the initial value), so a dead process's units go back.
type Sem struct {
	Guard     uint32
	Value     uint32
	Max       uint32 // 0: unbounded
	Tracked   uint32
	Waiters   uint32
	Recovered uint32 // units given back from dead processes, not yet re-acquired
	_         [2]uint32
	Holdings  [SemSlots]struct{ Pid, N uint32 }
}

func (s *Sem) guard()   { _ = Lock(context.Background(), &s.Guard) }
func (s *Sem) unguard() { _ = Unlock(&s.Guard) }

// Init sets the initial value; max 0 means unbounded.
func (s *Sem) Init(value, max uint32) {
	s.Value, s.Max, s.Tracked = value, max, value
}

// takeLocked takes one unit if there is one.
func (s *Sem) takeLocked() (bool, error) {
	v := atomic.LoadUint32(&s.Value)
	if v == 0 {
		return false, nil
	}
	atomic.StoreUint32(&s.Value, v-1)
	s.track()
	if s.Recovered > 0 {
		s.Recovered--
		return true, errs.ErrOwnerDead
	}
	return true, nil
}

// Acquire takes one unit, waiting as ctx allows. errs.ErrOwnerDead means the unit taken
// was given back from a process that died holding it (the unit IS held).
func (s *Sem) Acquire(ctx context.Context) error {
	s.guard()
	if ok, err := s.takeLocked(); ok {
		s.unguard()
		return err
	}
	s.unguard()
	if err := ctx.Err(); err != nil {
		return err
	}
	wk := NewWaker(ctx, &s.Value)
	defer wk.Stop()
	for {
		s.guard()
		if ok, err := s.takeLocked(); ok {
			s.unguard()
			return err
		}
		if err := ctx.Err(); err != nil {
			s.unguard()
			return err
		}
		s.Waiters++
		s.unguard()
		err := Sleep(ctx, &s.Value, 0)
		s.guard()
		s.Waiters--
		if errors.Is(err, shm.ErrTimeout) {
			s.recoverLocked()
		}
		s.unguard()
	}
}

// TryAcquire takes one unit if one is free now.
func (s *Sem) TryAcquire() (bool, error) {
	s.guard()
	defer s.unguard()
	return s.takeLocked()
}

// Release gives one unit back; errs.ErrTooManyCalls past a bounded semaphore's max.
func (s *Sem) Release() error {
	s.guard()
	defer s.unguard()
	v := atomic.LoadUint32(&s.Value)
	if s.Max > 0 && v >= s.Max {
		return errs.ErrTooManyCalls
	}
	atomic.StoreUint32(&s.Value, v+1)
	s.untrack()
	if s.Waiters > 0 {
		shm.Wake(&s.Value, 1)
	}
	return nil
}

// Get returns the current value.
func (s *Sem) Get() uint32 { return atomic.LoadUint32(&s.Value) }

func (s *Sem) track() {
	var sum uint32
	for _, h := range s.Holdings {
		sum += h.N
	}
	if sum >= s.Tracked {
		return
	}
	free := -1
	for i := range s.Holdings {
		h := &s.Holdings[i]
		if h.N > 0 && h.Pid == Pid {
			h.N++
			return
		}
		if h.N == 0 && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		s.Holdings[free] = struct{ Pid, N uint32 }{Pid, 1}
	}
}

// untrack drops one unit of this process's holdings, or, for a release on another
// process's behalf, one unit of someone's.
func (s *Sem) untrack() {
	other := -1
	for i := range s.Holdings {
		h := &s.Holdings[i]
		if h.N == 0 {
			continue
		}
		if h.Pid == Pid {
			h.N--
			return
		}
		if other < 0 {
			other = i
		}
	}
	if other >= 0 {
		s.Holdings[other].N--
	}
}

// recoverLocked gives back the units of dead processes.
func (s *Sem) recoverLocked() {
	var back uint32
	for i := range s.Holdings {
		h := &s.Holdings[i]
		if h.N > 0 && h.Pid != Pid && !Alive(h.Pid) {
			back += h.N
			h.N = 0
		}
	}
	if back > 0 {
		atomic.AddUint32(&s.Value, back)
		s.Recovered += back
		shm.Wake(&s.Value, int(back))
	}
}
