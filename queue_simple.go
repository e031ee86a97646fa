package mp

import (
	"context"

	"github.com/mpgo/mp/internal/wire"
)

// SimpleQueue is Python's multiprocessing.SimpleQueue: an unbounded FIFO between
// goroutines and processes, with only Put, Get and Close. It is a Queue without a bound
// and without Len; it moves items the same way, with the same guarantees (see Queue).
//
// A SimpleQueue is safe for concurrent use. The zero value is not usable; call
// NewSimpleQueue.
type SimpleQueue[T any] struct {
	q *queueShared
}

// NewSimpleQueue creates a SimpleQueue. WithBufferSize and WithMaxItemBytes apply;
// WithMaxSize is an error.
func NewSimpleQueue[T any](opts ...QueueOption) (*SimpleQueue[T], error) {
	s, err := newQueueShared("simple queue", queueConfig{simpleErr: "mp: NewSimpleQueue: a SimpleQueue has no WithMaxSize"}, opts)
	if err != nil {
		return nil, err
	}
	return &SimpleQueue[T]{q: s}, nil
}

// Put adds v to the queue. It waits only while the shared buffer is full (see Queue.Put).
func (q *SimpleQueue[T]) Put(ctx context.Context, v T) error { return queuePut(ctx, q.q, v, true) }

// Get removes and returns the oldest item, waiting for one (see Queue.Get).
func (q *SimpleQueue[T]) Get(ctx context.Context) (T, error) { return queueGet[T](ctx, q.q, true) }

// TryGet removes and returns the oldest item, or fails with ErrEmpty.
func (q *SimpleQueue[T]) TryGet() (T, error) { return queueGet[T](nil, q.q, false) }

// Empty reports whether the queue is empty: a snapshot, as Python's empty().
func (q *SimpleQueue[T]) Empty() bool { return q.q == nil || q.q.ring.Len() == 0 }

// Close closes the queue for every process (see Queue.Close). Idempotent.
func (q *SimpleQueue[T]) Close() error {
	if q.q != nil {
		q.q.ring.Close()
	}
	return nil
}

// WireFiles lets a SimpleQueue travel to a child Process.
func (q *SimpleQueue[T]) WireFiles() []*wire.File { return q.q.wireFiles() }

// MarshalCBOR encodes the queue as a reference to its shared memory.
func (q *SimpleQueue[T]) MarshalCBOR() ([]byte, error) { return q.q.marshal(false) }

// UnmarshalCBOR maps the queue in the process it was passed to.
func (q *SimpleQueue[T]) UnmarshalCBOR(b []byte) error {
	s, err := queueUnmarshal(b, false)
	if err != nil {
		return err
	}
	q.q = s
	return nil
}
