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
	_, seg, err := receiveShm(b, "event", func(shmWire) int { return int(unsafe.Sizeof(psync.Event{})) })
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
	_, seg, err := receiveShm(bs, "barrier", func(shmWire) int { return int(unsafe.Sizeof(psync.Barrier{})) })
	if err != nil {
		return err
	}
	*b = Barrier{seg: seg, b: (*psync.Barrier)(seg.at(0))}
	return nil
}
