package mgrproto

import (
	"context"
	"errors"
	"testing"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

type harness struct {
	t   *testing.T
	s   *State
	seq uint64
}

func newHarness(t *testing.T) *harness { return &harness{t: t, s: NewState()} }

func enc(t *testing.T, vs ...any) []wire.RawMessage {
	t.Helper()
	out := make([]wire.RawMessage, len(vs))
	for i, v := range vs {
		b, err := wire.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// do sends req from conn c, returning its Seq and all replies.
func (h *harness) do(c ConnID, req Request) (uint64, []Reply) {
	h.seq++
	req.Seq = h.seq
	// Round-trip the request through its encoding, as the server does.
	b, err := AppendRequestFrame(nil, &req)
	if err != nil {
		h.t.Fatal(err)
	}
	dec, err := DecodeRequest(b[wire.HeaderSize:])
	if err != nil {
		h.t.Fatal(err)
	}
	return h.seq, h.s.Handle(c, dec)
}

// call expects exactly one reply, to c.
func (h *harness) call(c ConnID, req Request) Response {
	h.t.Helper()
	seq, out := h.do(c, req)
	if len(out) != 1 || out[0].Conn != c || out[0].Resp.Seq != seq {
		h.t.Fatalf("%s: want one reply to conn %d seq %d, got %+v", req.Op, c, seq, out)
	}
	return out[0].Resp
}

func (h *harness) ok(c ConnID, req Request) Response {
	h.t.Helper()
	r := h.call(c, req)
	if r.Err != nil {
		h.t.Fatalf("%s: %v", req.Op, errs.Decode(r.Err))
	}
	return r
}

func (h *harness) create(kind string, n int64, args ...wire.RawMessage) uint64 {
	h.t.Helper()
	r := h.ok(1, Request{Op: OpCreate, Name: kind, Int: n, Args: args})
	return uint64(r.Int)
}

func dec[T any](t *testing.T, b wire.RawMessage) T {
	t.Helper()
	var v T
	if err := wire.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDictMixedKeysKeepOrder(t *testing.T) {
	h := newHarness(t)
	d := h.create(KindDict, 0)
	h.ok(1, Request{Op: OpSet, Obj: d, Args: enc(t, 1, "1")})
	h.ok(2, Request{Op: OpSet, Obj: d, Args: enc(t, "2", 2)})
	h.ok(1, Request{Op: OpSet, Obj: d, Args: enc(t, 0.25, nil)})
	h.ok(1, Request{Op: OpSet, Obj: d, Args: enc(t, int64(1), "one")}) // same key as 1
	r := h.ok(1, Request{Op: OpItems, Obj: d})
	if len(r.Vals) != 6 {
		t.Fatalf("items: %d values", len(r.Vals))
	}
	if k := dec[any](t, r.Vals[0]); k != int64(1) || dec[string](t, r.Vals[1]) != "one" {
		t.Fatalf("first item %v", k)
	}
	if dec[string](t, r.Vals[2]) != "2" || dec[float64](t, r.Vals[4]) != 0.25 || dec[any](t, r.Vals[5]) != nil {
		t.Fatal("order or values wrong")
	}
	if r := h.ok(1, Request{Op: OpGet, Obj: d, Args: enc(t, "missing")}); r.OK {
		t.Fatal("missing key found")
	}
	if r := h.ok(1, Request{Op: OpGetOrSet, Obj: d, Args: enc(t, "2", 5)}); !r.OK || dec[int](t, r.Vals[0]) != 2 {
		t.Fatal("getorset of present key")
	}
	if r := h.ok(1, Request{Op: OpGetOrSet, Obj: d, Args: enc(t, "new", 5)}); r.OK || dec[int](t, r.Vals[0]) != 5 {
		t.Fatal("getorset of new key")
	}
	for i := range 100 {
		h.ok(1, Request{Op: OpSet, Obj: d, Args: enc(t, i+10, i)})
		h.ok(1, Request{Op: OpDelete, Obj: d, Args: enc(t, i+10)})
	}
	if r := h.ok(1, Request{Op: OpLen, Obj: d}); r.Int != 4 {
		t.Fatalf("len %d", r.Int)
	}
	r = h.ok(1, Request{Op: OpItems, Obj: d})
	if dec[string](t, r.Vals[6]) != "new" {
		t.Fatal("order lost after compaction")
	}
}

func TestListOps(t *testing.T) {
	h := newHarness(t)
	l := h.create(KindList, 0, enc(t, 0, 1, 2, 3)...)
	h.ok(1, Request{Op: OpAppend, Obj: l, Args: enc(t, 4, 5)})
	h.ok(1, Request{Op: OpReverse, Obj: l})
	if v := dec[int](t, h.ok(1, Request{Op: OpGet, Obj: l, Int: -1}).Vals[0]); v != 0 {
		t.Fatalf("l[-1] = %d", v)
	}
	if r := h.call(1, Request{Op: OpGet, Obj: l, Int: 6}); !errors.Is(errs.Decode(r.Err), ErrIndex) {
		t.Fatal("index error expected")
	}
	if v := dec[int](t, h.ok(1, Request{Op: OpPop, Obj: l, Int: 0}).Vals[0]); v != 5 {
		t.Fatalf("pop %d", v)
	}
	if r := h.ok(1, Request{Op: OpIndex, Obj: l, Args: enc(t, 3)}); r.Int != 1 {
		t.Fatalf("index %d", r.Int)
	}
	a := h.create(KindArray, 2, enc(t, 1.5, 2.5)...)
	if r := h.call(1, Request{Op: OpAppend, Obj: a, Args: enc(t, 1.0)}); !errors.Is(errs.Decode(r.Err), ErrBadRequest) {
		t.Fatal("append to array allowed")
	}
}

func TestLockOwnerDead(t *testing.T) {
	h := newHarness(t)
	l := h.create(KindLock, 0)
	h.ok(1, Request{Op: OpAcquire, Obj: l})
	seq, out := h.do(2, Request{Op: OpAcquire, Obj: l})
	if len(out) != 0 {
		t.Fatal("second acquire did not park")
	}
	out = h.s.Disconnect(1)
	if len(out) != 1 || out[0].Conn != 2 || out[0].Resp.Seq != seq {
		t.Fatalf("grant on owner death: %+v", out)
	}
	if err := errs.Decode(out[0].Resp.Err); !errors.Is(err, errs.ErrOwnerDead) || !out[0].Resp.OK {
		t.Fatalf("want ErrOwnerDead and the lock, got %v", err)
	}
	h.ok(2, Request{Op: OpRelease, Obj: l})
	if r := h.ok(3, Request{Op: OpAcquire, Obj: l, Try: true}); !r.OK {
		t.Fatal("lock not free")
	}
}

func TestLockCancel(t *testing.T) {
	h := newHarness(t)
	l := h.create(KindLock, 0)
	h.ok(1, Request{Op: OpAcquire, Obj: l})
	seq, _ := h.do(2, Request{Op: OpAcquire, Obj: l})
	_, out := h.do(2, Request{Op: OpCancel, Int: int64(seq)})
	if len(out) != 1 || out[0].Resp.Seq != seq || !errors.Is(errs.Decode(out[0].Resp.Err), context.Canceled) {
		t.Fatalf("cancel: %+v", out)
	}
	_, out = h.do(1, Request{Op: OpRelease, Obj: l})
	if len(out) != 1 {
		t.Fatalf("release after cancel granted a withdrawn waiter: %+v", out)
	}
}

func TestRLock(t *testing.T) {
	h := newHarness(t)
	l := h.create(KindRLock, 0)
	h.ok(1, Request{Op: OpAcquire, Obj: l, Tok: 7})
	h.ok(1, Request{Op: OpAcquire, Obj: l, Tok: 7})
	if r := h.ok(1, Request{Op: OpAcquire, Obj: l, Tok: 8, Try: true}); r.OK {
		t.Fatal("other token acquired a held rlock")
	}
	if r := h.call(2, Request{Op: OpRelease, Obj: l, Tok: 7}); !errors.Is(errs.Decode(r.Err), errs.ErrNotOwner) {
		t.Fatal("release by non-owner")
	}
	h.ok(1, Request{Op: OpRelease, Obj: l, Tok: 7})
	h.ok(1, Request{Op: OpRelease, Obj: l, Tok: 7})
	if r := h.ok(2, Request{Op: OpAcquire, Obj: l, Tok: 1, Try: true}); !r.OK {
		t.Fatal("rlock not released")
	}
}

func TestQueueBlocking(t *testing.T) {
	h := newHarness(t)
	q := h.create(KindQueue, 1)
	gseq, out := h.do(2, Request{Op: OpGet, Obj: q})
	if len(out) != 0 {
		t.Fatal("get on empty queue did not park")
	}
	_, out = h.do(1, Request{Op: OpPut, Obj: q, Args: enc(t, "a")})
	if len(out) != 2 {
		t.Fatalf("put: %+v", out)
	}
	for _, r := range out {
		if r.Conn == 2 && (r.Resp.Seq != gseq || dec[string](t, r.Resp.Vals[0]) != "a") {
			t.Fatalf("getter got %+v", r)
		}
	}
	h.ok(1, Request{Op: OpPut, Obj: q, Args: enc(t, "b")})
	if r := h.call(1, Request{Op: OpPut, Obj: q, Args: enc(t, "c"), Try: true}); !errors.Is(errs.Decode(r.Err), errs.ErrFull) {
		t.Fatal("full")
	}
	pseq, _ := h.do(1, Request{Op: OpPut, Obj: q, Args: enc(t, "c")})
	_, out = h.do(2, Request{Op: OpGet, Obj: q})
	if len(out) != 2 {
		t.Fatalf("get with parked putter: %+v", out)
	}
	_ = pseq
	if r := h.ok(2, Request{Op: OpGet, Obj: q}); dec[string](t, r.Vals[0]) != "c" {
		t.Fatal("fifo")
	}
	if r := h.call(2, Request{Op: OpGet, Obj: q, Try: true}); !errors.Is(errs.Decode(r.Err), errs.ErrEmpty) {
		t.Fatal("empty")
	}
}

func TestConditionWaitNotify(t *testing.T) {
	h := newHarness(t)
	c := h.create(KindCondition, 0)
	h.ok(1, Request{Op: OpAcquire, Obj: c, Tok: 1})
	wseq, out := h.do(1, Request{Op: OpWait, Obj: c, Tok: 1})
	if len(out) != 0 {
		t.Fatal("wait did not park")
	}
	h.ok(2, Request{Op: OpAcquire, Obj: c, Tok: 2}) // wait released the lock
	h.ok(2, Request{Op: OpNotify, Obj: c, Tok: 2, Int: 1})
	_, out = h.do(2, Request{Op: OpRelease, Obj: c, Tok: 2})
	if len(out) != 2 {
		t.Fatalf("release after notify: %+v", out)
	}
	for _, r := range out {
		if r.Conn == 1 && (r.Resp.Seq != wseq || !r.Resp.OK) {
			t.Fatalf("waiter: %+v", r)
		}
	}
	// The waiter holds the lock again; a withdrawn wait also returns holding it.
	wseq, _ = h.do(1, Request{Op: OpWait, Obj: c, Tok: 1})
	_, out = h.do(1, Request{Op: OpCancel, Int: int64(wseq)})
	if len(out) != 1 || !errors.Is(errs.Decode(out[0].Resp.Err), context.Canceled) {
		t.Fatalf("withdrawn wait: %+v", out)
	}
	h.ok(1, Request{Op: OpRelease, Obj: c, Tok: 1})
}

func TestBarrierAndEvent(t *testing.T) {
	h := newHarness(t)
	b := h.create(KindBarrier, 3)
	h.do(1, Request{Op: OpWait, Obj: b})
	h.do(2, Request{Op: OpWait, Obj: b})
	_, out := h.do(3, Request{Op: OpWait, Obj: b})
	if len(out) != 3 {
		t.Fatalf("barrier: %+v", out)
	}
	h.do(1, Request{Op: OpWait, Obj: b})
	out = h.s.Disconnect(2) // not waiting: nothing breaks
	if len(out) != 0 {
		t.Fatal(out)
	}
	out = h.s.Disconnect(1)
	if r := h.ok(3, Request{Op: OpBroken, Obj: b}); !r.OK {
		t.Fatal("barrier not broken by a dead waiter")
	}

	e := h.create(KindEvent, 0)
	h.do(1, Request{Op: OpWait, Obj: e})
	h.do(2, Request{Op: OpWait, Obj: e})
	if _, out = h.do(3, Request{Op: OpSet, Obj: e}); len(out) != 3 {
		t.Fatalf("event set: %+v", out)
	}
}

func TestSemaphoreAndValue(t *testing.T) {
	h := newHarness(t)
	s := h.create(KindBoundedSem, 1)
	h.ok(1, Request{Op: OpAcquire, Obj: s})
	if r := h.ok(1, Request{Op: OpAcquire, Obj: s, Try: true}); r.OK {
		t.Fatal("semaphore over-acquired")
	}
	h.ok(1, Request{Op: OpRelease, Obj: s})
	if r := h.call(1, Request{Op: OpRelease, Obj: s}); !errors.Is(errs.Decode(r.Err), errs.ErrTooManyCalls) {
		t.Fatal("bounded semaphore over-released")
	}
	v := h.create(KindValue, 0, enc(t, 40)...)
	if r := h.ok(1, Request{Op: OpAdd, Obj: v, Args: enc(t, 2)}); dec[int](t, r.Vals[0]) != 42 {
		t.Fatal("add")
	}
	if r := h.ok(1, Request{Op: OpAdd, Obj: v, Args: enc(t, -50)}); dec[int](t, r.Vals[0]) != -8 {
		t.Fatal("add negative")
	}
	if r := h.ok(1, Request{Op: OpCAS, Obj: v, Args: enc(t, -8, 1)}); !r.OK {
		t.Fatal("cas")
	}
	if r := h.call(1, Request{Op: OpAdd, Obj: v, Args: enc(t, "x")}); r.Err == nil {
		t.Fatal("added a string")
	}
}

func TestCustomType(t *testing.T) {
	type counter struct{ n int }
	RegisterType(&Type{
		Name: "test.counter",
		New:  func([]wire.RawMessage) (any, error) { return &counter{}, nil },
		Methods: map[string]Method{
			"inc": func(o any, args []wire.RawMessage) ([]wire.RawMessage, error) {
				o.(*counter).n++
				b, err := wire.Marshal(o.(*counter).n)
				return []wire.RawMessage{b}, err
			},
			"boom": func(any, []wire.RawMessage) ([]wire.RawMessage, error) { panic("boom") },
		},
	})
	h := newHarness(t)
	o := h.create(CustomKindPrefx+"test.counter", 0)
	h.ok(1, Request{Op: OpCall, Obj: o, Name: "inc"})
	if r := h.ok(1, Request{Op: OpCall, Obj: o, Name: "inc"}); dec[int](t, r.Vals[0]) != 2 {
		t.Fatal("inc")
	}
	if r := h.call(1, Request{Op: OpCall, Obj: o, Name: "String"}); !errors.Is(errs.Decode(r.Err), errs.ErrNotRegistered) {
		t.Fatal("unregistered method callable")
	}
	var pe *errs.PanicError
	if r := h.call(1, Request{Op: OpCall, Obj: o, Name: "boom"}); !errors.As(errs.Decode(r.Err), &pe) {
		t.Fatal("panic not reported")
	}
	if r := h.call(1, Request{Op: OpCreate, Name: CustomKindPrefx + "nope"}); !errors.Is(errs.Decode(r.Err), errs.ErrNotRegistered) {
		t.Fatal("unregistered type created")
	}
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t)
	if r := h.call(1, Request{Op: OpGet, Obj: 99}); !errors.Is(errs.Decode(r.Err), ErrNoObject) {
		t.Fatal("no object")
	}
	d := h.create(KindDict, 0)
	if r := h.call(1, Request{Op: OpAcquire, Obj: d}); !errors.Is(errs.Decode(r.Err), ErrBadRequest) {
		t.Fatal("acquire on dict")
	}
	if _, err := DecodeRequest([]byte{0xff, 0x00}); err == nil {
		t.Fatal("garbage decoded")
	}
	if _, err := DecodeRequest([]byte{0xa1, 0x02, 0x18, 0xff}); err == nil {
		t.Fatal("unknown op decoded")
	}
}

func TestPublishLookup(t *testing.T) {
	h := newHarness(t)
	q := h.create(KindQueue, 0)
	h.ok(1, Request{Op: OpPublish, Name: "jobs", Obj: q})
	r := h.ok(2, Request{Op: OpLookup, Name: "jobs"})
	if uint64(r.Int) != q || dec[string](t, r.Vals[0]) != KindQueue {
		t.Fatalf("lookup: %+v", r)
	}
	if r := h.call(2, Request{Op: OpLookup, Name: "nope"}); !errors.Is(errs.Decode(r.Err), ErrNotFound) {
		t.Fatal("lookup of a missing name")
	}
}
