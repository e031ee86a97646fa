package mp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

type queueRange struct {
	Q    *mp.Queue[int]
	From int
	N    int
}

type queueDrain struct {
	In  *mp.Queue[int]
	Out *mp.Queue[[]int]
}

type queueEchoArg struct {
	In  *mp.Queue[[]int]
	Out *mp.Queue[[]int]
}

type queueBig struct {
	Q *mp.Queue[[]byte]
	N int
}

type queueJoin struct {
	Q    *mp.JoinableQueue[int]
	Done *mp.Queue[int]
}

var (
	tQueueNotebook = mp.Register("test.queue.notebook", func(q *mp.Queue[[]any]) {
		q.Put(context.Background(), []any{42, nil, "hello"})
	})
	tQueueProduce = mp.RegisterErr("test.queue.produce", func(a queueRange) (struct{}, error) {
		for i := range a.N {
			if err := a.Q.Put(context.Background(), a.From+i); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	tQueueConsume = mp.RegisterErr("test.queue.consume", func(a queueDrain) (struct{}, error) {
		var got []int
		for {
			v, err := a.In.Get(context.Background())
			if errors.Is(err, mp.ErrClosed) {
				return struct{}{}, a.Out.Put(context.Background(), got)
			}
			if err != nil {
				return struct{}{}, err
			}
			got = append(got, v)
		}
	})
	// tQueueEcho takes items and reports each one on Out as soon as it has it.
	tQueueEcho = mp.RegisterErr("test.queue.echo", func(a queueEchoArg) (struct{}, error) {
		for {
			v, err := a.In.Get(context.Background())
			if err != nil {
				return struct{}{}, err
			}
			if err := a.Out.Put(context.Background(), v[:1]); err != nil {
				return struct{}{}, err
			}
		}
	})
	tQueueBig = mp.RegisterErr("test.queue.big", func(a queueBig) (struct{}, error) {
		return struct{}{}, a.Q.Put(context.Background(), bigPattern(a.N))
	})
	tQueueWorker = mp.RegisterErr("test.queue.worker", func(a queueJoin) (struct{}, error) {
		n := 0
		for {
			_, err := a.Q.Get(context.Background())
			if errors.Is(err, mp.ErrClosed) {
				return struct{}{}, a.Done.Put(context.Background(), n)
			}
			if err != nil {
				return struct{}{}, err
			}
			time.Sleep(time.Microsecond)
			n++
			if err := a.Q.TaskDone(); err != nil {
				return struct{}{}, err
			}
		}
	})
)

func bigPattern(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		copy(b[i:], fmt.Sprintf("%08x", i/8))
	}
	return b
}

func start(t *testing.T, p *mp.Process) *mp.Process {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait(context.Background()); p.Close() })
	return p
}

func wait(t *testing.T, p *mp.Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("child: %v", err)
	}
}

func TestQueueNotebook(t *testing.T) {
	q := newQueue[[]any](t)
	p := start(t, mp.NewProcess(tQueueNotebook, q))
	v, err := q.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != "[42 <nil> hello]" {
		t.Fatalf("got %s", got)
	}
	wait(t, p)
}

func TestQueueManyProcesses(t *testing.T) {
	const producers, consumers, each = 4, 4, 25000
	work := newQueue[int](t)
	results := newQueue[[]int](t)
	var ps, cs []*mp.Process
	for i := range consumers {
		cs = append(cs, start(t, mp.NewProcess(tQueueConsume, queueDrain{In: work, Out: results}, mp.WithName(fmt.Sprint("consumer-", i)))))
	}
	for i := range producers {
		ps = append(ps, start(t, mp.NewProcess(tQueueProduce, queueRange{Q: work, From: i * each, N: each})))
	}
	for _, p := range ps {
		wait(t, p)
	}
	work.Close()
	seen := make([]int, producers*each)
	for range consumers {
		got, err := results.Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range got {
			seen[v]++
		}
	}
	for _, p := range cs {
		wait(t, p)
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("item %d arrived %d times", i, n)
		}
	}
}

