package ring

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newRing(t testing.TB, capacity, maxItems int) *Ring {
	t.Helper()
	r, err := Create(capacity, maxItems, 1<<30, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Release() })
	return r
}

func put(t testing.TB, r *Ring, p []byte) {
	t.Helper()
	if err := r.Put(context.Background(), 7, p, true); err != nil {
		t.Fatalf("put: %v", err)
	}
}

func get(t testing.TB, r *Ring) []byte {
	t.Helper()
	b, err := getCtx(context.Background(), r, true)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	return b
}

func getCtx(ctx context.Context, r *Ring, block bool) ([]byte, error) {
	var out []byte
	err := r.Get(ctx, block, func(kind byte, p []byte, owned bool) error {
		if kind != 7 {
			return errors.New("wrong kind")
		}
		out = bytes.Clone(p)
		return nil
	})
	return out, err
}

func msg(i, n int) []byte {
	b := make([]byte, max(n, 8))
	for j := range b {
		b[j] = byte(i + j)
	}
	binary.LittleEndian.PutUint64(b, uint64(i))
	return b
}

func TestFIFOAndWrap(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	for round := range 200 {
		sizes := []int{0, 1, 7, 8, 9, 100, 1000, 5000, 12000}
		for i, n := range sizes {
			put(t, r, msg(round*100+i, n)[:n])
		}
		if r.Len() != len(sizes) {
			t.Fatalf("len %d, want %d", r.Len(), len(sizes))
		}
		for i, n := range sizes {
			if got, want := get(t, r), msg(round*100+i, n)[:n]; !bytes.Equal(got, want) {
				t.Fatalf("round %d message %d: got %d bytes, want %d", round, i, len(got), len(want))
			}
		}
	}
	if _, err := getCtx(context.Background(), r, false); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet on empty: %v", err)
	}
}

func TestLargerThanRing(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	for _, n := range []int{MinCapacity / 4, MinCapacity, 3*MinCapacity + 5, 8 << 20} {
		want := msg(n, n)
		done := make(chan error, 1)
		go func() { done <- r.Put(context.Background(), 7, want, true) }()
		got := get(t, r)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d-byte message came back as %d bytes, different", n, len(got))
		}
	}
	if r.Len() != 0 {
		t.Fatalf("len %d after draining", r.Len())
	}
}

func TestManyProducersConsumers(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	const producers, consumers, each = 4, 4, 20000
	var seen [producers * each]atomic.Int32
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				n := 8
				if i%1000 == 0 {
					n = 40000 // some streamed messages among the small ones
				}
				put(t, r, msg(p*each+i, n))
			}
		})
	}
	var cg sync.WaitGroup
	errc := make(chan error, consumers)
	for range consumers {
		cg.Go(func() {
			for {
				b, err := getCtx(context.Background(), r, true)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					errc <- err
					return
				}
				seen[binary.LittleEndian.Uint64(b)].Add(1)
			}
		})
	}
	wg.Wait()
	r.Close()
	cg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("message %d arrived %d times", i, n)
		}
	}
}

