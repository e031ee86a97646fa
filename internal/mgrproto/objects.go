package mgrproto

import (
	"bytes"
	"math"
	"slices"
	"sort"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// dict keeps insertion order; keys compare by their CBOR encoding.
type dict struct {
	noWaiters
	idx        map[string]int
	keys, vals []wire.RawMessage // keys[i] == nil: deleted slot
}

func newDict() *dict { return &dict{idx: map[string]int{}} }

func (d *dict) set(k, v wire.RawMessage) {
	if i, ok := d.idx[string(k)]; ok {
		d.vals[i] = v
		return
	}
	d.idx[string(k)] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

func (d *dict) del(k wire.RawMessage) (wire.RawMessage, bool) {
	i, ok := d.idx[string(k)]
	if !ok {
		return nil, false
	}
	v := d.vals[i]
	delete(d.idx, string(k))
	d.keys[i], d.vals[i] = nil, nil
	if len(d.keys) > 2*len(d.idx)+16 {
		d.compact()
	}
	return v, true
}

func (d *dict) compact() {
	n := 0
	for i, k := range d.keys {
		if k != nil {
			d.keys[n], d.vals[n] = k, d.vals[i]
			d.idx[string(k)] = n
			n++
		}
	}
	clear(d.keys[n:])
	clear(d.vals[n:])
	d.keys, d.vals = d.keys[:n], d.vals[:n]
}

func (d *dict) handle(s *State, c ConnID, req *Request) (Response, bool) {
	a := req.Args
	switch req.Op {
	case OpSet:
		if len(a) != 2 {
			break
		}
		d.set(a[0], a[1])
		return Response{OK: true}, false
	case OpGet, OpHas:
		if len(a) != 1 {
			break
		}
		if i, ok := d.idx[string(a[0])]; ok {
			if req.Op == OpHas {
				return Response{OK: true}, false
			}
			return Response{OK: true, Vals: []wire.RawMessage{d.vals[i]}}, false
		}
		return Response{}, false
	case OpDelete, OpPop:
		if len(a) != 1 {
			break
		}
		v, ok := d.del(a[0])
		if !ok {
			return Response{}, false
		}
		if req.Op == OpPop {
			return Response{OK: true, Vals: []wire.RawMessage{v}}, false
		}
		return Response{OK: true}, false
	case OpGetOrSet:
		if len(a) != 2 {
			break
		}
		if i, ok := d.idx[string(a[0])]; ok {
			return Response{OK: true, Vals: []wire.RawMessage{d.vals[i]}}, false
		}
		d.set(a[0], a[1])
		return Response{Vals: []wire.RawMessage{a[1]}}, false
	case OpUpdate:
		if len(a)%2 != 0 {
			break
		}
		for i := 0; i < len(a); i += 2 {
			d.set(a[i], a[i+1])
		}
		return Response{OK: true}, false
	case OpLen:
		return Response{OK: true, Int: int64(len(d.idx))}, false
	case OpItems:
		out := make([]wire.RawMessage, 0, 2*len(d.idx))
		for i, k := range d.keys {
			if k != nil {
				out = append(out, k, d.vals[i])
			}
		}
		return Response{OK: true, Vals: out}, false
	case OpClear:
		d.idx = map[string]int{}
		d.keys, d.vals = nil, nil
		return Response{OK: true}, false
	default:
		return unsupported(req, "dict"), false
	}
	return errResp(req.Seq, badf("dict %s: wrong number of arguments", req.Op)), false
}

// list is a List, or an Array when fixed (no length changes).
type list struct {
	noWaiters
	vals  []wire.RawMessage
	fixed bool
}

// index resolves a Python-style index (negative counts from the end).
func index(i int64, n int) (int, bool) {
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, false
	}
	return int(i), true
}

func (l *list) handle(s *State, c ConnID, req *Request) (Response, bool) {
	a := req.Args
	kind := "list"
	if l.fixed {
		kind = "array"
	}
	switch req.Op {
	case OpGet:
		i, ok := index(req.Int, len(l.vals))
		if !ok {
			return errResp(0, ErrIndex), false
		}
		return Response{OK: true, Vals: []wire.RawMessage{l.vals[i]}}, false
	case OpSet:
		if len(a) != 1 {
			break
		}
		i, ok := index(req.Int, len(l.vals))
		if !ok {
			return errResp(0, ErrIndex), false
		}
		l.vals[i] = a[0]
		return Response{OK: true}, false
	case OpLen:
		return Response{OK: true, Int: int64(len(l.vals))}, false
	case OpItems:
		return Response{OK: true, Vals: slices.Clone(l.vals)}, false
	case OpUpdate: // replace all values (same length for an array)
		if l.fixed && len(a) != len(l.vals) {
			return errResp(0, badf("array of %d set with %d values", len(l.vals), len(a))), false
		}
		l.vals = slices.Clone(a)
		return Response{OK: true}, false
	case OpReverse:
		slices.Reverse(l.vals)
		return Response{OK: true}, false
	case OpIndex, OpCount:
		if len(a) != 1 {
			break
		}
		n := 0
		for i, v := range l.vals {
			if bytes.Equal(v, a[0]) {
				if req.Op == OpIndex {
					return Response{OK: true, Int: int64(i)}, false
				}
				n++
			}
		}
		if req.Op == OpIndex {
			return errResp(0, ErrNotFound), false
		}
		return Response{OK: true, Int: int64(n)}, false
	}
	if l.fixed {
		return unsupported(req, kind), false
	}
	switch req.Op {
	case OpAppend:
		l.vals = append(l.vals, a...)
		return Response{OK: true, Int: int64(len(l.vals))}, false
	case OpInsert:
		if len(a) != 1 {
			break
		}
		i := req.Int
		if i < 0 {
			i = max(i+int64(len(l.vals)), 0)
		}
		i = min(i, int64(len(l.vals)))
		l.vals = slices.Insert(l.vals, int(i), a[0])
		return Response{OK: true}, false
	case OpPop:
		if len(l.vals) == 0 {
			return errResp(0, ErrIndex), false
		}
		i, ok := index(req.Int, len(l.vals))
		if !ok {
			return errResp(0, ErrIndex), false
		}
		v := l.vals[i]
		l.vals = slices.Delete(l.vals, i, i+1)
		return Response{OK: true, Vals: []wire.RawMessage{v}}, false
	case OpRemove:
		if len(a) != 1 {
			break
		}
		for i, v := range l.vals {
			if bytes.Equal(v, a[0]) {
				l.vals = slices.Delete(l.vals, i, i+1)
				return Response{OK: true}, false
			}
		}
		return errResp(0, ErrNotFound), false
	case OpClear:
		l.vals = nil
		return Response{OK: true}, false
	default:
		return unsupported(req, kind), false
	}
	return errResp(0, badf("%s %s: wrong number of arguments", kind, req.Op)), false
}

type namespace struct {
	noWaiters
	attrs map[string]wire.RawMessage
}

func (n *namespace) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpSet:
		if len(req.Args) != 1 {
			return errResp(0, badf("namespace set needs one value")), false
		}
		n.attrs[req.Name] = req.Args[0]
		return Response{OK: true}, false
	case OpGet:
		v, ok := n.attrs[req.Name]
		if !ok {
			return Response{}, false
		}
		return Response{OK: true, Vals: []wire.RawMessage{v}}, false
	case OpDelete:
		_, ok := n.attrs[req.Name]
		delete(n.attrs, req.Name)
		return Response{OK: ok}, false
	case OpItems:
		names := make([]string, 0, len(n.attrs))
		for k := range n.attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		out := make([]wire.RawMessage, 0, 2*len(names))
		for _, k := range names {
			enc, _ := wire.Marshal(k)
			out = append(out, enc, n.attrs[k])
		}
		return Response{OK: true, Vals: out}, false
	}
	return unsupported(req, "namespace"), false
}