func TestQueueProducerExitsEarly(t *testing.T) {
	// CPython's trap: a child that put items cannot exit until they are flushed, so
	// waiting for it before getting them deadlocks. Here Put is done when it returns.
	q := newQueue[int](t)
	p := start(t, mp.NewProcess(tQueueProduce, queueRange{Q: q, From: 0, N: 20000}))
	wait(t, p)
	for want := range 20000 {
		v, err := q.TryGet()
		if err != nil || v != want {
			t.Fatalf("TryGet = %d, %v; want %d", v, err, want)
		}
	}
	// And a big item: the child waits in Put for a consumer, then exits.
	big := newQueue[[]byte](t, mp.WithBufferSize(1<<20))
	p = start(t, mp.NewProcess(tQueueBig, queueBig{Q: big, N: 3 << 20}))
	got, err := big.Get(t.Context())
	if err != nil || !bytes.Equal(got, bigPattern(3<<20)) {
		t.Fatalf("big item: %d bytes, %v", len(got), err)
	}
	wait(t, p)
}

func TestQueue64MiB(t *testing.T) {
	q := newQueue[[]byte](t)
	const n = 64 << 20
	p := start(t, mp.NewProcess(tQueueBig, queueBig{Q: q, N: n}))
	got, err := q.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bigPattern(n)) {
		t.Fatalf("64 MiB item came back different (%d bytes)", len(got))
	}
	wait(t, p)
}

func TestQueueBoundedAcrossProcesses(t *testing.T) {
	q := newQueue[int](t, mp.WithMaxSize(2))
	p := start(t, mp.NewProcess(tQueueProduce, queueRange{Q: q, From: 0, N: 6}))
	time.Sleep(200 * time.Millisecond)
	if n := q.Len(); n > 2 {
		t.Fatalf("Len = %d on a queue bounded to 2", n)
	}
	if !p.Alive() {
		t.Fatal("the producer finished 6 Puts on a queue bounded to 2 nobody read")
	}
	for want := range 6 {
		v, err := q.Get(t.Context())
		if err != nil || v != want {
			t.Fatalf("Get = %d, %v; want %d", v, err, want)
		}
	}
	wait(t, p)
}

func TestQueueKilledConsumer(t *testing.T) {
	// A consumer is killed while it takes items, small and streamed ones: at most the
	// item it was taking is lost; the others arrive once, and the queue still works.
	const total = 3000
	work := newQueue[[]int](t, mp.WithBufferSize(64<<10))
	acks := newQueue[[]int](t)
	victim := start(t, mp.NewProcess(tQueueEcho, queueEchoArg{In: work, Out: acks}))
	go func() {
		for i := range total {
			item := []int{i}
			if i%4 == 0 {
				item = make([]int, 20000) // streamed through the 64 KiB ring
				item[0] = i
			}
			if err := work.Put(context.Background(), item); err != nil {
				return
			}
		}
	}()
	// Wait until the victim has taken some, then kill it mid-stream.
	if _, err := acks.Get(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	victim.Kill()
	victim.Wait(context.Background())
	seen := map[int]int{0: 1}
	for {
		v, err := acks.TryGet()
		if err != nil {
			break
		}
		seen[v[0]]++
	}
	t.Logf("the victim took %d items before it was killed", len(seen))
	rescuer := start(t, mp.NewProcess(tQueueEcho, queueEchoArg{In: work, Out: acks}))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for len(seen) < total-1 {
		v, err := acks.Get(ctx)
		if err != nil {
			t.Fatalf("after the kill, %d of %d items came through: %v", len(seen), total, err)
		}
		seen[v[0]]++
	}
	// the last item may or may not be the lost one
	if v, err := acks.Get(ctxTimeout(t, 300*time.Millisecond)); err == nil {
		seen[v[0]]++
	}
	for v, n := range seen {
		if n != 1 || v < 0 || v >= total {
			t.Fatalf("item %d arrived %d times", v, n)
		}
	}
	if len(seen) < total-1 {
		t.Fatalf("%d items lost", total-len(seen))
	}
	work.Close()
	rescuer.Wait(ctxTimeout(t, 10*time.Second))
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestJoinableQueueAcrossProcesses(t *testing.T) {
	q, err := mp.NewJoinableQueue[int]()
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	done := newQueue[int](t)
	var ws []*mp.Process
	for range 2 {
		ws = append(ws, start(t, mp.NewProcess(tQueueWorker, queueJoin{Q: q, Done: done})))
	}
	const n = 2000
	for i := range n {
		if err := q.Put(t.Context(), i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Join(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if u := q.Unfinished(); u != 0 {
		t.Fatalf("Join returned with %d unfinished", u)
	}
	q.Close()
	sum := 0
	for range ws {
		c, err := done.Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		sum += c
	}
	if sum != n {
		t.Fatalf("workers processed %d items, want %d", sum, n)
	}
	for _, w := range ws {
		wait(t, w)
	}
}
