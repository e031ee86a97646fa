package mp

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"github.com/mpgo/mp/internal/ring"
	"github.com/mpgo/mp/internal/wire"
)

// Queue is Python's multiprocessing.Queue: a FIFO that any number of goroutines and
// processes put to and get from. Pass it to a child Process (or a Pool initializer) as
// (part of) the argument and it works there.
//
// Items travel through a ring in shared memory: Put encodes the item (CBOR; a []byte
// item is copied as it is) straight into the ring, and Get decodes it from there. A Put
// and a Get that need not wait make no system call. A waiting side spins briefly, then
// sleeps on a futex.
//
// Unlike CPython's, Put has no feeder thread: when Put returns, the item is in shared
// memory, so a process may exit (or be killed) right after its Puts without losing them
// or blocking anyone's Wait. Put blocks only while the queue is full: WithMaxSize items,
// or, for any queue, the shared buffer (WithBufferSize, 8 MiB by default) is full. An item
// larger than the buffer streams through it while a consumer reads it, so there is no
// size limit other than WithMaxItemBytes; such a Put waits for a consumer.
//
// A consumer killed inside Get loses no item but, at most, the one it was taking: if it
// died before that item was taken it stays in the queue for the next Get; if it died
// while receiving an item larger than a quarter of the buffer, that item is dropped.
// Nothing else is lost and the queue stays usable. A producer killed inside Put either
// published its item or left no trace of it.
//
// A Queue is safe for concurrent use. The zero value is not usable; call NewQueue.
type Queue[T any] struct {
	q *queueShared
}

// QueueOption configures NewQueue, NewSimpleQueue and NewJoinableQueue.
type QueueOption func(*queueConfig) error

type queueConfig struct {
	maxSize   int
	sizeSet   bool
	buffer    int
	maxItem   int
	joinable  bool
	simpleErr string
}

// WithMaxSize bounds the queue to n items (Python's maxsize): Put waits, and TryPut fails
// with ErrFull, while n items are in the queue. 0 means no bound on the count; a
// negative n is an error.
func WithMaxSize(n int) QueueOption {
	return func(c *queueConfig) error {
		if n < 0 {
			return fmt.Errorf("mp: WithMaxSize(%d): must not be negative", n)
		}
		c.maxSize, c.sizeSet = n, true
		return nil
	}
}

// WithBufferSize sets the size in bytes of the queue's shared ring (rounded up to a power
// of two, at least 64 KiB; default 8 MiB). Memory is committed as the ring is used.
func WithBufferSize(n int) QueueOption {
	return func(c *queueConfig) error {
		if n <= 0 || n > 1<<34 {
			return fmt.Errorf("mp: WithBufferSize(%d): must be between 1 and 16 GiB", n)
		}
		c.buffer = n
		return nil
	}
}

// WithMaxItemBytes sets the largest item, in encoded bytes, that Put accepts (default
// 1 GiB). A larger one fails with an error matching ErrFrameTooLarge and is not put.
func WithMaxItemBytes(n int) QueueOption {
	return func(c *queueConfig) error {
		if n <= 0 {
			return fmt.Errorf("mp: WithMaxItemBytes(%d): must be positive", n)
		}
		c.maxItem = n
		return nil
	}
}

// NewQueue creates a queue, unbounded unless WithMaxSize is given.
func NewQueue[T any](opts ...QueueOption) (*Queue[T], error) {
	s, err := newQueueShared("queue", queueConfig{}, opts)
	if err != nil {
		return nil, err
	}
	return &Queue[T]{q: s}, nil
}

// Put adds v to the queue, waiting while the queue is full. It returns ctx's error if ctx
// ends first (v is then not in the queue), ErrClosed on a closed queue, an *EncodeError
// for a value the codec refuses, and an error matching ErrFrameTooLarge for an item over
// WithMaxItemBytes.
func (q *Queue[T]) Put(ctx context.Context, v T) error { return queuePut(ctx, q.q, v, true) }

// TryPut adds v if that needs no waiting, or fails with ErrFull.
func (q *Queue[T]) TryPut(v T) error { return queuePut(nil, q.q, v, false) }

