// Package ring is the transport behind mp's queues: a multi-producer, multi-consumer
// ring of bytes in a shared-memory segment, with futex wake-ups after a short spin, so
// that the common Put and Get make no system call.
//
// # Layout
//
// The segment starts with a header (one cache line per word group that one side writes)
// and continues with a power-of-two ring of bytes. Producers append chunks at tail,
// consumers take them at head; both are byte positions that only grow. A chunk is an
// 8-byte header (payload length, flags, payload kind) and the payload, padded to 8 bytes.
// A message is one chunk (flags first|last) or, when it is larger than a quarter of the
// ring, a run of chunks (first, middle..., last) that streams through the ring while the
// consumer reads it: there is no size cliff, only the configured maximum.
//
// # Locks and dead peers
//
// One producer at a time holds the write lock and one consumer at a time the read lock.
// A lock word holds its owner's pid; a waiter that sleeps past a tick checks whether the
// owner is still alive and takes the lock over from a dead one. Each side keeps a "mid
// message" word that is set while a multi-chunk message is being written or read, and
// cleared when it is done; whoever takes over a lock with that word set repairs the ring:
//
//   - a producer that died (or gave up) mid-message is followed by an abort chunk, so the
//     consumer drops the partial message and reads on;
//   - a consumer that died mid-message is followed by one that skips the rest of it.
//
// A single-chunk message is published by one store of tail, and consumed by one store
// of head after the consumer has decoded it: a consumer killed before that store leaves
// the message in the ring for the next consumer; one killed after it took the message
// with it. A consumer killed in the middle of a multi-chunk message loses that message
// only. No other message is ever lost or corrupted.
package ring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/shm"
)

const (
	magic   = 0x6d707172 // "mpqr"
	version = 1

	headerSize = 4096 // the ring starts on its own page
	chunkHdr   = 8

	// MinCapacity and DefaultCapacity are ring sizes in bytes.
	MinCapacity     = 64 << 10
	DefaultCapacity = 8 << 20
)

// chunk flags
const (
	fFirst  = 1
	fLast   = 2
	fPad    = 4 // filler up to the end of the ring; skip it
	fAbort  = 8 // the message being streamed was abandoned; drop what was read of it
	fSingle = fFirst | fLast
)

// Errors of the ring. ErrClosed, ErrEmpty, ErrFull are mp's sentinels.
var (
	ErrCorrupt = errors.New("mp: queue memory is corrupt")
	errBadRing = errors.New("mp: not a queue segment")
)

type line [64]byte

// header is the shared layout at the start of the segment. Fields that one side writes
// on every message sit on their own cache line.
type header struct {
	magic    uint32
	version  uint32
	capacity uint64
	maxItems uint64 // 0: no bound on the number of items
	maxMsg   uint64
	closed   uint32
	_        [64 - 36]byte

	// producer line: written under the write lock
	tail uint64 // byte position of the next chunk
	puts uint64 // messages published
	wmid uint32 // a multi-chunk message is being written
	_    [64 - 20]byte

	// consumer line: written under the read lock
	head uint64
	gets uint64
	rmid uint32
	_    [64 - 20]byte

	wlock lock
	_     [64 - unsafe.Sizeof(lock{})]byte
	rlock lock
	_     [64 - unsafe.Sizeof(lock{})]byte

	dataSeq, dataWaiters   uint32 // consumers sleep here for data
	_                      [56]byte
	spaceSeq, spaceWaiters uint32 // producers sleep here for room (bytes or count)
	_                      [56]byte

	unfinished           int64 // JoinableQueue: items put and not yet marked done
	joinSeq, joinWaiters uint32
	joinable             uint32 // Put counts unfinished items
}

// A Ring is one process's view of a shared ring. Safe for concurrent use by any number of
// goroutines and processes.
type Ring struct {
	seg      *shm.Segment
	h        *header
	data     []byte
	mask     uint64
	maxChunk uint64
	pid      uint32
	alloc    func(n int) []byte // see SetStreamBuffer

	// Last values seen of the other side's position. Positions only grow, so a stale
	// value is safe (it shows less room or less data) and saves a cache miss.
	// Each on its own cache line: producers and consumers of one process write them.
	_        line
	seenHead atomic.Uint64
	_        line
	seenTail atomic.Uint64
	_        line
}

