package mp_test

import (
	"errors"
	"iter"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/mpgo/mp"
)

func TestPoolImap(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	for _, chunk := range []int{1, 3, 100} {
		var got []int
		for v, err := range mp.Imap(ctx, p, tSquare, slices.Values([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), mp.WithChunkSize(chunk)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if want := []int{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}; !slices.Equal(got, want) {
			t.Fatalf("Imap chunk %d = %v", chunk, got)
		}
		got = got[:0]
		for v, err := range mp.ImapUnordered(ctx, p, tSquare, slices.Values([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), mp.WithChunkSize(chunk)) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		slices.Sort(got)
		if want := []int{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}; !slices.Equal(got, want) {
			t.Fatalf("ImapUnordered chunk %d = %v", chunk, got)
		}
	}
}

// naturals is an endless input that counts how far it was read.
func naturals(read *atomic.Int64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; ; i++ {
			read.Store(int64(i + 1))
			if !yield(i) {
				return
			}
		}
	}
}

func TestPoolImapLazyEndless(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	for _, ordered := range []bool{true, false} {
		var read atomic.Int64
		seq := mp.ImapUnordered(ctx, p, tSquare, naturals(&read), mp.WithInflight(4), mp.WithChunkSize(2))
		if ordered {
			seq = mp.Imap(ctx, p, tSquare, naturals(&read), mp.WithInflight(4), mp.WithChunkSize(2))
		}
		n := 0
		for v, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			if ordered && v != n*n {
				t.Fatalf("Imap yielded %d at %d", v, n)
			}
			n++
			if n == 50 {
				break
			}
		}
		// At most the window (4 chunks of 2) plus the chunk being filled was read ahead.
		if r := read.Load(); r < 50 || r > 50+4*2+2 {
			t.Fatalf("ordered=%v: read %d items of input for 50 results", ordered, r)
		}
	}
	// The pool is still fine after breaking out.
	got, err := mp.Map(ctx, p, tSquare, []int{1, 2, 3})
	if err != nil || !slices.Equal(got, []int{1, 4, 9}) {
		t.Fatalf("Map after break = %v, %v", got, err)
	}
}

func TestPoolImapItemErrors(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	var got []int
	var failed []int
	i := 0
	for v, err := range mp.Imap(ctx, p, tMaybeDie, slices.Values([]int{1, -1, 3, -3, 5}), mp.WithChunkSize(2)) {
		if err != nil {
			failed = append(failed, i)
			if i == 1 && !errors.Is(err, mp.ErrWorkerLost) || i == 3 && !errors.Is(err, mp.ErrFull) {
				t.Fatalf("item %d: %v", i, err)
			}
		}
		got = append(got, v)
		i++
	}
	if !slices.Equal(got, []int{2, 0, 4, 0, 6}) || !slices.Equal(failed, []int{1, 3}) {
		t.Fatalf("Imap = %v, failed %v", got, failed)
	}
}