func TestBoundedCount(t *testing.T) {
	r := newRing(t, 0, 3)
	for i := range 3 {
		if err := r.Put(nil, 7, msg(i, 8), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Put(nil, 7, msg(3, 8), false); !errors.Is(err, ErrFull) {
		t.Fatalf("TryPut on a full ring: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Put(context.Background(), 7, msg(3, 8), true) }()
	select {
	case err := <-done:
		t.Fatalf("Put on a full ring returned %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	get(t, r)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.Put(ctx, 7, msg(9, 8), true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put past deadline: %v", err)
	}
	for i := 1; i < 4; i++ {
		if got := binary.LittleEndian.Uint64(get(t, r)); got != uint64(i) {
			t.Fatalf("got %d, want %d", got, i)
		}
	}
}

func TestGetTimeoutAndClose(t *testing.T) {
	r := newRing(t, 0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := getCtx(ctx, r, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past deadline: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Get with a 100ms deadline returned after %v", d)
	}
	put(t, r, msg(1, 8))
	done := make(chan error, 1)
	go func() {
		get(t, r)
		_, err := getCtx(context.Background(), r, true)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	r.Close()
	r.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Get blocked on a closed ring: %v", err)
	}
	if err := r.Put(nil, 7, nil, true); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put on a closed ring: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	r, err := Create(0, 0, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var se *SizeError
	if err := r.Put(nil, 7, make([]byte, 101), true); !errors.As(err, &se) || se.Size != 101 {
		t.Fatalf("Put over the maximum: %v", err)
	}
	if _, err := Create(0, -1, 100, false); err == nil {
		t.Fatal("negative bound accepted")
	}
}

// deadPid returns the pid of a process that has exited and been reaped.
func deadPid(t *testing.T) uint32 {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.Process.Pid)
}

func TestDeadReaderHoldingLock(t *testing.T) {
	r := newRing(t, 0, 0)
	put(t, r, msg(1, 8))
	put(t, r, msg(2, 8))
	r.h.rlock.owner = deadPid(t) // died before taking anything: message 1 stays
	if got := binary.LittleEndian.Uint64(get(t, r)); got != 1 {
		t.Fatalf("got %d, want 1", got)
	}
	if got := binary.LittleEndian.Uint64(get(t, r)); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
}

func TestDeadReaderMidMessage(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	big := msg(1, 40000)
	put(t, r, big)
	put(t, r, msg(2, 8))
	// A reader takes the first chunk of the streamed message and dies.
	if !r.h.rlock.tryLock(deadPid(t)) {
		t.Fatal("lock")
	}
	c, ok, err := r.peek()
	if !ok || err != nil || c.flags != fFirst {
		t.Fatalf("peek: %+v %v %v", c, ok, err)
	}
	atomic.StoreUint32(&r.h.rmid, 1)
	r.consume(c, false)
	if got := binary.LittleEndian.Uint64(get(t, r)); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
	if r.Len() != 0 {
		t.Fatalf("len %d", r.Len())
	}
}

func TestAbandonedWrite(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	// A writer streams a message nobody reads yet, and gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.Put(ctx, 7, msg(1, 4*MinCapacity), true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("streamed Put past deadline: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Put(context.Background(), 7, msg(2, 8), true) }()
	if got := binary.LittleEndian.Uint64(get(t, r)); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDeadWriterMidMessage(t *testing.T) {
	r := newRing(t, MinCapacity, 0)
	// A writer publishes the first chunk of a streamed message and dies holding the lock.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r.Put(ctx, 7, msg(1, 4*MinCapacity), true)
	atomic.StoreUint32(&r.h.wmid, 1)
	r.h.wlock.owner = deadPid(t)
	done := make(chan []byte, 1)
	go func() { done <- get(t, r) }()
	time.Sleep(20 * time.Millisecond)
	put(t, r, msg(2, 8))
	if got := binary.LittleEndian.Uint64(<-done); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
}

func TestJoin(t *testing.T) {
	r, err := Create(0, 0, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for i := range 3 {
		put(t, r, msg(i, 8))
	}
	done := make(chan error, 1)
	go func() { done <- r.Join(context.Background()) }()
	for range 3 {
		get(t, r)
		select {
		case err := <-done:
			t.Fatalf("Join returned %v before every TaskDone", err)
		default:
		}
		if err := r.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := r.TaskDone(); !errors.Is(err, ErrTaskDone) {
		t.Fatalf("extra TaskDone: %v", err)
	}
}

func BenchmarkSmall(b *testing.B) {
	r := newRing(b, 0, 0)
	p := make([]byte, 16)
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for range b.N {
			r.Put(context.Background(), 7, p, true)
		}
	}()
	for range b.N {
		r.Get(context.Background(), true, func(byte, []byte, bool) error { return nil })
	}
}

// BenchmarkMiB moves 1 MiB messages between goroutines, copying each out into a reused
// buffer: the transport's own speed, without the receiving heap's allocation.
func BenchmarkMiB(b *testing.B) {
	r := newRing(b, DefaultCapacity, 0)
	p := make([]byte, 1<<20)
	out := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for range b.N {
			r.Put(context.Background(), 7, p, true)
		}
	}()
	for range b.N {
		r.Get(context.Background(), true, func(_ byte, q []byte, _ bool) error { copy(out, q); return nil })
	}
}
