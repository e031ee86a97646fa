package mp

import (
	"context"
	"fmt"

	"github.com/mpgo/mp/internal/wire"
)

// JoinableQueue is Python's multiprocessing.JoinableQueue: a Queue that also counts
// unfinished items. Every Put adds one; a consumer calls TaskDone once per item it has
// processed; Join waits until the count is back to zero. The count lives in the queue's
// shared memory, so producers, consumers and joiners may be in different processes, and a
// producer that exits right after Put leaves its items counted (no feeder thread).
//
// An item taken by a consumer that is killed before its TaskDone stays unfinished: Join
// then waits until its ctx ends.
//
// A JoinableQueue is safe for concurrent use. The zero value is not usable; call
// NewJoinableQueue.
type JoinableQueue[T any] struct {
	Queue[T]
}

// NewJoinableQueue creates a JoinableQueue; the options are those of NewQueue.
func NewJoinableQueue[T any](opts ...QueueOption) (*JoinableQueue[T], error) {
	s, err := newQueueShared("joinable queue", queueConfig{joinable: true}, opts)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue[T]{Queue[T]{q: s}}, nil
}

// TaskDone marks one item taken from the queue as processed. Calling it more times than
// items were put is an error matching ErrTooManyCalls.
func (q *JoinableQueue[T]) TaskDone() error {
	if q.q == nil {
		return fmt.Errorf("mp: task done: queue not created with NewJoinableQueue: %w", ErrClosed)
	}
	if err := q.q.ring.TaskDone(); err != nil {
		return fmt.Errorf("mp: task done called more times than items were put: %w", err)
	}
	return nil
}

// Join waits until every item put has been marked done with TaskDone, or ctx ends.
func (q *JoinableQueue[T]) Join(ctx context.Context) error {
	if q.q == nil {
		return fmt.Errorf("mp: join: queue not created with NewJoinableQueue: %w", ErrClosed)
	}
	return q.q.ring.Join(ctx)
}

// Unfinished returns the number of items put and not yet marked done (a snapshot).
func (q *JoinableQueue[T]) Unfinished() int {
	if q.q == nil {
		return 0
	}
	return q.q.ring.Unfinished()
}

// MarshalCBOR encodes the queue as a reference to its shared memory.
func (q *JoinableQueue[T]) MarshalCBOR() ([]byte, error) { return q.q.marshal(true) }

// UnmarshalCBOR maps the queue in the process it was passed to.
func (q *JoinableQueue[T]) UnmarshalCBOR(b []byte) error {
	s, err := queueUnmarshal(b, true)
	if err != nil {
		return err
	}
	q.q = s
	return nil
}

// WireFiles lets a JoinableQueue travel to a child Process.
func (q *JoinableQueue[T]) WireFiles() []*wire.File { return q.q.wireFiles() }
