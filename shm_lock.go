package mp

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/mpgo/mp/internal/psync"
	"github.com/mpgo/mp/internal/wire"
)

// Cross-process synchronisation. Each primitive lives in a small anonymous shared-memory
// segment (a memfd), so it works between goroutines of every process it was passed to:
// pass it to a child Process as (part of) its argument. The memory is freed by the kernel
// when the last process holding it exits or closes it.
//
// Every blocking call takes a ctx and returns ctx.Err() without side effect when ctx ends
// first. All are futex-based: an uncontended Acquire or Release is one atomic compare-and-
// swap, no system call.
//
// # Owner death
//
// A Lock or RLock records its holder's pid. A waiter that has slept for a while (about
// 50 ms) checks whether the holder is still alive; if the holder died (killed, crashed,
// exited) while holding the lock, the waiter takes the lock over and Acquire returns an
// error matching ErrOwnerDead: the lock IS held by the caller then, and must be released
// as usual. What the dead holder was protecting may be half-updated: only the lock is
// recovered, not the data. The same holds for Semaphore units held by a dead process (up
// to the initial value's worth are tracked, per process, in the segment) and for Barrier
// parties that died while waiting (the barrier breaks). TryAcquire never recovers: it
// reports false while a dead process holds the lock. A pid reused by a new process before
// a waiter checks looks alive; recovery then waits for that process to exit.

// A Lock is a non-recursive mutual-exclusion lock that works across processes, Python's
// multiprocessing.Lock. Any goroutine of any process may release it (as in Python); a
// goroutine that acquires it twice deadlocks (until ctx ends). Safe for concurrent use.
// The zero Lock is not usable: call NewLock.
type Lock struct {
	seg *shmSeg
	w   *uint32
	off int
	// borrowed locks belong to a Value or Array: Close on them does nothing.
	borrowed bool
}

// NewLock creates an unlocked Lock.
func NewLock() (*Lock, error) {
	seg, err := newShmSeg("lock", 64)
	if err != nil {
		return nil, err
	}
	return &Lock{seg: seg, w: (*uint32)(seg.at(0))}, nil
}

