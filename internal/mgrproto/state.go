package mgrproto

import (
	"context"
	"fmt"
	"sync"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// ConnID names one client connection of the server.
type ConnID uint64

// Reply is a response to send on a connection. A request from one connection may complete
// requests of others (a lock release grants the lock to a waiter elsewhere).
type Reply struct {
	Conn ConnID
	Resp Response
}

// State is the set of objects a Manager holds. It is safe for concurrent use: every
// operation runs under one mutex, so each one is atomic with respect to all others.
// Blocking operations never block a caller: the request is parked in the object's wait
// queue and its reply comes out of a later Handle (or Disconnect) call.
type State struct {
	mu      sync.Mutex
	objs    map[uint64]object
	kinds   map[uint64]string
	names   map[string]uint64
	next    uint64
	waiting map[waitKey]*waiter
	parked  map[ConnID]int
	out     []Reply
}

type waitKey struct {
	conn ConnID
	seq  uint64
}

// waiter is a parked request.
type waiter struct {
	conn  ConnID
	req   *Request
	obj   object
	count int  // lock: recursion count to restore on grant (condition wait)
	cond  bool // lock: this is a condition waiter reacquiring its lock
	fail  bool // condition: the wait was withdrawn; report cancellation once reacquired
}

// object is one server-side object.
type object interface {
	// handle runs req. It returns the response, or parked=true after queueing a waiter
	// made with s.park; the object then finishes it later with s.finish.
	handle(s *State, c ConnID, req *Request) (resp Response, parked bool)
	// cancel withdraws a parked waiter; the object replies now or later.
	cancel(s *State, w *waiter)
	// disconnect drops the waiters of c (no replies) and releases what c held.
	disconnect(s *State, c ConnID)
	// free fails every waiter: the object is being dropped.
	free(s *State)
}

// NewState returns an empty object set.
func NewState() *State {
	return &State{objs: map[uint64]object{}, kinds: map[uint64]string{}, names: map[string]uint64{}, waiting: map[waitKey]*waiter{}, parked: map[ConnID]int{}}
}

// Handle runs one request of connection c and returns the replies to send. A parked
// request yields no reply now. OpCancel never has a reply of its own: the withdrawn
// request gets one (ctx's error, or its result if it had already completed).
func (s *State) Handle(c ConnID, req *Request) []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = nil
	switch req.Op {
	case OpPing, OpShutdown:
		s.reply(c, Response{Seq: req.Seq, OK: true})
	case OpCreate:
		s.reply(c, s.create(req))
	case OpFree:
		if o, ok := s.objs[req.Obj]; ok {
			delete(s.objs, req.Obj)
			delete(s.kinds, req.Obj)
			o.free(s)
		}
		s.reply(c, Response{Seq: req.Seq, OK: true})
	case OpPublish:
		if req.Obj == 0 {
			delete(s.names, req.Name)
		} else if _, ok := s.objs[req.Obj]; ok {
			s.names[req.Name] = req.Obj
		} else {
			s.reply(c, errResp(req.Seq, fmt.Errorf("%w (id %d)", ErrNoObject, req.Obj)))
			break
		}
		s.reply(c, Response{Seq: req.Seq, OK: true})
	case OpLookup:
		id, ok := s.names[req.Name]
		if _, live := s.objs[id]; !ok || !live {
			s.reply(c, errResp(req.Seq, fmt.Errorf("%w: no object published as %q", ErrNotFound, req.Name)))
			break
		}
		kind, _ := wire.Marshal(s.kinds[id])
		s.reply(c, Response{Seq: req.Seq, OK: true, Int: int64(id), Vals: []wire.RawMessage{kind}})
	case OpCancel:
		if req.Int >= 0 {
			if w, ok := s.waiting[waitKey{c, uint64(req.Int)}]; ok {
				w.obj.cancel(s, w)
			}
		}
	default:
		o, ok := s.objs[req.Obj]
		if !ok {
			s.reply(c, errResp(req.Seq, fmt.Errorf("%w (id %d)", ErrNoObject, req.Obj)))
			break
		}
		if _, dup := s.waiting[waitKey{c, req.Seq}]; dup {
			s.reply(c, errResp(req.Seq, badf("sequence number %d already in flight", req.Seq)))
			break
		}
		resp, parked := o.handle(s, c, req)
		if !parked {
			resp.Seq = req.Seq
			s.reply(c, resp)
		}
	}
	out := s.out
	s.out = nil
	return out
}

// Disconnect forgets connection c: its parked requests are dropped, locks it held are
// released and marked so that the next owner learns of it (ErrOwnerDead), barriers it
// was waiting at are broken. It returns the replies this causes on other connections.
func (s *State) Disconnect(c ConnID) []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = nil
	for k := range s.waiting {
		if k.conn == c {
			delete(s.waiting, k)
		}
	}
	delete(s.parked, c)
	for _, o := range s.objs {
		o.disconnect(s, c)
	}
	out := s.out
	s.out = nil
	return out
}

