package mp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// tHoldConn keeps its end of a pipe open and never uses it, until killed.
var tHoldConn = mp.Register("test.holdconn", func(c *mp.Conn) {
	time.Sleep(time.Hour)
	c.Close()
})

// tLaterSend waits for a duration on its end, sleeps that long, then sends "ready".
var tLaterSend = mp.RegisterErr("test.latersend", func(c *mp.Conn) (struct{}, error) {
	defer c.Close()
	var d time.Duration
	if err := c.Recv(&d); err != nil {
		return struct{}{}, err
	}
	time.Sleep(d)
	return struct{}{}, c.Send("ready")
})

// tSink receives a count, then that many messages, then sends back how many bytes came.
var tSink = mp.RegisterErr("test.sink", func(c *mp.Conn) (struct{}, error) {
	defer c.Close()
	for {
		var n int
		if err := c.Recv(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return struct{}{}, nil
			}
			return struct{}{}, err
		}
		total := 0
		for range n {
			b, err := c.RecvBytes()
			if err != nil {
				return struct{}{}, err
			}
			total += len(b)
		}
		if err := c.Send(total); err != nil {
			return struct{}{}, err
		}
	}
})

func TestPipeRecvPeerKilled(t *testing.T) {
	parent, p := startPiped(t, tHoldConn)
	done := make(chan error, 1)
	go func() {
		var v any
		done <- parent.Recv(&v)
	}()
	time.Sleep(100 * time.Millisecond) // let Recv block (the test holds without it too)
	select {
	case err := <-done:
		t.Fatalf("Recv returned %v before the peer was killed", err)
	default:
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Recv from a killed peer = %v, want io.EOF", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Recv still blocked 30s after its peer was killed")
	}
	if err := parent.Send("x"); err == nil {
		t.Fatal("Send to a killed peer succeeded")
	}
	p.Wait(t.Context())
}

func TestPipePollWaitConnsChild(t *testing.T) {
	a1, b1, err := mp.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a2, b2, err := mp.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { a1.Close(); a2.Close() }()
	p1 := mp.NewProcess(tLaterSend, b1)
	p2 := mp.NewProcess(tLaterSend, b2)
	for _, p := range []*mp.Process{p1, p2} {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}
	b1.Close()
	b2.Close()
	if ok, err := a1.Poll(0); ok || err != nil {
		t.Fatalf("Poll with nothing sent = %v, %v", ok, err)
	}
	if ok, err := a1.Poll(20 * time.Millisecond); ok || err != nil {
		t.Fatalf("Poll(20ms) with nothing sent = %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if got, err := mp.WaitConns(ctx, a1, a2); !errors.Is(err, context.DeadlineExceeded) || len(got) != 0 {
		t.Fatalf("WaitConns with nothing sent = %v, %v", got, err)
	}
	// The child of a2 answers after 50ms; a1's child waits an hour.
	a2.Send(50 * time.Millisecond)
	a1.Send(time.Hour)
	got, err := mp.WaitConns(t.Context(), a1, a2)
	if err != nil || len(got) != 1 || got[0] != a2 {
		t.Fatalf("WaitConns = %v, %v", got, err)
	}
	var s string
	if err := a2.Recv(&s); err != nil || s != "ready" {
		t.Fatalf("Recv = %q, %v", s, err)
	}
	// After the child exits, a2 reports the end of the stream as ready.
	if err := p2.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ok, err := a2.Poll(10 * time.Second); !ok || err != nil {
		t.Fatalf("Poll after the peer exited = %v, %v", ok, err)
	}
	if got, err := mp.WaitConns(t.Context(), a1, a2); err != nil || len(got) != 1 || got[0] != a2 {
		t.Fatalf("WaitConns after the peer exited = %v, %v", got, err)
	}
	if err := a2.Recv(&s); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the peer exited = %v", err)
	}
	// Killing a1's child wakes a WaitConns blocked on it.
	go func() { time.Sleep(50 * time.Millisecond); p1.Kill() }()
	if got, err := mp.WaitConns(t.Context(), a1); err != nil || len(got) != 1 {
		t.Fatalf("WaitConns on a killed peer = %v, %v", got, err)
	}
	p1.Wait(t.Context())
}

func TestPipe64MiBChild(t *testing.T) {
	parent, p := startPiped(t, tEcho)
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = byte(i*131 + i>>16)
	}
	if err := parent.SendBytes(big); err != nil {
		t.Fatal(err)
	}
	got, err := parent.RecvBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("64 MiB echo came back different (%d bytes)", len(got))
	}
	parent.Close()
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestPipe1MiBBothWaysChild(t *testing.T) {
	parent, p := startPiped(t, tEcho)
	const n = 40
	msg := func(i int) []byte {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(i + j*3)
		}
		return b
	}
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := parent.SendBytes(msg(i)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		got, err := parent.RecvBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg(i)) {
			t.Fatalf("message %d came back different", i)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	parent.Close()
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}
