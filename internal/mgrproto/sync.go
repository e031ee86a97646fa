package mgrproto

import (
	"github.com/mpgo/mp/internal/errs"
)

// lock is a Lock, or an RLock when reentrant. The owner is the connection (plus, for an
// RLock, the proxy's owner token) that acquired it. When the owner's connection goes away
// while holding it, the lock is released and the next acquirer gets ErrOwnerDead (and
// holds the lock), like a robust mutex.
type lock struct {
	reentrant bool
	held      bool
	owner     ConnID
	tok       uint64
	count     int
	ownerDead bool
	waiters   []*waiter
}

func (l *lock) owns(c ConnID, tok uint64) bool {
	return l.held && l.owner == c && (!l.reentrant || l.tok == tok)
}

// take makes (c, tok) the owner and returns the response an acquirer gets.
func (l *lock) take(c ConnID, tok uint64, count int) Response {
	l.held, l.owner, l.tok, l.count = true, c, tok, count
	if l.ownerDead {
		l.ownerDead = false
		return Response{OK: true, Err: errs.Encode(errs.ErrOwnerDead, 0)}
	}
	return Response{OK: true}
}

func (l *lock) acquire(s *State, c ConnID, req *Request, o object) (Response, bool) {
	if l.reentrant && l.owns(c, req.Tok) {
		l.count++
		return Response{OK: true}, false
	}
	if !l.held && len(l.waiters) == 0 {
		return l.take(c, req.Tok, 1), false
	}
	if req.Try {
		return Response{}, false
	}
	w := s.park(c, req, o)
	w.count = 1
	l.waiters = append(l.waiters, w)
	return Response{}, true
}

func (l *lock) release(s *State, c ConnID, tok uint64) Response {
	if !l.held {
		return errResp(0, errs.ErrTooManyCalls)
	}
	if l.reentrant {
		if !l.owns(c, tok) {
			return errResp(0, errs.ErrNotOwner)
		}
		l.count--
		if l.count > 0 {
			return Response{OK: true}
		}
	}
	l.held = false
	l.grant(s)
	return Response{OK: true}
}

// grant hands a free lock to the first waiter.
func (l *lock) grant(s *State) {
	if l.held || len(l.waiters) == 0 {
		return
	}
	w := l.waiters[0]
	l.waiters = l.waiters[1:]
	r := l.take(w.conn, w.req.Tok, w.count)
	if w.fail {
		// A withdrawn condition wait: it holds the lock again, and reports ctx's error
		// (or the owner's death, which matters more).
		if r.Err == nil {
			r = Response{Err: canceledWire}
		}
		r.OK = false
	}
	s.finish(w, r)
}

func (l *lock) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpAcquire:
		return l.acquire(s, c, req, l)
	case OpRelease:
		return l.release(s, c, req.Tok), false
	case OpLocked:
		return Response{OK: l.held}, false
	}
	return unsupported(req, "lock"), false
}

func (l *lock) cancel(s *State, w *waiter) {
	l.waiters = removeWaiter(l.waiters, w)
	s.finishCanceled(w)
}

func (l *lock) disconnect(s *State, c ConnID) {
	l.waiters = dropWaiters(l.waiters, c)
	if l.held && l.owner == c {
		l.held = false
		l.ownerDead = true
		l.grant(s)
	}
}

func (l *lock) free(s *State) {
	s.failAll(l.waiters)
	l.waiters = nil
}

// semaphore is a Semaphore, or a BoundedSemaphore when bounded. It has no owner.
type semaphore struct {
	value   int64
	bound   int64
	bounded bool
	waiters []*waiter
}

func (m *semaphore) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpAcquire:
		if m.value > 0 && len(m.waiters) == 0 {
			m.value--
			return Response{OK: true}, false
		}
		if req.Try {
			return Response{}, false
		}
		m.waiters = append(m.waiters, s.park(c, req, m))
		return Response{}, true
	case OpRelease:
		n := max(req.Int, 1)
		if m.bounded && m.value+n > m.bound {
			return errResp(0, errs.ErrTooManyCalls), false
		}
		m.value += n
		for m.value > 0 && len(m.waiters) > 0 {
			w := m.waiters[0]
			m.waiters = m.waiters[1:]
			m.value--
			s.finish(w, Response{OK: true})
		}
		return Response{OK: true}, false
	case OpValue:
		return Response{OK: true, Int: m.value}, false
	}
	return unsupported(req, "semaphore"), false
}

func (m *semaphore) cancel(s *State, w *waiter) {
	m.waiters = removeWaiter(m.waiters, w)
	s.finishCanceled(w)
}

func (m *semaphore) disconnect(s *State, c ConnID) { m.waiters = dropWaiters(m.waiters, c) }

func (m *semaphore) free(s *State) {
	s.failAll(m.waiters)
	m.waiters = nil
}

