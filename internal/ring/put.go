package ring

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// minChunk is the least contiguous room a streamed chunk waits for.
const minChunk = 4096

// SizeError is returned for a message over the ring's maximum.
type SizeError struct{ Size, Max int }

func (e *SizeError) Error() string {
	return fmt.Sprintf("mp: message of %d bytes exceeds the queue's maximum of %d", e.Size, e.Max)
}

// Put appends one message: payload p, tagged with kind (opaque to the ring). With block
// false it fails with ErrFull instead of waiting for room or for the write lock. A Put
// that returns an error has published nothing.
func (r *Ring) Put(ctx context.Context, kind byte, p []byte, block bool) error {
	h := r.h
	if len(p) > int(h.maxMsg) {
		return &SizeError{Size: len(p), Max: int(h.maxMsg)}
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	for {
		if r.Closed() {
			return ErrClosed
		}
		if !r.countRoom() {
			if !block {
				return ErrFull
			}
			err := wait(ctx, &h.spaceSeq, &h.spaceWaiters, func() bool { return r.countRoom() || r.Closed() }, nil)
			if err != nil {
				return err
			}
			continue
		}
		ok, err := h.wlock.acquire(ctx, r.pid, block)
		if err != nil {
			return err
		}
		if !ok {
			return ErrFull
		}
		if err := r.repairWrite(ctx, block); err != nil {
			h.wlock.unlock()
			return err
		}
		if r.Closed() {
			h.wlock.unlock()
			return ErrClosed
		}
		if r.countRoom() {
			break
		}
		h.wlock.unlock()
	}
	defer h.wlock.unlock()
	if chunkHdr+uint64(len(p)) <= r.maxChunk {
		return r.putSingle(ctx, kind, p, block)
	}
	return r.putStream(ctx, kind, p, block)
}

// countRoom reports whether the bound on items leaves room for one more.
func (r *Ring) countRoom() bool {
	m := r.h.maxItems
	if m == 0 {
		return true
	}
	g := atomic.LoadUint64(&r.h.gets)
	p := atomic.LoadUint64(&r.h.puts)
	return p < g || p-g < m
}

func (r *Ring) putSingle(ctx context.Context, kind byte, p []byte, block bool) error {
	need := chunkHdr + align8(uint64(len(p)))
	if _, err := r.reserve(ctx, need, need, block); err != nil {
		return err
	}
	h := r.h
	tail := atomic.LoadUint64(&h.tail)
	b := r.at(tail)
	putChunkHdr(b, len(p), fSingle, kind)
	copy(b[chunkHdr:], p)
	r.publish(tail+need, true)
	notify(&h.dataSeq, &h.dataWaiters, 1)
	return nil
}

// publish moves tail; the end of a message also counts it (before it becomes visible, so
// that Len and the item bound never undercount).
func (r *Ring) publish(tail uint64, last bool) {
	h := r.h
	if last {
		if h.joinable != 0 {
			atomic.AddInt64(&h.unfinished, 1)
		}
		atomic.AddUint64(&h.puts, 1)
	}
	atomic.StoreUint64(&h.tail, tail)
}

func (r *Ring) putStream(ctx context.Context, kind byte, p []byte, block bool) error {
	h := r.h
	atomic.StoreUint32(&h.wmid, 1)
	first := true
	for first || len(p) > 0 {
		hdr := uint64(chunkHdr)
		if first {
			hdr += 8 // the first chunk starts with the total size
		}
		want := min(hdr+align8(uint64(len(p))), r.maxChunk)
		got, err := r.reserve(ctx, want, min(want, minChunk), block)
		if err != nil {
			r.abandon()
			return err
		}
		tail := atomic.LoadUint64(&h.tail)
		b := r.at(tail)
		n := min(int(got-hdr), len(p))
		flags := byte(0)
		if first {
			flags = fFirst
			binary.LittleEndian.PutUint64(b[chunkHdr:], uint64(len(p)))
		}
		if n == len(p) && !first {
			flags |= fLast
		}
		payload := n + int(hdr-chunkHdr)
		putChunkHdr(b, payload, flags, kind)
		copy(b[hdr:], p[:n])
		p = p[n:]
		r.publish(tail+chunkHdr+align8(uint64(payload)), flags&fLast != 0)
		notify(&h.dataSeq, &h.dataWaiters, 1<<30)
		if flags&fLast != 0 {
			atomic.StoreUint32(&h.wmid, 0)
			return nil
		}
		first = false
	}
	// unreachable: a streamed message has at least two chunks
	atomic.StoreUint32(&h.wmid, 0)
	return nil
}

// abandon ends a streamed message that will not be finished: an abort chunk if there is
// room for one now, else the mid-message mark stays for the next writer (or a waiting
// reader) to repair.
func (r *Ring) abandon() {
	if r.writeAbort() {
		atomic.StoreUint32(&r.h.wmid, 0)
	}
	wakeWord(&r.h.dataSeq, 1<<30)
}

func (r *Ring) writeAbort() bool {
	h := r.h
	tail := atomic.LoadUint64(&h.tail)
	head := atomic.LoadUint64(&h.head)
	if h.capacity-(tail-head) < chunkHdr {
		return false
	}
	putChunkHdr(r.at(tail), 0, fAbort, 0)
	r.publish(tail+chunkHdr, false)
	return true
}

// repairWrite, with the write lock held, ends a message its writer abandoned.
func (r *Ring) repairWrite(ctx context.Context, block bool) error {
	h := r.h
	if atomic.LoadUint32(&h.wmid) == 0 {
		return nil
	}
	if _, err := r.reserve(ctx, chunkHdr, chunkHdr, block); err != nil {
		return err
	}
	if r.writeAbort() {
		atomic.StoreUint32(&h.wmid, 0)
		notify(&h.dataSeq, &h.dataWaiters, 1<<30)
	}
	return nil
}

// reserve waits until at least least (and up to want) contiguous bytes are free at tail,
// padding to the end of the ring when the room is at its start. It returns the room.
func (r *Ring) reserve(ctx context.Context, want, least uint64, block bool) (uint64, error) {
	h := r.h
	for {
		tail := atomic.LoadUint64(&h.tail)
		contig := h.capacity - tail&r.mask
		if head := r.seenHead.Load(); head <= tail {
			if room := min(h.capacity-(tail-head), contig); room >= least {
				return min(room, want), nil
			}
		}
		head := atomic.LoadUint64(&h.head)
		r.seenHead.Store(head)
		free := h.capacity - (tail - head)
		if room := min(free, contig); room >= least {
			return min(room, want), nil
		}
		if contig < least && free >= contig+least {
			putChunkHdr(r.at(tail), int(contig-chunkHdr), fPad, 0)
			atomic.StoreUint64(&h.tail, tail+contig)
			continue
		}
		if !block {
			return 0, ErrFull
		}
		if r.Closed() {
			return 0, ErrClosed
		}
		err := wait(ctx, &h.spaceSeq, &h.spaceWaiters, func() bool {
			f := h.capacity - (tail - atomic.LoadUint64(&h.head))
			return min(f, contig) >= least || f >= contig+least || r.Closed()
		}, nil)
		if err != nil {
			return 0, err
		}
	}
}
