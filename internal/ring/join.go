package ring

import (
	"context"
	"sync/atomic"

	"github.com/mpgo/mp/internal/errs"
)

// ErrTaskDone is returned by TaskDone called more times than messages were put.
var ErrTaskDone = errs.ErrTooManyCalls

// Unfinished is the number of messages put on a joinable ring and not yet marked done.
func (r *Ring) Unfinished() int { return int(atomic.LoadInt64(&r.h.unfinished)) }

// TaskDone marks one message as processed.
func (r *Ring) TaskDone() error {
	h := r.h
	for {
		u := atomic.LoadInt64(&h.unfinished)
		if u <= 0 {
			return ErrTaskDone
		}
		if atomic.CompareAndSwapInt64(&h.unfinished, u, u-1) {
			if u == 1 {
				notify(&h.joinSeq, &h.joinWaiters, 1<<30)
			}
			return nil
		}
	}
}

// Join waits until every message put has been marked done.
func (r *Ring) Join(ctx context.Context) error {
	h := r.h
	return wait(ctx, &h.joinSeq, &h.joinWaiters, func() bool { return atomic.LoadInt64(&h.unfinished) <= 0 }, nil)
}
