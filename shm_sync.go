package mp

import (
	"context"
	"errors"
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
	w, err := unmarshalShmWire(b, "lock")
	if err != nil {
		return err
	}
	seg, err := attachShmSeg("lock", w.ID, w.Off+4)
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
	w, err := unmarshalShmWire(b, "rlock")
	if err != nil {
		return err
	}
	seg, err := attachShmSeg("rlock", w.ID, int(unsafe.Sizeof(psync.RMutex{})))
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
	w, err := unmarshalShmWire(b, "semaphore")
	if err != nil {
		return err
	}
	seg, err := attachShmSeg("semaphore", w.ID, int(unsafe.Sizeof(psync.Sem{})))
	if err != nil {
		return err
	}
	*s = Semaphore{seg: seg, s: (*psync.Sem)(seg.at(0)), bounded: w.Raw}
	return nil
}

// CondLock is the lock a Condition waits with: a *Lock or an *RLock.
type CondLock interface {
	Acquire(ctx context.Context) error
	TryAcquire() bool
	Release() error
}

// A Condition lets goroutines of any process wait until another notifies them, Python's
// multiprocessing.Condition. Wait, WaitFor, Notify and NotifyAll must be called with the
// Condition's lock held by the caller (ErrNotOwner otherwise). Notify(n) wakes the n
// longest waiters; a waiter whose ctx ended no longer counts, but one whose process died
// while waiting may absorb one wake-up. Safe for concurrent use.
type Condition struct {
	seg      *shmSeg
	c        *psync.Cond
	lock     CondLock
	ownsLock bool
}

// NewCondition creates a Condition over lock, a *Lock or an *RLock from this package; nil
// makes a new RLock, as Python does. The Condition does not own a lock passed in.
func NewCondition(lock CondLock) (*Condition, error) {
	owned := false
	switch lock.(type) {
	case *Lock, *RLock:
	case nil:
		rl, err := NewRLock()
		if err != nil {
			return nil, err
		}
		lock, owned = rl, true
	default:
		return nil, fmt.Errorf("mp: new condition: %w: lock of type %T (want *mp.Lock or *mp.RLock)", ErrInvalid, lock)
	}
	seg, err := newShmSeg("condition", shmSize(unsafe.Sizeof(psync.Cond{})))
	if err != nil {
		if owned {
			lock.(*RLock).Close()
		}
		return nil, err
	}
	return &Condition{seg: seg, c: (*psync.Cond)(seg.at(0)), lock: lock, ownsLock: owned}, nil
}

func (c *Condition) check() error {
	if c == nil || c.seg == nil {
		return fmt.Errorf("mp: Condition: %w (not created by NewCondition)", ErrClosed)
	}
	if c.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Lock returns the Condition's lock.
func (c *Condition) Lock() CondLock { return c.lock }

// Acquire takes the Condition's lock (see Lock.Acquire).
func (c *Condition) Acquire(ctx context.Context) error { return c.lock.Acquire(ctx) }

// TryAcquire takes the Condition's lock if it is free now.
func (c *Condition) TryAcquire() bool { return c.lock.TryAcquire() }

// Release releases the Condition's lock.
func (c *Condition) Release() error { return c.lock.Release() }

// Wait releases the lock, sleeps until a Notify wakes it or ctx ends, then takes the lock
// back (even when ctx ended, as Python does) and returns nil or ctx.Err(). ErrOwnerDead
// means retaking the lock recovered it from a dead holder (held now).
func (c *Condition) Wait(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	defer runtime.KeepAlive(c)
	g := uint64(0)
	switch l := c.lock.(type) {
	case *Lock:
		if err := l.check(); err != nil {
			return err
		}
		if !l.heldHere() {
			return fmt.Errorf("mp: condition wait: %w", ErrNotOwner)
		}
		t := c.c.Register()
		if err := l.Release(); err != nil {
			return err
		}
		werr := c.c.Await(ctx, t)
		if err := l.Acquire(context.Background()); err != nil {
			return err
		}
		return werr
	case *RLock:
		if err := l.check(); err != nil {
			return err
		}
		g = psync.Goid()
		if !l.m.HeldBy(g) {
			return fmt.Errorf("mp: condition wait: %w", ErrNotOwner)
		}
		t := c.c.Register()
		l.seg.raceRelease()
		n, err := l.m.UnlockAll(g)
		if err != nil {
			return err
		}
		werr := c.c.Await(ctx, t)
		err = l.m.Restore(context.Background(), g, n)
		l.seg.raceAcquire()
		runtime.KeepAlive(l)
		if err != nil {
			return err
		}
		return werr
	}
	return ErrClosed
}

// WaitFor waits until pred returns true, checking it first and after every wake-up, with
// the lock held each time. It returns nil once pred is true, or ctx.Err() (lock held).
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			if errors.Is(err, ErrOwnerDead) {
				continue
			}
			if ctx.Err() != nil && pred() {
				return nil
			}
			return err
		}
	}
	return nil
}

