package mp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// tEcho sends back every message it receives, bytes as bytes and values as values.
var tEcho = mp.RegisterErr("test.echo", func(c *mp.Conn) (struct{}, error) {
	defer c.Close()
	for {
		var v any
		if err := c.Recv(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return struct{}{}, nil
			}
			return struct{}{}, err
		}
		if err := c.Send(v); err != nil {
			return struct{}{}, err
		}
	}
})

// startPiped starts fn in a child with one end of a new Pipe as its argument and returns
// the other end, closed when the test ends, and the process.
func startPiped(t testing.TB, fn *mp.Func[*mp.Conn, struct{}]) (*mp.Conn, *mp.Process) {
	t.Helper()
	parent, child, err := mp.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Close() })
	p := mp.NewProcess(fn, child)
	err = p.Start()
	child.Close() // the child holds its own copy now
	if err != nil {
		t.Fatal(err)
	}
	return parent, p
}

var tNotebookPipe = mp.Register("test.pipe", func(c *mp.Conn) {
	c.Send([]any{42, nil, "hello"})
	c.Close()
})

func TestPipeNotebook(t *testing.T) {
	parent, p := startPiped(t, tNotebookPipe)
	var got []any
	if err := parent.Recv(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != int64(42) || got[1] != nil || got[2] != "hello" {
		t.Fatalf("got %#v", got)
	}
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The child closed its end and exited: the stream ends.
	if err := parent.Recv(&got); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after peer closed = %v, want io.EOF", err)
	}
}

func TestPipeEchoChild(t *testing.T) {
	parent, p := startPiped(t, tEcho)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, b := range [][]byte{{}, {1, 2, 3}, big} {
		if err := parent.SendBytes(b); err != nil {
			t.Fatal(err)
		}
		got, err := parent.RecvBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("echo of %d bytes came back as %d bytes, different", len(b), len(got))
		}
	}
	values := []any{"", "hello", int64(7), -3.5, []any{"a", int64(1)}, map[any]any{"k": "v"}, nil}
	for _, v := range values {
		if err := parent.Send(v); err != nil {
			t.Fatal(err)
		}
		var got any
		if err := parent.Recv(&got); err != nil {
			t.Fatal(err)
		}
		if !equalAny(got, v) {
			t.Fatalf("echo of %#v came back as %#v", v, got)
		}
	}
	if ok, err := parent.Poll(0); ok || err != nil {
		t.Fatalf("Poll with nothing sent = %v, %v", ok, err)
	}
	parent.Send("x")
	if ok, err := parent.Poll(10 * time.Second); !ok || err != nil {
		t.Fatalf("Poll after echo = %v, %v", ok, err)
	}
	var s string
	if err := parent.Recv(&s); err != nil || s != "x" {
		t.Fatalf("Recv = %q, %v", s, err)
	}
	parent.Close()
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalAny)
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !equalAny(v, y[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestPipeInProcess(t *testing.T) {
	a, b, err := mp.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	type point struct{ X, Y int }
	if err := a.Send(point{1, 2}); err != nil {
		t.Fatal(err)
	}
	var p point
	if err := b.Recv(&p); err != nil || p != (point{1, 2}) {
		t.Fatalf("Recv = %v, %v", p, err)
	}
	// Both directions of a duplex pipe.
	b.Send("back")
	var s string
	if err := a.Recv(&s); err != nil || s != "back" {
		t.Fatalf("Recv = %q, %v", s, err)
	}
	// Bytes into the wrong type, values into RecvBytes.
	a.SendBytes([]byte("raw"))
	var n int
	var de *mp.DecodeError
	if err := b.Recv(&n); !errors.As(err, &de) {
		t.Fatalf("raw into *int = %v", err)
	}
	a.Send(5)
	if _, err := b.RecvBytes(); err == nil {
		t.Fatal("RecvBytes of an encoded value succeeded")
	}
	a.Send("str")
	if err := b.Recv(&n); !errors.As(err, &de) {
		t.Fatalf("string into *int = %v", err)
	}
	var ee *mp.EncodeError
	if err := a.Send(func() {}); !errors.As(err, &ee) {
		t.Fatalf("Send(func) = %v", err)
	}
	a.Close()
	if err := a.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := a.Send(1); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Send on closed = %v", err)
	}
	if err := a.Recv(&n); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Recv on closed = %v", err)
	}
	if err := b.Recv(&n); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv from closed peer = %v", err)
	}
	if err := b.Send(1); err == nil {
		// The first write may land in the socket buffer; a second one sees the reset.
		if err := b.SendBytes(make([]byte, 1<<20)); err == nil {
			t.Fatal("Send to a closed peer succeeded")
		}
	}
	b.Close()
}

func TestPipeOneWayAndLimits(t *testing.T) {
	r, w, err := mp.Pipe(mp.OneWay(), mp.WithMaxMessage(1024))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := r.Send(1); err == nil {
		t.Fatal("Send on the receive-only end succeeded")
	}
	var x int
	if err := w.Recv(&x); err == nil {
		t.Fatal("Recv on the send-only end succeeded")
	}
	if err := w.SendBytes(make([]byte, 2048)); !errors.Is(err, mp.ErrFrameTooLarge) {
		t.Fatalf("oversized send = %v", err)
	}
	if _, _, err := mp.Pipe(mp.WithMaxMessage(0)); err == nil {
		t.Fatal("WithMaxMessage(0) accepted")
	}
}

func TestWaitConns(t *testing.T) {
	a1, b1, _ := mp.Pipe()
	a2, b2, _ := mp.Pipe()
	defer func() { a1.Close(); b1.Close(); a2.Close(); b2.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if got, err := mp.WaitConns(ctx, b1, b2); err == nil || len(got) != 0 {
		t.Fatalf("WaitConns with nothing sent = %v, %v", got, err)
	}
	go func() { time.Sleep(20 * time.Millisecond); a2.Send("hi") }()
	got, err := mp.WaitConns(t.Context(), b1, b2)
	if err != nil || len(got) != 1 || got[0] != b2 {
		t.Fatalf("WaitConns = %v, %v", got, err)
	}
	var s string
	if err := b2.Recv(&s); err != nil || s != "hi" {
		t.Fatalf("Recv after WaitConns = %q, %v", s, err)
	}
}