type value struct {
	noWaiters
	v wire.RawMessage
}

func (v *value) handle(s *State, c ConnID, req *Request) (Response, bool) {
	a := req.Args
	switch req.Op {
	case OpGet:
		return Response{OK: true, Vals: []wire.RawMessage{v.v}}, false
	case OpSet:
		if len(a) == 1 {
			v.v = a[0]
			return Response{OK: true}, false
		}
	case OpSwap:
		if len(a) == 1 {
			old := v.v
			v.v = a[0]
			return Response{OK: true, Vals: []wire.RawMessage{old}}, false
		}
	case OpCAS:
		if len(a) == 2 {
			if !bytes.Equal(v.v, a[0]) {
				return Response{Vals: []wire.RawMessage{v.v}}, false
			}
			v.v = a[1]
			return Response{OK: true}, false
		}
	case OpAdd:
		if len(a) == 1 {
			sum, err := addNumbers(v.v, a[0])
			if err != nil {
				return errResp(0, err), false
			}
			v.v = sum
			return Response{OK: true, Vals: []wire.RawMessage{sum}}, false
		}
	default:
		return unsupported(req, "value"), false
	}
	return errResp(0, badf("value %s: wrong number of arguments", req.Op)), false
}

// addNumbers adds two CBOR numbers: integers stay integers (an overflow is an error),
// anything with a float is a float.
func addNumbers(x, y wire.RawMessage) (wire.RawMessage, error) {
	var a, b any
	if err := wire.Unmarshal(x, &a); err != nil {
		return nil, badf("value add: %v", err)
	}
	if err := wire.Unmarshal(y, &b); err != nil {
		return nil, badf("value add: %v", err)
	}
	fa, aFloat, okA := number(a)
	fb, bFloat, okB := number(b)
	if !okA || !okB {
		return nil, badf("value add: %T + %T is not a sum of numbers", a, b)
	}
	if aFloat || bFloat {
		return wire.Marshal(fa + fb)
	}
	ia, ib := toInt(a), toInt(b)
	if ia == nil || ib == nil {
		return nil, badf("value add: integer out of range")
	}
	sum := *ia + *ib
	if (*ib > 0 && sum < *ia) || (*ib < 0 && sum > *ia) {
		return nil, badf("value add: integer overflow")
	}
	return wire.Marshal(sum)
}

