package mp_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

func newQueue[T any](t testing.TB, opts ...mp.QueueOption) *mp.Queue[T] {
	t.Helper()
	q, err := mp.NewQueue[T](opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestQueueInProcess(t *testing.T) {
	q := newQueue[any](t)
	items := []any{int64(42), nil, "hello", []byte("raw"), []any{int64(1), "x"}, map[any]any{"k": 1.5}}
	for _, v := range items {
		if err := q.Put(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != len(items) {
		t.Fatalf("Len = %d, want %d", q.Len(), len(items))
	}
	for _, want := range items {
		got, err := q.Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	}
	if _, err := q.TryGet(); !errors.Is(err, mp.ErrEmpty) {
		t.Fatalf("TryGet on empty = %v, want ErrEmpty", err)
	}
}

func TestQueueDecodedBytesDoNotAlias(t *testing.T) {
	// Items are decoded straight from shared memory: what Get returns must be a copy.
	q := newQueue[[]any](t, mp.WithBufferSize(64<<10))
	if err := q.Put(t.Context(), []any{[]byte("abc"), "def"}); err != nil {
		t.Fatal(err)
	}
	got, err := q.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10000 { // overwrite the ring
		q.Put(t.Context(), []any{bytes.Repeat([]byte{'z'}, 30), "zzzzzzzzzzzzzzzzzzzzzzzzzz"})
		q.Get(t.Context())
		_ = i
	}
	if !bytes.Equal(got[0].([]byte), []byte("abc")) || got[1] != "def" {
		t.Fatalf("item changed after the ring was reused: %#v", got)
	}
	b := newQueue[[]byte](t)
	b.Put(t.Context(), []byte("abc"))
	gb, _ := b.Get(t.Context())
	b.Put(t.Context(), []byte("xyz"))
	if string(gb) != "abc" {
		t.Fatalf("raw item changed: %q", gb)
	}
}

func TestQueueBoundedPutBlocksAndResumes(t *testing.T) {
	q := newQueue[int](t, mp.WithMaxSize(2))
	for i := range 2 {
		if err := q.TryPut(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.TryPut(2); !errors.Is(err, mp.ErrFull) {
		t.Fatalf("TryPut on a full queue = %v, want ErrFull", err)
	}
	done := make(chan error, 1)
	go func() { done <- q.Put(context.Background(), 2) }()
	select {
	case err := <-done:
		t.Fatalf("Put on a full queue returned %v without waiting", err)
	case <-time.After(100 * time.Millisecond):
	}
	if v, err := q.Get(t.Context()); err != nil || v != 0 {
		t.Fatalf("Get = %v, %v", v, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if v, err := q.Get(t.Context()); err != nil || v != want {
			t.Fatalf("Get = %v, %v; want %d", v, err, want)
		}
	}
}

func TestQueueGetDeadline(t *testing.T) {
	q := newQueue[int](t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := q.Get(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Get with a 200ms deadline returned after %v", d)
	}
	// A cancelled ctx wakes a sleeping Get too.
	ctx2, cancel2 := context.WithCancel(t.Context())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	if _, err := q.Get(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d", q.Len())
	}
}

func TestQueueClose(t *testing.T) {
	q := newQueue[int](t)
	q.Put(t.Context(), 1)
	q.Put(t.Context(), 2)
	var wg sync.WaitGroup
	blocked := newQueue[int](t)
	wg.Go(func() {
		if _, err := blocked.Get(context.Background()); !errors.Is(err, mp.ErrClosed) {
			t.Errorf("Get blocked on a queue closed meanwhile = %v, want ErrClosed", err)
		}
	})
	time.Sleep(20 * time.Millisecond)
	blocked.Close()
	wg.Wait()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if !q.Closed() {
		t.Fatal("Closed() = false after Close")
	}
	if err := q.Put(t.Context(), 3); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Put after Close = %v, want ErrClosed", err)
	}
	if err := q.TryPut(3); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("TryPut after Close = %v, want ErrClosed", err)
	}
	for want := 1; want <= 2; want++ {
		if v, err := q.Get(t.Context()); err != nil || v != want {
			t.Fatalf("Get after Close = %v, %v; want the item left, %d", v, err, want)
		}
	}
	if _, err := q.Get(t.Context()); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Get on a closed, empty queue = %v, want ErrClosed", err)
	}
	if _, err := q.TryGet(); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("TryGet on a closed, empty queue = %v, want ErrClosed", err)
	}
	var zero mp.Queue[int]
	if err := zero.Put(t.Context(), 1); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Put on a zero Queue = %v", err)
	}
}

func TestQueueBadInput(t *testing.T) {
	if _, err := mp.NewQueue[int](mp.WithMaxSize(-1)); err == nil {
		t.Fatal("WithMaxSize(-1) accepted")
	}
	if _, err := mp.NewQueue[int](mp.WithBufferSize(0)); err == nil {
		t.Fatal("WithBufferSize(0) accepted")
	}
	if _, err := mp.NewSimpleQueue[int](mp.WithMaxSize(3)); err == nil {
		t.Fatal("a bounded SimpleQueue accepted")
	}
	q := newQueue[any](t, mp.WithMaxItemBytes(100))
	var ee *mp.EncodeError
	if err := q.Put(t.Context(), make(chan int)); !errors.As(err, &ee) {
		t.Fatalf("Put(chan) = %v, want *EncodeError", err)
	}
	if err := q.Put(t.Context(), make([]byte, 101)); !errors.Is(err, mp.ErrFrameTooLarge) {
		t.Fatalf("Put over the maximum = %v, want ErrFrameTooLarge", err)
	}
	if err := q.Put(t.Context(), "still works"); err != nil {
		t.Fatal(err)
	}
	if v, err := q.Get(t.Context()); err != nil || v != "still works" {
		t.Fatalf("Get = %v, %v", v, err)
	}

	// A handle of another type on the same queue: items that do not decode are reported
	// and taken; the next item is intact.
	ints := newQueue[int](t)
	b, err := ints.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	var strs mp.Queue[string]
	if err := strs.UnmarshalCBOR(b); err != nil {
		t.Fatal(err)
	}
	ints.Put(t.Context(), 1)
	ints.Put(t.Context(), 2)
	var de *mp.DecodeError
	if _, err := strs.Get(t.Context()); !errors.As(err, &de) {
		t.Fatalf("Get into the wrong type = %v, want *DecodeError", err)
	}
	if v, err := ints.Get(t.Context()); err != nil || v != 2 {
		t.Fatalf("next Get = %v, %v; want 2", v, err)
	}
	var j mp.JoinableQueue[int]
	if err := j.UnmarshalCBOR(b); err == nil {
		t.Fatal("a Queue was received as a JoinableQueue")
	}
}

func TestQueueBigItemInProcess(t *testing.T) {
	q := newQueue[string](t, mp.WithBufferSize(64<<10))
	want := string(bytes.Repeat([]byte("0123456789abcdef"), 1<<16)) // 1 MiB through a 64 KiB ring
	done := make(chan error, 1)
	go func() { done <- q.Put(context.Background(), want) }()
	got, err := q.Get(t.Context())
	if err != nil || got != want {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestJoinableQueueInProcess(t *testing.T) {
	q, err := mp.NewJoinableQueue[int]()
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Join(t.Context()); err != nil {
		t.Fatalf("Join on an empty queue = %v", err)
	}
	if err := q.TaskDone(); !errors.Is(err, mp.ErrTooManyCalls) {
		t.Fatalf("TaskDone with nothing put = %v, want ErrTooManyCalls", err)
	}
	q.Put(t.Context(), 1)
	q.Put(t.Context(), 2)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := q.Join(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join with unfinished items = %v", err)
	}
	for range 2 {
		q.Get(t.Context())
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Join(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, mp.ErrTooManyCalls) {
		t.Fatalf("extra TaskDone = %v, want ErrTooManyCalls", err)
	}
}

func TestSimpleQueue(t *testing.T) {
	q, err := mp.NewSimpleQueue[string]()
	if err != nil {
		t.Fatal(err)
	}
	if !q.Empty() {
		t.Fatal("new queue not empty")
	}
	q.Put(t.Context(), "a")
	if q.Empty() {
		t.Fatal("queue with an item is empty")
	}
	if v, err := q.Get(t.Context()); err != nil || v != "a" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	q.Close()
	if _, err := q.TryGet(); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("TryGet after Close = %v", err)
	}
}