func (c *Condition) held() bool {
	switch l := c.lock.(type) {
	case *Lock:
		return l.check() == nil && l.heldHere()
	case *RLock:
		return l.check() == nil && l.m.HeldBy(psync.Goid())
	}
	return false
}

// Notify wakes up to n goroutines waiting on the Condition, in any process.
func (c *Condition) Notify(n int) error {
	if err := c.check(); err != nil {
		return err
	}
	if !c.held() {
		return fmt.Errorf("mp: condition notify: %w", ErrNotOwner)
	}
	if n > 0 {
		c.c.Notify(n)
	}
	runtime.KeepAlive(c)
	return nil
}

// NotifyAll wakes every goroutine waiting on the Condition.
func (c *Condition) NotifyAll() error {
	if err := c.check(); err != nil {
		return err
	}
	if !c.held() {
		return fmt.Errorf("mp: condition notify: %w", ErrNotOwner)
	}
	c.c.Notify(-1)
	runtime.KeepAlive(c)
	return nil
}

// Close closes the Condition, and the RLock NewCondition(nil) made for it (in a process
// it was passed to, the Condition's copy of its lock).
func (c *Condition) Close() error {
	if c == nil || c.seg == nil {
		return nil
	}
	err := c.seg.close()
	if c.ownsLock {
		if lerr := c.lock.(interface{ Close() error }).Close(); err == nil {
			err = lerr
		}
	}
	return err
}

// WireFiles lets the Condition and its lock travel to a child Process.
func (c *Condition) WireFiles() []*wire.File {
	if c == nil {
		return nil
	}
	files := c.seg.wireFiles()
	if cr, ok := c.lock.(wire.Carrier); ok && files != nil {
		files = append(files, cr.WireFiles()...)
	}
	return files
}

// MarshalCBOR encodes the Condition and its lock as references to their shared memory.
func (c *Condition) MarshalCBOR() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("mp: pass condition: %w", err)
	}
	var lw shmWire
	switch l := c.lock.(type) {
	case *Lock:
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("mp: pass condition: %w", err)
		}
		lw = shmWire{Kind: "lock", ID: l.seg.file.ID, Off: l.off}
	case *RLock:
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("mp: pass condition: %w", err)
		}
		lw = shmWire{Kind: "rlock", ID: l.seg.file.ID}
	}
	return c.seg.marshal(shmWire{Kind: "condition", Lock: &lw})
}

// UnmarshalCBOR attaches to the Condition and its lock in the process it was passed to.
func (c *Condition) UnmarshalCBOR(b []byte) error {
	w, err := unmarshalShmWire(b, "condition")
	if err != nil {
		return err
	}
	if w.Lock == nil {
		return errors.New("mp: receive condition: no lock")
	}
	lb, err := wire.Marshal(w.Lock)
	if err != nil {
		return err
	}
	var lock CondLock
	switch w.Lock.Kind {
	case "lock":
		l := new(Lock)
		if err := l.UnmarshalCBOR(lb); err != nil {
			return err
		}
		lock = l
	case "rlock":
		l := new(RLock)
		if err := l.UnmarshalCBOR(lb); err != nil {
			return err
		}
		lock = l
	default:
		return fmt.Errorf("mp: receive condition: lock kind %q", w.Lock.Kind)
	}
	seg, err := attachShmSeg("condition", w.ID, int(unsafe.Sizeof(psync.Cond{})))
	if err != nil {
		return err
	}
	*c = Condition{seg: seg, c: (*psync.Cond)(seg.at(0)), lock: lock, ownsLock: true}
	return nil
}

// An Event is a flag that goroutines of any process can wait for, Python's
// multiprocessing.Event. Safe for concurrent use.
type Event struct {
	seg *shmSeg
	e   *psync.Event
}

// NewEvent creates a clear Event.
func NewEvent() (*Event, error) {
	seg, err := newShmSeg("event", 64)
	if err != nil {
		return nil, err
	}
	return &Event{seg: seg, e: (*psync.Event)(seg.at(0))}, nil
}

