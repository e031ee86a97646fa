package mgrproto

import (
	"bytes"
	"testing"

	"github.com/mpgo/mp/internal/wire"
)

// seedStream is a valid session: create objects of every kind and use them.
func seedStream(t testing.TB) []byte {
	var b []byte
	add := func(r Request) {
		var err error
		if b, err = AppendRequestFrame(b, &r); err != nil {
			t.Fatal(err)
		}
	}
	one, _ := wire.Marshal(1)
	two, _ := wire.Marshal("2")
	kinds := []string{KindDict, KindList, KindArray, KindNamespace, KindValue, KindQueue, KindLock,
		KindRLock, KindSemaphore, KindBoundedSem, KindCondition, KindEvent, KindBarrier}
	for i, k := range kinds {
		r := Request{Seq: uint64(i + 1), Op: OpCreate, Name: k, Int: 1}
		if k == KindValue || k == KindArray {
			r.Args = []wire.RawMessage{one}
		}
		add(r)
	}
	seq := uint64(100)
	for obj := uint64(1); obj <= uint64(len(kinds)); obj++ {
		for i := range 4 {
			op := OpGet + Op((int(obj)*5+i*7)%int(opMax-OpGet))
			seq++
			add(Request{Seq: seq, Op: op, Obj: obj, Args: []wire.RawMessage{one, two}, Int: 1, Tok: 1})
		}
	}
	add(Request{Seq: 9999, Op: OpCancel, Int: 150})
	return b
}

// FuzzHandleFrames feeds a byte stream, as a client would send it, through the server's
// frame reader, request decoder and object state. Nothing may panic, and after the
// connections go away and the state closes, no request is left parked.
func FuzzHandleFrames(f *testing.F) {
	f.Add(seedStream(f))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, KindRequest})
	f.Add(wire.AppendFrame(nil, KindRequest, []byte{0xa1, 0x02, 0x01}))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewState()
		r := bytes.NewReader(data)
		for i := 0; ; i++ {
			kind, p, err := wire.ReadFrame(r, 1<<16, nil)
			if err != nil || kind != KindRequest {
				break // the server closes the connection here
			}
			req, err := DecodeRequest(p)
			if err != nil {
				break
			}
			c := ConnID(i%3 + 1)
			for _, rep := range s.Handle(c, req) {
				if _, err := AppendResponseFrame(nil, &rep.Resp); err != nil {
					t.Fatalf("reply does not encode: %v", err)
				}
			}
		}
		for c := ConnID(1); c <= 3; c++ {
			s.Disconnect(c)
		}
		s.Close()
		if len(s.waiting) != 0 {
			t.Fatalf("%d requests still parked", len(s.waiting))
		}
	})
}
