package ring

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// A Consumer receives one message. payload is the message's bytes: when owned is false
// they live in the ring and are valid only until the Consumer returns; when owned is
// true the caller may keep them.
type Consumer func(kind byte, payload []byte, owned bool) error

// Get takes the oldest message and hands it to fn; fn's error is Get's. The message is
// taken even when fn fails (a message that cannot be decoded must not block the queue).
// With block false Get fails with ErrEmpty instead of waiting. On a closed ring Get
// returns what is left, then ErrClosed.
func (r *Ring) Get(ctx context.Context, block bool, fn Consumer) error {
	h := r.h
	if err := checkCtx(ctx); err != nil {
		return err
	}
	for {
		if r.empty() {
			if r.Closed() && r.empty() {
				return ErrClosed
			}
			if !block {
				return ErrEmpty
			}
			err := wait(ctx, &h.dataSeq, &h.dataWaiters, func() bool { return !r.empty() || r.Closed() }, nil)
			if err != nil {
				return err
			}
			continue
		}
		ok, err := h.rlock.acquire(ctx, r.pid, block)
		if err != nil {
			return err
		}
		if !ok {
			return ErrEmpty
		}
		got, err := r.take(fn)
		h.rlock.unlock()
		if got {
			if !r.empty() {
				notify(&h.dataSeq, &h.dataWaiters, 1)
			}
			return err
		}
		if err != nil {
			return err
		}
	}
}

func (r *Ring) empty() bool {
	head := atomic.LoadUint64(&r.h.head)
	if r.seenTail.Load() > head {
		return false
	}
	tail := atomic.LoadUint64(&r.h.tail)
	r.seenTail.Store(tail)
	return tail == head
}

type chunk struct {
	n     int
	flags byte
	kind  byte
	body  []byte
	next  uint64 // head after this chunk
}

// peek reads the chunk at head, if any.
func (r *Ring) peek() (chunk, bool, error) {
	h := r.h
	head := atomic.LoadUint64(&h.head)
	tail := r.seenTail.Load()
	if tail <= head {
		tail = atomic.LoadUint64(&h.tail)
		r.seenTail.Store(tail)
		if head == tail {
			return chunk{}, false, nil
		}
	}
	b := r.at(head)
	n := int(*(*uint32)(unsafe.Pointer(&b[0])))
	if tail-head > h.capacity || uint64(n)+chunkHdr > uint64(len(b)) || chunkHdr+align8(uint64(n)) > tail-head {
		return chunk{}, false, ErrCorrupt
	}
	return chunk{n: n, flags: b[4], kind: b[5], body: b[chunkHdr : chunkHdr+n], next: head + chunkHdr + align8(uint64(n))}, true, nil
}

// consume moves head past c.
func (r *Ring) consume(c chunk, last bool) {
	h := r.h
	if last {
		atomic.AddUint64(&h.gets, 1)
	}
	atomic.StoreUint64(&h.head, c.next)
	notify(&h.spaceSeq, &h.spaceWaiters, 1<<30)
}

// take, with the read lock held, takes one message. It reports false when the ring
// turned out to hold no message.
func (r *Ring) take(fn Consumer) (bool, error) {
	h := r.h
	if atomic.LoadUint32(&h.rmid) != 0 {
		// The previous reader died in the middle of a streamed message: drop the rest.
		if _, _, err := r.readRest(nil, true); err != nil {
			return false, err
		}
	}
	for {
		c, ok, err := r.peek()
		if !ok || err != nil {
			return false, err
		}
		switch {
		case c.flags&(fPad|fAbort) != 0 || c.flags&fFirst == 0:
			// padding, an abort outside a message, or the rest of a dropped message
			r.consume(c, c.flags&(fPad|fAbort) == 0 && c.flags&fLast != 0)
		case c.flags&fLast != 0:
			err := fn(c.kind, c.body, false)
			r.consume(c, true)
			return true, err
		default:
			if c.n < 8 {
				return false, ErrCorrupt
			}
			total := binary.LittleEndian.Uint64(c.body)
			if total > h.maxMsg || uint64(c.n-8) > total {
				return false, ErrCorrupt
			}
			var buf []byte
			if r.alloc != nil {
				buf = r.alloc(int(total))[:0]
			} else {
				buf = make([]byte, 0, total)
			}
			buf = append(buf, c.body[8:]...)
			atomic.StoreUint32(&h.rmid, 1)
			r.consume(c, false)
			buf, done, err := r.readRest(buf, false)
			if err != nil {
				return false, err
			}
			if done {
				if uint64(len(buf)) != total {
					return true, ErrCorrupt
				}
				return true, fn(c.kind, buf, true)
			}
			// the writer abandoned it: read on
		}
	}
}

// readRest reads the remaining chunks of a streamed message into buf (or drops them).
// It reports whether the message was complete (false: it was aborted).
func (r *Ring) readRest(buf []byte, discard bool) ([]byte, bool, error) {
	h := r.h
	for {
		c, ok, err := r.peek()
		if err != nil {
			return buf, false, err
		}
		if !ok {
			// A streamed message's reader waits for its writer without regard to ctx: the
			// writer either finishes, aborts, or dies and is repaired here.
			err := wait(nil, &h.dataSeq, &h.dataWaiters, func() bool { return !r.empty() || r.writerGone() }, r.repairDeadWriter)
			if err != nil {
				return buf, false, err
			}
			if r.empty() && r.writerGone() {
				r.repairDeadWriter()
			}
			continue
		}
		switch {
		case c.flags&fPad != 0:
			r.consume(c, false)
		case c.flags&fAbort != 0 || c.flags&fFirst != 0:
			// aborted; a new message (never expected here) is left for the caller
			if c.flags&fAbort != 0 {
				r.consume(c, false)
			}
			atomic.StoreUint32(&h.rmid, 0)
			return nil, false, nil
		default:
			if !discard {
				if uint64(len(buf))+uint64(c.n) > uint64(cap(buf)) {
					return buf, false, ErrCorrupt
				}
				buf = append(buf, c.body...)
			}
			last := c.flags&fLast != 0
			if last {
				atomic.StoreUint32(&h.rmid, 0)
			}
			r.consume(c, last)
			if last {
				return buf, !discard, nil
			}
		}
	}
}

// writerGone reports whether a streamed message's writer let go of it: it released the
// write lock, or died holding it, without finishing.
func (r *Ring) writerGone() bool {
	h := r.h
	if atomic.LoadUint32(&h.wmid) == 0 {
		return false
	}
	o := atomic.LoadUint32(&h.wlock.owner)
	return o == 0
}

// repairDeadWriter, called by a reader waiting inside a streamed message, ends the
// message if its writer gave up or died.
func (r *Ring) repairDeadWriter() {
	h := r.h
	if atomic.LoadUint32(&h.wmid) == 0 {
		return
	}
	if !h.wlock.tryLock(r.pid) && !h.wlock.reap(r.pid) {
		return
	}
	// The ring is empty (the reader is waiting), so the abort fits.
	if atomic.LoadUint32(&h.wmid) != 0 && r.writeAbort() {
		atomic.StoreUint32(&h.wmid, 0)
	}
	h.wlock.unlock()
}