func (l *Lock) check() error {
	if l == nil || l.seg == nil {
		return fmt.Errorf("mp: Lock: %w (not created by NewLock)", ErrClosed)
	}
	if l.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Acquire takes the lock, blocking until it is free or ctx ends (then ctx.Err(), the
// lock not taken). If the holder died holding it, Acquire takes it over and returns an
// error matching ErrOwnerDead: the caller holds the lock then. After Close: ErrClosed.
func (l *Lock) Acquire(ctx context.Context) error {
	if err := l.check(); err != nil {
		return err
	}
	err := psync.Lock(ctx, l.w)
	if err == nil || err == ErrOwnerDead {
		l.seg.raceAcquire()
	}
	runtime.KeepAlive(l)
	return err
}

// TryAcquire takes the lock if it is free now and reports whether it did. It does not
// recover a lock whose holder died (Acquire does).
func (l *Lock) TryAcquire() bool {
	if l.check() != nil {
		return false
	}
	ok := psync.TryLock(l.w)
	if ok {
		l.seg.raceAcquire()
	}
	runtime.KeepAlive(l)
	return ok
}

// Release frees the lock. It returns ErrNotOwner if the lock is not held.
func (l *Lock) Release() error {
	if err := l.check(); err != nil {
		return err
	}
	l.seg.raceRelease()
	err := psync.Unlock(l.w)
	runtime.KeepAlive(l)
	return err
}

// Locked reports whether some goroutine of some process holds the lock now.
func (l *Lock) Locked() bool {
	if l.check() != nil {
		return false
	}
	v := psync.Owner(l.w)
	runtime.KeepAlive(l)
	return v != 0
}

// heldHere reports whether a goroutine of this process holds the lock.
func (l *Lock) heldHere() bool {
	v := psync.Owner(l.w)
	runtime.KeepAlive(l)
	return v == psync.Pid
}

// Close releases this process's hold on the lock's memory; other processes' copies keep
// working. Close is idempotent; later calls return ErrClosed. Close on the lock of a
// Value or Array does nothing: close the Value or Array.
func (l *Lock) Close() error {
	if l == nil || l.seg == nil || l.borrowed {
		return nil
	}
	return l.seg.close()
}

// WireFiles lets the Lock travel to a child Process.
func (l *Lock) WireFiles() []*wire.File {
	if l == nil {
		return nil
	}
	return l.seg.wireFiles()
}

// MarshalCBOR encodes the Lock as a reference to its shared memory.
func (l *Lock) MarshalCBOR() ([]byte, error) {
	return l.seg.marshal(shmWire{Kind: "lock", Off: l.off})
}

// UnmarshalCBOR attaches to the Lock in the process it was passed to.
func (l *Lock) UnmarshalCBOR(b []byte) error {
	w, seg, err := receiveShm(b, "lock", func(w shmWire) int { return w.Off + 4 })
	if err != nil {
		return err
	}
	*l = Lock{seg: seg, w: (*uint32)(seg.at(w.Off)), off: w.Off}
	return nil
}

// An RLock is a recursive lock owned by one goroutine of one process, Python's
// multiprocessing.RLock: its owner may acquire it again, and must release it as many
// times. Only the owner may release it (ErrNotOwner otherwise). Owning goroutines are
// told apart by their runtime id, which costs about a microsecond per call. Safe for
// concurrent use; owner death as for Lock.
type RLock struct {
	seg *shmSeg
	m   *psync.RMutex
}

// NewRLock creates an unlocked RLock.
func NewRLock() (*RLock, error) {
	seg, err := newShmSeg("rlock", shmSize(unsafe.Sizeof(psync.RMutex{})))
	if err != nil {
		return nil, err
	}
	return &RLock{seg: seg, m: (*psync.RMutex)(seg.at(0))}, nil
}

func (l *RLock) check() error {
	if l == nil || l.seg == nil {
		return fmt.Errorf("mp: RLock: %w (not created by NewRLock)", ErrClosed)
	}
	if l.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Acquire takes the lock, or takes it once more if the calling goroutine holds it.
// Errors as for Lock.Acquire (ErrOwnerDead: taken over from a dead owner, held now).
func (l *RLock) Acquire(ctx context.Context) error {
	if err := l.check(); err != nil {
		return err
	}
	err := l.m.Lock(ctx, psync.Goid())
	if err == nil || err == ErrOwnerDead {
		l.seg.raceAcquire()
	}
	runtime.KeepAlive(l)
	return err
}

// TryAcquire is Acquire without waiting; it does not recover a dead owner's lock.
func (l *RLock) TryAcquire() bool {
	if l.check() != nil {
		return false
	}
	ok := l.m.TryLock(psync.Goid())
	if ok {
		l.seg.raceAcquire()
	}
	runtime.KeepAlive(l)
	return ok
}

// Release undoes one Acquire by the calling goroutine; ErrNotOwner if it holds none.
func (l *RLock) Release() error {
	if err := l.check(); err != nil {
		return err
	}
	l.seg.raceRelease()
	err := l.m.Unlock(psync.Goid())
	runtime.KeepAlive(l)
	return err
}

// Close is as for Lock.
func (l *RLock) Close() error {
	if l == nil || l.seg == nil {
		return nil
	}
	return l.seg.close()
}

// WireFiles lets the RLock travel to a child Process.
func (l *RLock) WireFiles() []*wire.File {
	if l == nil {
		return nil
	}
	return l.seg.wireFiles()
}

// MarshalCBOR encodes the RLock as a reference to its shared memory.
func (l *RLock) MarshalCBOR() ([]byte, error) { return l.seg.marshal(shmWire{Kind: "rlock"}) }

// UnmarshalCBOR attaches to the RLock in the process it was passed to.
func (l *RLock) UnmarshalCBOR(b []byte) error {
	_, seg, err := receiveShm(b, "rlock", func(shmWire) int { return int(unsafe.Sizeof(psync.RMutex{})) })
	if err != nil {
		return err
	}
	*l = RLock{seg: seg, m: (*psync.RMutex)(seg.at(0))}
	return nil
}

// A Semaphore is a counter that Acquire decrements, waiting while it is zero, and Release
// increments: Python's multiprocessing.Semaphore, across processes. Any goroutine of any
// process may release. Units held by a process that dies are given back (see Owner
// death), and the acquirer that gets such a unit sees ErrOwnerDead. Safe for concurrent use.
type Semaphore struct {
	seg     *shmSeg
	s       *psync.Sem
	bounded bool
}

// NewSemaphore creates a Semaphore with the given initial value (>= 0).
func NewSemaphore(value int) (*Semaphore, error) { return newSemaphore(value, false) }

// NewBoundedSemaphore creates a Semaphore that may not be released above its initial
// value (> 0): such a Release returns ErrTooManyCalls. Python's BoundedSemaphore.
func NewBoundedSemaphore(value int) (*Semaphore, error) { return newSemaphore(value, true) }

func newSemaphore(value int, bounded bool) (*Semaphore, error) {
	if value < 0 || value > 1<<30 || (bounded && value == 0) {
		return nil, fmt.Errorf("mp: new semaphore: %w: initial value %d", ErrInvalid, value)
	}
	seg, err := newShmSeg("semaphore", shmSize(unsafe.Sizeof(psync.Sem{})))
	if err != nil {
		return nil, err
	}
	s := (*psync.Sem)(seg.at(0))
	max := uint32(0)
	if bounded {
		max = uint32(value)
	}
	s.Init(uint32(value), max)
	return &Semaphore{seg: seg, s: s, bounded: bounded}, nil
}

func (s *Semaphore) check() error {
	if s == nil || s.seg == nil {
		return fmt.Errorf("mp: Semaphore: %w (not created by NewSemaphore)", ErrClosed)
	}
	if s.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Acquire takes one unit, waiting while there is none until ctx ends (ctx.Err(), nothing
// taken). ErrOwnerDead: the unit taken came back from a process that died holding it.
func (s *Semaphore) Acquire(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	err := s.s.Acquire(ctx)
	if err == nil || err == ErrOwnerDead {
		s.seg.raceAcquire()
	}
	runtime.KeepAlive(s)
	return err
}

// TryAcquire takes one unit if one is free now and reports whether it did.
func (s *Semaphore) TryAcquire() bool {
	if s.check() != nil {
		return false
	}
	ok, _ := s.s.TryAcquire()
	if ok {
		s.seg.raceAcquire()
	}
	runtime.KeepAlive(s)
	return ok
}

// Release gives one unit back. A bounded semaphore at its initial value returns
// ErrTooManyCalls and changes nothing.
func (s *Semaphore) Release() error {
	if err := s.check(); err != nil {
		return err
	}
	s.seg.raceRelease()
	err := s.s.Release()
	runtime.KeepAlive(s)
	return err
}

// Value returns the number of free units now (Python's get_value).
func (s *Semaphore) Value() int {
	if s.check() != nil {
		return 0
	}
	v := s.s.Get()
	runtime.KeepAlive(s)
	return int(v)
}

// Close is as for Lock.
func (s *Semaphore) Close() error {
	if s == nil || s.seg == nil {
		return nil
	}
	return s.seg.close()
}

// WireFiles lets the Semaphore travel to a child Process.
func (s *Semaphore) WireFiles() []*wire.File {
	if s == nil {
		return nil
	}
	return s.seg.wireFiles()
}

// MarshalCBOR encodes the Semaphore as a reference to its shared memory.
func (s *Semaphore) MarshalCBOR() ([]byte, error) {
	return s.seg.marshal(shmWire{Kind: "semaphore", Raw: s.bounded})
}

// UnmarshalCBOR attaches to the Semaphore in the process it was passed to.
func (s *Semaphore) UnmarshalCBOR(b []byte) error {
	w, seg, err := receiveShm(b, "semaphore", func(shmWire) int { return int(unsafe.Sizeof(psync.Sem{})) })
	if err != nil {
		return err
	}
	*s = Semaphore{seg: seg, s: (*psync.Sem)(seg.at(0)), bounded: w.Raw}
	return nil
}