// condition is a Condition over its own RLock.
type condition struct {
	lock
	notify []*waiter // waiting for Notify; then they queue for the lock
}

func (cd *condition) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpAcquire:
		return cd.acquire(s, c, req, cd)
	case OpRelease:
		return cd.release(s, c, req.Tok), false
	case OpLocked:
		return Response{OK: cd.held}, false
	case OpWait:
		if !cd.owns(c, req.Tok) {
			return errResp(0, errs.ErrNotOwner), false
		}
		w := s.park(c, req, cd)
		w.count, w.cond = cd.count, true
		cd.held = false
		cd.notify = append(cd.notify, w)
		cd.grant(s)
		return Response{}, true
	case OpNotify:
		if !cd.owns(c, req.Tok) {
			return errResp(0, errs.ErrNotOwner), false
		}
		n := int(req.Int)
		if n < 0 || n > len(cd.notify) {
			n = len(cd.notify)
		}
		cd.waiters = append(cd.waiters, cd.notify[:n]...)
		cd.notify = cd.notify[n:]
		return Response{OK: true, Int: int64(n)}, false
	}
	return unsupported(req, "condition"), false
}

func (cd *condition) cancel(s *State, w *waiter) {
	if !w.cond {
		cd.lock.cancel(s, w)
		return
	}
	// A condition wait returns holding the lock, even when withdrawn.
	w.fail = true
	for i, x := range cd.notify {
		if x == w {
			cd.notify = append(cd.notify[:i:i], cd.notify[i+1:]...)
			cd.waiters = append(cd.waiters, w)
			cd.grant(s)
			return
		}
	}
}

func (cd *condition) disconnect(s *State, c ConnID) {
	cd.notify = dropWaiters(cd.notify, c)
	cd.lock.disconnect(s, c)
}

func (cd *condition) free(s *State) {
	s.failAll(cd.notify)
	cd.notify = nil
	cd.lock.free(s)
}

type event struct {
	set     bool
	waiters []*waiter
}

func (e *event) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpSet:
		e.set = true
		for _, w := range e.waiters {
			s.finish(w, Response{OK: true})
		}
		e.waiters = nil
		return Response{OK: true}, false
	case OpClear:
		e.set = false
		return Response{OK: true}, false
	case OpIsSet:
		return Response{OK: e.set}, false
	case OpWait:
		if e.set {
			return Response{OK: true}, false
		}
		if req.Try {
			return Response{}, false
		}
		e.waiters = append(e.waiters, s.park(c, req, e))
		return Response{}, true
	}
	return unsupported(req, "event"), false
}

func (e *event) cancel(s *State, w *waiter) {
	e.waiters = removeWaiter(e.waiters, w)
	s.finishCanceled(w)
}

func (e *event) disconnect(s *State, c ConnID) { e.waiters = dropWaiters(e.waiters, c) }

func (e *event) free(s *State) {
	s.failAll(e.waiters)
	e.waiters = nil
}

// barrier releases its parties together; a withdrawn or dead waiter breaks it.
type barrier struct {
	parties int
	broken  bool
	waiters []*waiter
}

func (b *barrier) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpWait:
		if b.broken {
			return errResp(0, errs.ErrBrokenBarrier), false
		}
		if len(b.waiters)+1 < b.parties {
			b.waiters = append(b.waiters, s.park(c, req, b))
			return Response{}, true
		}
		for i, w := range b.waiters {
			s.finish(w, Response{OK: true, Int: int64(i)})
		}
		idx := len(b.waiters)
		b.waiters = nil
		return Response{OK: true, Int: int64(idx)}, false
	case OpAbort:
		b.breakAll(s)
		return Response{OK: true}, false
	case OpReset:
		b.breakAll(s)
		b.broken = false
		return Response{OK: true}, false
	case OpBroken:
		return Response{OK: b.broken}, false
	case OpParties:
		return Response{OK: true, Int: int64(b.parties)}, false
	case OpWaiting:
		return Response{OK: true, Int: int64(len(b.waiters))}, false
	}
	return unsupported(req, "barrier"), false
}

func (b *barrier) breakAll(s *State) {
	b.broken = true
	for _, w := range b.waiters {
		s.finishErr(w, errs.ErrBrokenBarrier)
	}
	b.waiters = nil
}

func (b *barrier) cancel(s *State, w *waiter) {
	b.waiters = removeWaiter(b.waiters, w)
	s.finishCanceled(w)
	b.breakAll(s)
}

func (b *barrier) disconnect(s *State, c ConnID) {
	n := len(b.waiters)
	b.waiters = dropWaiters(b.waiters, c)
	if len(b.waiters) != n {
		b.breakAll(s)
	}
}

func (b *barrier) free(s *State) {
	s.failAll(b.waiters)
	b.waiters = nil
}
