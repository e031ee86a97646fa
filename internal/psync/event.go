package psync

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mp/internal/shm"
)

// Event is a flag that waiters sleep on until it is set.
type Event struct {
	Flag    uint32
	Waiters uint32
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set() {
	if atomic.SwapUint32(&e.Flag, 1) == 0 && atomic.LoadUint32(&e.Waiters) > 0 {
		shm.Wake(&e.Flag, 1<<30)
	}
}

// Clear resets the flag.
func (e *Event) Clear() { atomic.StoreUint32(&e.Flag, 0) }

// IsSet reports the flag.
func (e *Event) IsSet() bool { return atomic.LoadUint32(&e.Flag) == 1 }

// Wait returns nil once the flag is set, or ctx.Err() if ctx is done first.
func (e *Event) Wait(ctx context.Context) error {
	if e.IsSet() {
		return nil
	}
	wk := NewWaker(ctx, &e.Flag)
	defer wk.Stop()
	atomic.AddUint32(&e.Waiters, 1)
	defer atomic.AddUint32(&e.Waiters, ^uint32(0))
	for {
		if e.IsSet() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		_ = Sleep(ctx, &e.Flag, 0)
	}
}