// Get removes and returns the oldest item, waiting for one. On a closed queue it returns
// the items left, then ErrClosed. It returns ctx's error if ctx ends first (no item is
// taken). An item that cannot be decoded into T is taken and reported as a *DecodeError;
// the next Get returns the next item.
func (q *Queue[T]) Get(ctx context.Context) (T, error) { return queueGet[T](ctx, q.q, true) }

// TryGet removes and returns the oldest item if there is one, or fails with ErrEmpty
// (ErrClosed on a closed, empty queue).
func (q *Queue[T]) TryGet() (T, error) { return queueGet[T](nil, q.q, false) }

// Len returns the number of items in the queue. It is exact when no Put or Get is under
// way anywhere, and otherwise a snapshot that may be out of date when it returns, like
// Python's qsize(). It counts an item larger than a quarter of the buffer only once it has
// been put completely.
func (q *Queue[T]) Len() int {
	if q.q == nil {
		return 0
	}
	return q.q.ring.Len()
}

// Close closes the queue for every process that holds it, like closing a channel: Puts
// fail with ErrClosed, Gets return the items left and then ErrClosed, and every waiting
// Put and Get wakes up. Close it when no process will put any more. Close is idempotent;
// it does not unmap the memory (consumers may still drain it), which is freed when every
// process has dropped or garbage-collected its handle, or exited.
func (q *Queue[T]) Close() error {
	if q.q == nil {
		return nil
	}
	q.q.ring.Close()
	return nil
}

// Closed reports whether Close was called, in any process.
func (q *Queue[T]) Closed() bool { return q.q == nil || q.q.ring.Closed() }

// WireFiles lets a Queue travel to a child Process.
func (q *Queue[T]) WireFiles() []*wire.File { return q.q.wireFiles() }

// MarshalCBOR encodes the Queue as a reference to its shared memory, which travels beside
// a child Process's argument.
func (q *Queue[T]) MarshalCBOR() ([]byte, error) { return q.q.marshal(false) }

// UnmarshalCBOR maps the Queue in the process it was passed to.
func (q *Queue[T]) UnmarshalCBOR(b []byte) error {
	s, err := queueUnmarshal(b, false)
	if err != nil {
		return err
	}
	q.q = s
	return nil
}

// queueShared is one process's mapping of a queue; every handle decoded in a process
// shares it, and it is released once no handle refers to it.
type queueShared struct {
	ring *ring.Ring
	file *wire.File
}

var queueMaps = struct {
	sync.Mutex
	m map[uint64]weak.Pointer[queueShared]
}{m: map[uint64]weak.Pointer[queueShared]{}}

func newQueueShared(kind string, cfg queueConfig, opts []QueueOption) (*queueShared, error) {
	cfg.buffer = ring.DefaultCapacity
	cfg.maxItem = wire.DefaultMaxFrame
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.simpleErr != "" && cfg.sizeSet {
		return nil, errors.New(cfg.simpleErr)
	}
	r, err := ring.Create(cfg.buffer, cfg.maxSize, cfg.maxItem, cfg.joinable)
	if err != nil {
		return nil, fmt.Errorf("mp: new %s: %w", kind, err)
	}
	return queueRegister(r, wire.NewFile(r.File())), nil
}

func queueRegister(r *ring.Ring, f *wire.File) *queueShared {
	queueMaps.Lock()
	defer queueMaps.Unlock()
	return queueRegisterLocked(r, f)
}

func queueRegisterLocked(r *ring.Ring, f *wire.File) *queueShared {
	s := &queueShared{ring: r, file: f}
	queueMaps.m[f.ID] = weak.Make(s)
	runtime.AddCleanup(s, func(c queueCleanup) {
		queueMaps.Lock()
		if w, ok := queueMaps.m[c.id]; ok && w.Value() == nil {
			delete(queueMaps.m, c.id)
		}
		queueMaps.Unlock()
		c.ring.Release()
	}, queueCleanup{id: f.ID, ring: r})
	return s
}

type queueCleanup struct {
	id   uint64
	ring *ring.Ring
}

