package manager

import (
	"context"

	op "github.com/mpgo/mp/internal/mgrproto"
)

// Lock is a proxy for a lock on the manager: Python's manager.Lock(). Like Python's
// Lock it has no owner for Release (any holder of a proxy may release it), but the server
// remembers which connection acquired it: if that connection dies holding it, the lock is
// released and the next Acquire gets it with an error matching mp.ErrOwnerDead.
type Lock struct{ proxy }

func newSync[P any, PT interface {
	*P
	init(*Manager, uint64, string)
}](ctx context.Context, m *Manager, kind string, n int64) (*P, error) {
	id, err := create(ctx, m, kind, n, nil)
	if err != nil {
		return nil, err
	}
	p := PT(new(P))
	p.init(m, id, kind)
	return (*P)(p), nil
}

// NewLock creates a lock on m.
func NewLock(ctx context.Context, m *Manager) (*Lock, error) {
	return newSync[Lock](ctx, m, op.KindLock, 0)
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (l *Lock) UnmarshalCBOR(b []byte) error { return l.decode(b, op.KindLock) }

// Acquire waits for the lock. Cancelling ctx withdraws the request (ctx.Err(), not
// acquired). An error matching mp.ErrOwnerDead means the lock is held now, but its
// previous holder died holding it: what it protected may be inconsistent.
func (l *Lock) Acquire(ctx context.Context) error { return acquire(ctx, &l.proxy) }

// TryAcquire takes the lock if it is free now.
func (l *Lock) TryAcquire(ctx context.Context) (bool, error) { return tryAcquire(ctx, &l.proxy) }

// Release releases the lock; releasing an unlocked lock is an error matching
// mp.ErrTooManyCalls.
func (l *Lock) Release(ctx context.Context) error { return release(ctx, &l.proxy) }

// Locked reports whether the lock is held.
func (l *Lock) Locked(ctx context.Context) (bool, error) { return flag(ctx, &l.proxy, op.OpLocked) }

func acquire(ctx context.Context, p *proxy) error {
	resp, err := p.do(ctx, op.Request{Op: op.OpAcquire})
	if err != nil && (resp == nil || !resp.OK) {
		return err
	}
	return err // nil, or ErrOwnerDead with the lock held
}

func tryAcquire(ctx context.Context, p *proxy) (bool, error) {
	resp, err := p.do(ctx, op.Request{Op: op.OpAcquire, Try: true})
	if resp == nil {
		return false, err
	}
	return resp.OK, err
}

func release(ctx context.Context, p *proxy) error {
	_, err := p.do(ctx, op.Request{Op: op.OpRelease})
	return err
}

func flag(ctx context.Context, p *proxy, o op.Op) (bool, error) {
	resp, err := p.do(ctx, op.Request{Op: o})
	if err != nil {
		return false, err
	}
	return resp.OK, nil
}

// RLock is a proxy for a reentrant lock on the manager: Python's manager.RLock(). Its
// owner is the proxy value: the one that acquired it may acquire it again and must release
// it as often. Goroutines sharing one *RLock share ownership; a proxy decoded in another
// process is a different owner.
type RLock struct{ proxy }

// NewRLock creates a reentrant lock on m.
func NewRLock(ctx context.Context, m *Manager) (*RLock, error) {
	return newSync[RLock](ctx, m, op.KindRLock, 0)
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (l *RLock) UnmarshalCBOR(b []byte) error { return l.decode(b, op.KindRLock) }

// Acquire is Lock.Acquire, reentrant for this proxy.
func (l *RLock) Acquire(ctx context.Context) error { return acquire(ctx, &l.proxy) }

// TryAcquire takes the lock if it is free now, or already this proxy's.
func (l *RLock) TryAcquire(ctx context.Context) (bool, error) { return tryAcquire(ctx, &l.proxy) }

// Release releases one level; by a proxy that does not own it, an error matching
// mp.ErrNotOwner.
func (l *RLock) Release(ctx context.Context) error { return release(ctx, &l.proxy) }

// Semaphore is a proxy for a semaphore on the manager: Python's manager.Semaphore().
type Semaphore struct{ proxy }

// NewSemaphore creates a semaphore on m with value n.
func NewSemaphore(ctx context.Context, m *Manager, n int) (*Semaphore, error) {
	return newSync[Semaphore](ctx, m, op.KindSemaphore, int64(n))
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (s *Semaphore) UnmarshalCBOR(b []byte) error { return s.decode(b, op.KindSemaphore) }

// Acquire waits until the value is positive and decrements it. Cancelling ctx withdraws
// the request.
func (s *Semaphore) Acquire(ctx context.Context) error { return acquire(ctx, &s.proxy) }

// TryAcquire decrements the value if it is positive now.
func (s *Semaphore) TryAcquire(ctx context.Context) (bool, error) { return tryAcquire(ctx, &s.proxy) }

// Release increments the value, waking a waiter.
func (s *Semaphore) Release(ctx context.Context) error { return release(ctx, &s.proxy) }

// Value returns the current value.
func (s *Semaphore) Value(ctx context.Context) (int, error) {
	resp, err := s.do(ctx, op.Request{Op: op.OpValue})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

// BoundedSemaphore is a Semaphore whose Release fails (mp.ErrTooManyCalls) when it would
// raise the value above its initial value: Python's manager.BoundedSemaphore().
type BoundedSemaphore struct{ Semaphore }

// NewBoundedSemaphore creates a bounded semaphore on m with value n.
func NewBoundedSemaphore(ctx context.Context, m *Manager, n int) (*BoundedSemaphore, error) {
	return newSync[BoundedSemaphore](ctx, m, op.KindBoundedSem, int64(n))
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (s *BoundedSemaphore) UnmarshalCBOR(b []byte) error { return s.decode(b, op.KindBoundedSem) }

// Condition is a proxy for a condition variable with its own reentrant lock on the
// manager: Python's manager.Condition(). Ownership of its lock is per proxy value, as
// for RLock.
type Condition struct{ proxy }

// NewCondition creates a condition on m.
func NewCondition(ctx context.Context, m *Manager) (*Condition, error) {
	return newSync[Condition](ctx, m, op.KindCondition, 0)
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (c *Condition) UnmarshalCBOR(b []byte) error { return c.decode(b, op.KindCondition) }

// Acquire acquires the condition's lock.
func (c *Condition) Acquire(ctx context.Context) error { return acquire(ctx, &c.proxy) }

// TryAcquire acquires the condition's lock if it is free now.
func (c *Condition) TryAcquire(ctx context.Context) (bool, error) { return tryAcquire(ctx, &c.proxy) }

// Release releases the condition's lock.
func (c *Condition) Release(ctx context.Context) error { return release(ctx, &c.proxy) }

// Wait releases the lock (which the caller must hold), waits for Notify, and reacquires
// the lock before returning. When ctx ends first it also returns holding the lock, with
// ctx.Err().
func (c *Condition) Wait(ctx context.Context) error {
	resp, err := c.do(ctx, op.Request{Op: op.OpWait})
	if err == nil || (resp != nil && resp.OK) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Notify wakes up to n waiters. The caller must hold the lock.
func (c *Condition) Notify(ctx context.Context, n int) error {
	if n < 0 {
		n = 0
	}
	_, err := c.do(ctx, op.Request{Op: op.OpNotify, Int: int64(n)})
	return err
}

// NotifyAll wakes every waiter. The caller must hold the lock.
func (c *Condition) NotifyAll(ctx context.Context) error {
	_, err := c.do(ctx, op.Request{Op: op.OpNotify, Int: -1})
	return err
}

// Event is a proxy for an event on the manager: Python's manager.Event().
type Event struct{ proxy }

// NewEvent creates a cleared event on m.
func NewEvent(ctx context.Context, m *Manager) (*Event, error) {
	return newSync[Event](ctx, m, op.KindEvent, 0)
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (e *Event) UnmarshalCBOR(b []byte) error { return e.decode(b, op.KindEvent) }

// Set sets the flag, waking every waiter.
func (e *Event) Set(ctx context.Context) error {
	_, err := e.do(ctx, op.Request{Op: op.OpSet})
	return err
}

// Clear clears the flag.
func (e *Event) Clear(ctx context.Context) error {
	_, err := e.do(ctx, op.Request{Op: op.OpClear})
	return err
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet(ctx context.Context) (bool, error) { return flag(ctx, &e.proxy, op.OpIsSet) }

// Wait waits until the flag is set: nil, or ctx.Err() when ctx ends first.
func (e *Event) Wait(ctx context.Context) error {
	_, err := e.do(ctx, op.Request{Op: op.OpWait})
	return err
}

// Barrier is a proxy for a barrier on the manager: Python's manager.Barrier().
type Barrier struct{ proxy }

// NewBarrier creates a barrier on m for the given number of parties.
func NewBarrier(ctx context.Context, m *Manager, parties int) (*Barrier, error) {
	return newSync[Barrier](ctx, m, op.KindBarrier, int64(parties))
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (b *Barrier) UnmarshalCBOR(data []byte) error { return b.decode(data, op.KindBarrier) }

// Wait waits until all parties are waiting, and returns this party's arrival index
// (0 .. parties-1). A broken barrier — aborted, or a waiter withdrew or died — is an
// error matching mp.ErrBrokenBarrier; cancelling ctx withdraws this party and breaks it.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	resp, err := b.do(ctx, op.Request{Op: op.OpWait})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

// Abort breaks the barrier.
func (b *Barrier) Abort(ctx context.Context) error {
	_, err := b.do(ctx, op.Request{Op: op.OpAbort})
	return err
}

// Reset returns the barrier to its initial state; current waiters get ErrBrokenBarrier.
func (b *Barrier) Reset(ctx context.Context) error {
	_, err := b.do(ctx, op.Request{Op: op.OpReset})
	return err
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken(ctx context.Context) (bool, error) { return flag(ctx, &b.proxy, op.OpBroken) }

// Parties returns the number of parties.
func (b *Barrier) Parties(ctx context.Context) (int, error) {
	return count(ctx, &b.proxy, op.OpParties)
}

// Waiting returns how many parties are waiting now.
func (b *Barrier) Waiting(ctx context.Context) (int, error) {
	return count(ctx, &b.proxy, op.OpWaiting)
}

func count(ctx context.Context, p *proxy, o op.Op) (int, error) {
	resp, err := p.do(ctx, op.Request{Op: o})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}