func number(v any) (f float64, isFloat, ok bool) {
	switch x := v.(type) {
	case uint64:
		return float64(x), false, true
	case int64:
		return float64(x), false, true
	case float64:
		return x, true, true
	case float32:
		return float64(x), true, true
	}
	return 0, false, false
}

func toInt(v any) *int64 {
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt64 {
			return nil
		}
		i := int64(x)
		return &i
	case int64:
		return &x
	}
	return nil
}

// queue is a FIFO with an optional size bound; Get and Put park when empty / full.
type queue struct {
	items   []wire.RawMessage
	head    int
	max     int // 0: unbounded
	getters []*waiter
	putters []*waiter
}

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) full() bool { return q.max > 0 && q.len() >= q.max }

func (q *queue) push(v wire.RawMessage) { q.items = append(q.items, v) }

func (q *queue) pop() wire.RawMessage {
	v := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 64 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}

func (q *queue) handle(s *State, c ConnID, req *Request) (Response, bool) {
	switch req.Op {
	case OpPut:
		if len(req.Args) != 1 {
			return errResp(0, badf("queue put needs one value")), false
		}
		if q.full() || len(q.putters) > 0 {
			if req.Try {
				return errResp(0, errs.ErrFull), false
			}
			q.putters = append(q.putters, s.park(c, req, q))
			return Response{}, true
		}
		q.push(req.Args[0])
		q.pump(s)
		return Response{OK: true}, false
	case OpGet:
		if q.len() == 0 {
			if req.Try {
				return errResp(0, errs.ErrEmpty), false
			}
			q.getters = append(q.getters, s.park(c, req, q))
			return Response{}, true
		}
		v := q.pop()
		q.pump(s)
		return Response{OK: true, Vals: []wire.RawMessage{v}}, false
	case OpLen:
		return Response{OK: true, Int: int64(q.len())}, false
	case OpItems:
		return Response{OK: true, Vals: slices.Clone(q.items[q.head:])}, false
	}
	return unsupported(req, "queue"), false
}

// pump moves items from parked putters and to parked getters while it can.
func (q *queue) pump(s *State) {
	for {
		moved := false
		for len(q.putters) > 0 && !q.full() {
			w := q.putters[0]
			q.putters = q.putters[1:]
			q.push(w.req.Args[0])
			s.finish(w, Response{OK: true})
			moved = true
		}
		for len(q.getters) > 0 && q.len() > 0 {
			w := q.getters[0]
			q.getters = q.getters[1:]
			s.finish(w, Response{OK: true, Vals: []wire.RawMessage{q.pop()}})
			moved = true
		}
		if !moved {
			return
		}
	}
}

func (q *queue) cancel(s *State, w *waiter) {
	q.getters = removeWaiter(q.getters, w)
	q.putters = removeWaiter(q.putters, w)
	s.finishCanceled(w)
	q.pump(s)
}

func (q *queue) disconnect(s *State, c ConnID) {
	q.getters = dropWaiters(q.getters, c)
	q.putters = dropWaiters(q.putters, c)
	q.pump(s)
}

func (q *queue) free(s *State) {
	s.failAll(q.getters)
	s.failAll(q.putters)
	q.getters, q.putters = nil, nil
}
