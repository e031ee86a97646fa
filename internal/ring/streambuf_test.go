package ring

import (
	"bytes"
	"context"
	"testing"
)

// A message streamed through the ring lands in the buffer SetStreamBuffer hands out;
// a small one still comes from the ring.
func TestStreamBuffer(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	var buf []byte
	calls := 0
	r.SetStreamBuffer(func(n int) []byte {
		calls++
		if cap(buf) < n {
			buf = make([]byte, 0, n)
		}
		return buf[:0]
	})
	big := bytes.Repeat([]byte("0123456789abcdef"), 4*MinCapacity/16+3)
	for round := range 3 {
		done := make(chan error, 1)
		go func() { done <- r.Put(context.Background(), 7, big, true) }()
		var got []byte
		var owned bool
		if err := r.Get(context.Background(), true, func(kind byte, p []byte, o bool) error {
			got, owned = p, o
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !owned || !bytes.Equal(got, big) {
			t.Fatalf("round %d: owned %v, %d bytes, equal %v", round, owned, len(got), bytes.Equal(got, big))
		}
		if cap(buf) == 0 || &got[0] != &buf[:1][0] {
			t.Fatalf("round %d: the message is not in the stream buffer", round)
		}
	}
	if calls != 3 {
		t.Fatalf("stream buffer asked %d times, want 3", calls)
	}
	put(t, r, []byte("small"))
	if b := get(t, r); string(b) != "small" || calls != 3 {
		t.Fatalf("small message: %q, %d calls", b, calls)
	}
}
