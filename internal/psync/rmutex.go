package psync

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mp/internal/errs"
)

// RMutex is a recursive mutex owned by a (pid, goroutine) pair. Its State is a mutex word;
// Goid and Count are written by the owner only.
type RMutex struct {
	State uint32
	Count uint32
	Goid  uint64
}

// Lock takes the RMutex for the goroutine g, or takes it once more if g holds it.
// Errors as for Lock.
func (m *RMutex) Lock(ctx context.Context, g uint64) error {
	if m.HeldBy(g) {
		m.Count++
		return nil
	}
	err := Lock(ctx, &m.State)
	if err != nil && err != errs.ErrOwnerDead {
		return err
	}
	atomic.StoreUint64(&m.Goid, g)
	m.Count = 1
	return err
}

// TryLock is Lock without waiting; it does not recover a dead owner's lock.
func (m *RMutex) TryLock(g uint64) bool {
	if m.HeldBy(g) {
		m.Count++
		return true
	}
	if !TryLock(&m.State) {
		return false
	}
	atomic.StoreUint64(&m.Goid, g)
	m.Count = 1
	return true
}

// HeldBy reports whether goroutine g of this process holds the RMutex.
func (m *RMutex) HeldBy(g uint64) bool {
	return Owner(&m.State) == Pid && atomic.LoadUint64(&m.Goid) == g
}

// Unlock releases one level; errs.ErrNotOwner if g does not hold it.
func (m *RMutex) Unlock(g uint64) error {
	if !m.HeldBy(g) {
		return errs.ErrNotOwner
	}
	m.Count--
	if m.Count > 0 {
		return nil
	}
	atomic.StoreUint64(&m.Goid, 0)
	return Unlock(&m.State)
}

// UnlockAll releases every level held by g and returns how many there were.
func (m *RMutex) UnlockAll(g uint64) (uint32, error) {
	if !m.HeldBy(g) {
		return 0, errs.ErrNotOwner
	}
	n := m.Count
	m.Count = 0
	atomic.StoreUint64(&m.Goid, 0)
	return n, Unlock(&m.State)
}

// Restore takes the RMutex back with n levels, after UnlockAll.
func (m *RMutex) Restore(ctx context.Context, g uint64, n uint32) error {
	err := m.Lock(ctx, g)
	if err == nil || err == errs.ErrOwnerDead {
		m.Count = n
	}
	return err
}