// Create makes a ring of capacity bytes (rounded up to a power of two, at least
// MinCapacity). maxItems bounds the number of messages in the ring (0: no bound);
// maxMsg bounds one message's size. A joinable ring counts unfinished items (see TaskDone).
func Create(capacity, maxItems, maxMsg int, joinable bool) (*Ring, error) {
	if capacity < 0 || maxItems < 0 || maxMsg <= 0 {
		return nil, errors.New("mp: queue sizes must not be negative")
	}
	c := uint64(MinCapacity)
	for c < uint64(capacity) {
		c <<= 1
		if c > 1<<40 {
			return nil, fmt.Errorf("mp: queue buffer of %d bytes is too large", capacity)
		}
	}
	seg, err := shm.Create("queue", headerSize+int(c))
	if err != nil {
		return nil, fmt.Errorf("mp: create queue: %w", err)
	}
	r := attach(seg)
	h := r.h
	h.capacity = c
	h.maxItems = uint64(maxItems)
	h.maxMsg = uint64(maxMsg)
	h.version = version
	if joinable {
		h.joinable = 1
	}
	atomic.StoreUint32(&h.magic, magic)
	r.setup()
	return r, nil
}

// Open maps a ring from its segment's file (received from another process). It maps a
// duplicate of f: the caller keeps f.
func Open(f *os.File) (*Ring, error) {
	d, err := dup(f)
	if err != nil {
		return nil, fmt.Errorf("mp: open queue: %w", err)
	}
	seg, err := shm.Map(d)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("mp: open queue: %w", err)
	}
	if len(seg.Bytes()) < headerSize+MinCapacity {
		seg.Close()
		return nil, errBadRing
	}
	r := attach(seg)
	h := r.h
	if atomic.LoadUint32(&h.magic) != magic || h.version != version ||
		h.capacity < MinCapacity || h.capacity&(h.capacity-1) != 0 ||
		uint64(len(seg.Bytes())) != headerSize+h.capacity || h.maxMsg == 0 {
		seg.Close()
		return nil, errBadRing
	}
	r.setup()
	return r, nil
}

func attach(seg *shm.Segment) *Ring {
	return &Ring{seg: seg, h: (*header)(unsafe.Pointer(&seg.Bytes()[0])), pid: uint32(os.Getpid())}
}

func (r *Ring) setup() {
	r.data = r.seg.Bytes()[headerSize:]
	r.mask = r.h.capacity - 1
	r.maxChunk = r.h.capacity / 4
}

// File is the segment's file, to pass to another process.
func (r *Ring) File() *os.File { return r.seg.File() }

// Capacity is the ring's size in bytes.
func (r *Ring) Capacity() int { return int(r.h.capacity) }

// Joinable reports whether the ring counts unfinished items.
func (r *Ring) Joinable() bool { return r.h.joinable != 0 }

// MaxItems is the bound on the number of messages (0: none).
func (r *Ring) MaxItems() int { return int(r.h.maxItems) }

// MaxMessage is the largest message accepted.
func (r *Ring) MaxMessage() int { return int(r.h.maxMsg) }

// Release unmaps this process's view. Other processes keep theirs.
func (r *Ring) Release() error { return r.seg.Close() }

// Len is the number of messages published and not yet taken: exact when no Put or Get
// is running, approximate otherwise.
func (r *Ring) Len() int {
	g := atomic.LoadUint64(&r.h.gets)
	p := atomic.LoadUint64(&r.h.puts)
	if p < g {
		return 0
	}
	return int(p - g)
}

// Close marks the ring closed for every process: Puts fail with ErrClosed, Gets drain
// what is left and then fail with ErrClosed. Idempotent.
func (r *Ring) Close() {
	if atomic.SwapUint32(&r.h.closed, 1) == 0 {
		r.wakeAll()
	}
}

// Closed reports whether Close was called in any process.
func (r *Ring) Closed() bool { return atomic.LoadUint32(&r.h.closed) != 0 }

func (r *Ring) wakeAll() {
	for _, w := range []*uint32{&r.h.dataSeq, &r.h.spaceSeq, &r.h.joinSeq} {
		atomic.AddUint32(w, 1)
		shm.Wake(w, 1<<30)
	}
	r.h.wlock.wakeAll()
	r.h.rlock.wakeAll()
}

// Sentinels shared with package mp.
var (
	ErrClosed = errs.ErrClosed
	ErrEmpty  = errs.ErrEmpty
	ErrFull   = errs.ErrFull
)

// chunk header helpers

func (r *Ring) at(pos uint64) []byte { return r.data[pos&r.mask:] }

func putChunkHdr(b []byte, n int, flags, kind byte) {
	*(*uint32)(unsafe.Pointer(&b[0])) = uint32(n)
	b[4], b[5], b[6], b[7] = flags, kind, 0, 0
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// checkCtx is the cheap ctx test on the fast path.
func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}