// Close fails every parked request with ErrClosed and drops all objects.
func (s *State) Close() []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = nil
	for id, o := range s.objs {
		delete(s.objs, id)
		o.free(s)
	}
	clear(s.kinds)
	clear(s.names)
	out := s.out
	s.out = nil
	return out
}

// Parked returns how many requests of connection c are parked.
func (s *State) Parked(c ConnID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parked[c]
}

// Len returns the number of objects held.
func (s *State) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objs)
}

func (s *State) reply(c ConnID, r Response) { s.out = append(s.out, Reply{Conn: c, Resp: r}) }

// park registers a waiter for req; the object keeps it in its own queue.
func (s *State) park(c ConnID, req *Request, o object) *waiter {
	w := &waiter{conn: c, req: req, obj: o}
	s.waiting[waitKey{c, req.Seq}] = w
	s.parked[c]++
	return w
}

// finish answers a parked waiter.
func (s *State) finish(w *waiter, r Response) {
	k := waitKey{w.conn, w.req.Seq}
	if _, ok := s.waiting[k]; ok {
		delete(s.waiting, k)
		if s.parked[w.conn]--; s.parked[w.conn] <= 0 {
			delete(s.parked, w.conn)
		}
	}
	r.Seq = w.req.Seq
	s.reply(w.conn, r)
}

func (s *State) finishErr(w *waiter, err error) { s.finish(w, errResp(0, err)) }

var canceledWire = errs.Encode(context.Canceled, 0)

func (s *State) finishCanceled(w *waiter) { s.finish(w, Response{Err: canceledWire}) }

// dropWaiters removes the waiters of c from q.
func dropWaiters(q []*waiter, c ConnID) []*waiter {
	out := q[:0]
	for _, w := range q {
		if w.conn != c {
			out = append(out, w)
		}
	}
	clear(q[len(out):])
	return out
}

// removeWaiter removes w from q.
func removeWaiter(q []*waiter, w *waiter) []*waiter {
	for i, x := range q {
		if x == w {
			copy(q[i:], q[i+1:])
			q[len(q)-1] = nil
			return q[:len(q)-1]
		}
	}
	return q
}

func (s *State) failAll(q []*waiter) {
	for _, w := range q {
		s.finishErr(w, errs.ErrClosed)
	}
}

func (s *State) create(req *Request) Response {
	var o object
	switch req.Name {
	case KindDict:
		d := newDict()
		if len(req.Args)%2 != 0 {
			return errResp(req.Seq, badf("dict needs key, value pairs"))
		}
		for i := 0; i < len(req.Args); i += 2 {
			d.set(req.Args[i], req.Args[i+1])
		}
		o = d
	case KindList:
		o = &list{vals: req.Args}
	case KindArray:
		if req.Int < 0 || req.Int > wire.MaxArrayElements {
			return errResp(req.Seq, badf("array length %d", req.Int))
		}
		if int64(len(req.Args)) != req.Int {
			return errResp(req.Seq, badf("array of %d needs %d initial values", req.Int, req.Int))
		}
		o = &list{vals: req.Args, fixed: true}
	case KindNamespace:
		o = &namespace{attrs: map[string]wire.RawMessage{}}
	case KindValue:
		if len(req.Args) != 1 {
			return errResp(req.Seq, badf("value needs one initial value"))
		}
		o = &value{v: req.Args[0]}
	case KindQueue:
		if req.Int < 0 {
			return errResp(req.Seq, badf("queue size %d", req.Int))
		}
		o = &queue{max: int(req.Int)}
	case KindLock:
		o = &lock{}
	case KindRLock:
		o = &lock{reentrant: true}
	case KindSemaphore, KindBoundedSem:
		if req.Int < 0 {
			return errResp(req.Seq, badf("semaphore value %d", req.Int))
		}
		sem := &semaphore{value: req.Int}
		if req.Name == KindBoundedSem {
			sem.bound = req.Int
			sem.bounded = true
		}
		o = sem
	case KindCondition:
		o = &condition{lock: lock{reentrant: true}}
	case KindEvent:
		o = &event{}
	case KindBarrier:
		if req.Int <= 0 {
			return errResp(req.Seq, badf("barrier parties %d", req.Int))
		}
		o = &barrier{parties: int(req.Int)}
	default:
		c, err := newCustom(req)
		if err != nil {
			return errResp(req.Seq, err)
		}
		o = c
	}
	s.next++
	s.objs[s.next] = o
	s.kinds[s.next] = req.Name
	return Response{Seq: req.Seq, Int: int64(s.next), OK: true}
}

// noWaiters is embedded by objects that never park a request.
type noWaiters struct{}

func (noWaiters) cancel(*State, *waiter)    {}
func (noWaiters) disconnect(*State, ConnID) {}
func (noWaiters) free(*State)               {}
func unsupported(req *Request, kind string) Response {
	return errResp(req.Seq, badf("%s does not support %s", kind, req.Op))
}