func (e *Event) check() error {
	if e == nil || e.seg == nil {
		return fmt.Errorf("mp: Event: %w (not created by NewEvent)", ErrClosed)
	}
	if e.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() error {
	if err := e.check(); err != nil {
		return err
	}
	e.seg.raceRelease()
	e.e.Set()
	runtime.KeepAlive(e)
	return nil
}

// Clear resets the flag.
func (e *Event) Clear() error {
	if err := e.check(); err != nil {
		return err
	}
	e.e.Clear()
	runtime.KeepAlive(e)
	return nil
}

// IsSet reports whether the flag is set (false after Close).
func (e *Event) IsSet() bool {
	if e.check() != nil {
		return false
	}
	ok := e.e.IsSet()
	runtime.KeepAlive(e)
	return ok
}

// Wait returns nil once the flag is set, at once if it is set now, or ctx.Err() if ctx
// ends first. Python's wait(timeout) returning False is ctx.Err() here.
func (e *Event) Wait(ctx context.Context) error {
	if err := e.check(); err != nil {
		return err
	}
	err := e.e.Wait(ctx)
	if err == nil {
		e.seg.raceAcquire()
	}
	runtime.KeepAlive(e)
	return err
}

// Close is as for Lock.
func (e *Event) Close() error {
	if e == nil || e.seg == nil {
		return nil
	}
	return e.seg.close()
}

// WireFiles lets the Event travel to a child Process.
func (e *Event) WireFiles() []*wire.File {
	if e == nil {
		return nil
	}
	return e.seg.wireFiles()
}

// MarshalCBOR encodes the Event as a reference to its shared memory.
func (e *Event) MarshalCBOR() ([]byte, error) { return e.seg.marshal(shmWire{Kind: "event"}) }

// UnmarshalCBOR attaches to the Event in the process it was passed to.
func (e *Event) UnmarshalCBOR(b []byte) error {
	w, err := unmarshalShmWire(b, "event")
	if err != nil {
		return err
	}
	seg, err := attachShmSeg("event", w.ID, int(unsafe.Sizeof(psync.Event{})))
	if err != nil {
		return err
	}
	*e = Event{seg: seg, e: (*psync.Event)(seg.at(0))}
	return nil
}

// A Barrier makes a fixed number of parties, in any processes, wait for each other,
// Python's multiprocessing.Barrier (without the action callable). It is reusable: once
// all parties arrive they are released together and the next round begins. Safe for
// concurrent use.
type Barrier struct {
	seg *shmSeg
	b   *psync.Barrier
}

// NewBarrier creates a Barrier for parties (> 0) parties.
func NewBarrier(parties int) (*Barrier, error) {
	if parties <= 0 || parties > 1<<30 {
		return nil, fmt.Errorf("mp: new barrier: %w: %d parties", ErrInvalid, parties)
	}
	seg, err := newShmSeg("barrier", shmSize(unsafe.Sizeof(psync.Barrier{})))
	if err != nil {
		return nil, err
	}
	b := (*psync.Barrier)(seg.at(0))
	b.Parties = uint32(parties)
	return &Barrier{seg: seg, b: b}, nil
}

func (b *Barrier) check() error {
	if b == nil || b.seg == nil {
		return fmt.Errorf("mp: Barrier: %w (not created by NewBarrier)", ErrClosed)
	}
	if b.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Wait arrives at the barrier and blocks until all parties have arrived. It returns this
// party's arrival index, 0 to Parties()-1 (0: first to arrive). It returns an error
// matching ErrBrokenBarrier if the barrier is broken, or breaks while waiting: by Abort,
// by Reset, by a waiting party's process dying, or by a waiting party's ctx ending (that
// party's error also matches ctx.Err(); as in Python, a timeout breaks the barrier).
// A party whose process dies before it reaches Wait cannot be told from a slow one: give
// Wait a ctx deadline if that can happen.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	b.seg.raceRelease()
	i, err := b.b.Wait(ctx)
	b.seg.raceAcquire()
	runtime.KeepAlive(b)
	return i, err
}

// Abort breaks the barrier: waiting and later parties get ErrBrokenBarrier until Reset.
func (b *Barrier) Abort() error {
	if err := b.check(); err != nil {
		return err
	}
	b.b.Abort()
	runtime.KeepAlive(b)
	return nil
}

// Reset returns the barrier to its initial, empty state; parties waiting now get
// ErrBrokenBarrier.
func (b *Barrier) Reset() error {
	if err := b.check(); err != nil {
		return err
	}
	b.b.Reset()
	runtime.KeepAlive(b)
	return nil
}

// Parties returns the number of parties the barrier waits for.
func (b *Barrier) Parties() int {
	if b.check() != nil {
		return 0
	}
	n := b.b.Parties
	runtime.KeepAlive(b)
	return int(n)
}

// NWaiting returns how many parties are waiting now.
func (b *Barrier) NWaiting() int {
	if b.check() != nil {
		return 0
	}
	n := b.b.NWaiting()
	runtime.KeepAlive(b)
	return n
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool {
	if b.check() != nil {
		return false
	}
	ok := b.b.IsBroken()
	runtime.KeepAlive(b)
	return ok
}

// Close is as for Lock.
func (b *Barrier) Close() error {
	if b == nil || b.seg == nil {
		return nil
	}
	return b.seg.close()
}

// WireFiles lets the Barrier travel to a child Process.
func (b *Barrier) WireFiles() []*wire.File {
	if b == nil {
		return nil
	}
	return b.seg.wireFiles()
}

// MarshalCBOR encodes the Barrier as a reference to its shared memory.
func (b *Barrier) MarshalCBOR() ([]byte, error) { return b.seg.marshal(shmWire{Kind: "barrier"}) }

// UnmarshalCBOR attaches to the Barrier in the process it was passed to.
func (b *Barrier) UnmarshalCBOR(bs []byte) error {
	w, err := unmarshalShmWire(bs, "barrier")
	if err != nil {
		return err
	}
	seg, err := attachShmSeg("barrier", w.ID, int(unsafe.Sizeof(psync.Barrier{})))
	if err != nil {
		return err
	}
	*b = Barrier{seg: seg, b: (*psync.Barrier)(seg.at(0))}
	return nil
}