func (s *queueShared) wireFiles() []*wire.File {
	if s == nil {
		return nil
	}
	return []*wire.File{s.file}
}

type queueWire struct {
	ID       uint64 `cbor:"1,keyasint"`
	Joinable bool   `cbor:"2,keyasint,omitempty"`
}

func (s *queueShared) marshal(joinable bool) ([]byte, error) {
	if s == nil {
		return nil, errors.New("mp: pass a queue: not created with NewQueue")
	}
	return wire.Marshal(queueWire{ID: s.file.ID, Joinable: joinable})
}

func queueUnmarshal(b []byte, joinable bool) (*queueShared, error) {
	var w queueWire
	if err := wire.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	if joinable && !w.Joinable {
		return nil, errors.New("mp: receive queue: a JoinableQueue cannot be made from a Queue")
	}
	queueMaps.Lock()
	defer queueMaps.Unlock()
	if wp, ok := queueMaps.m[w.ID]; ok {
		if s := wp.Value(); s != nil {
			return s, nil
		}
	}
	f, err := wire.Lookup(w.ID)
	if err != nil {
		return nil, fmt.Errorf("mp: receive queue: %w", err)
	}
	r, err := ring.Open(f)
	if err != nil {
		return nil, fmt.Errorf("mp: receive queue: %w", err)
	}
	if joinable && !r.Joinable() {
		r.Release()
		return nil, errors.New("mp: receive queue: its memory is not a JoinableQueue's")
	}
	return queueRegisterLocked(r, &wire.File{ID: w.ID, F: r.File()}), nil
}

// queueBufs recycles encode buffers.
var queueBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func queuePut[T any](ctx context.Context, s *queueShared, v T, block bool) error {
	if s == nil {
		return fmt.Errorf("mp: put: queue not created with NewQueue: %w", ErrClosed)
	}
	if b, ok := any(v).([]byte); ok && b != nil {
		return queuePutErr(s.ring.Put(ctx, wire.KindRaw, b, block))
	}
	bp := queueBufs.Get().(*[]byte)
	defer queueBufs.Put(bp)
	buf, err := wire.AppendMarshal((*bp)[:0], v)
	if err != nil {
		return err
	}
	if cap(buf) <= 64<<10 {
		*bp = buf
	}
	return queuePutErr(s.ring.Put(ctx, wire.KindCBOR, buf, block))
}

func queuePutErr(err error) error {
	var se *ring.SizeError
	if errors.As(err, &se) {
		return fmt.Errorf("mp: put: %w", &wire.FrameSizeError{Size: uint64(se.Size), Max: uint64(se.Max)})
	}
	return err
}

func queueGet[T any](ctx context.Context, s *queueShared, block bool) (T, error) {
	var out T
	if s == nil {
		return out, fmt.Errorf("mp: get: queue not created with NewQueue: %w", ErrClosed)
	}
	err := s.ring.Get(ctx, block, func(kind byte, p []byte, owned bool) error {
		switch kind {
		case wire.KindRaw:
			bp, ok := any(&out).(*[]byte)
			if !ok {
				// raw bytes are a CBOR byte string to any other T ([]any, any, ...)
				b := p
				if !owned {
					b = queueCloneBytes(p)
				}
				return queueAssignBytes(&out, b)
			}
			if owned {
				*bp = p
			} else {
				*bp = queueCloneBytes(p)
			}
			return nil
		case wire.KindCBOR:
			return wire.Unmarshal(p, &out)
		default:
			return fmt.Errorf("mp: get: unknown item kind %d", kind)
		}
	})
	return out, err
}

// queueCloneBytes copies p out of the ring. append to a nil slice allocates without
// zeroing first (make would clear the memory it is about to overwrite).
func queueCloneBytes(p []byte) []byte { return append(make([]byte, 0, 0), p...) }

// queueAssignBytes stores raw bytes into a T that is not []byte, as decoding a CBOR byte
// string would.
func queueAssignBytes[T any](out *T, b []byte) error {
	if p, ok := any(out).(*any); ok {
		*p = b
		return nil
	}
	enc, err := wire.Marshal(b)
	if err != nil {
		return err
	}
	return wire.Unmarshal(enc, out)
}
