package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

type queueSink[T any] struct {
	Q     *mp.Queue[T]
	Ready *mp.Queue[int]
	N     int
}

func queueSinkFn[T any](a queueSink[T]) (struct{}, error) {
	ctx := context.Background()
	if err := a.Ready.Put(ctx, 0); err != nil {
		return struct{}{}, err
	}
	for range a.N {
		if _, err := a.Q.Get(ctx); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, a.Ready.Put(ctx, a.N)
}

var (
	tQueueSinkInt   = mp.RegisterErr("test.queue.sink.int", queueSinkFn[int])
	tQueueSinkBytes = mp.RegisterErr("test.queue.sink.bytes", queueSinkFn[[]byte])
)

// benchQueue puts b.N items into a child that gets them, and times from the first Put
// to the child's report that it has them all.
func benchQueue[T any](b *testing.B, fn *mp.Func[queueSink[T], struct{}], item T, opts ...mp.QueueOption) {
	q := newQueue[T](b, opts...)
	ready := newQueue[int](b)
	p := mp.NewProcess(fn, queueSink[T]{Q: q, Ready: ready, N: b.N})
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := ready.Get(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := q.Put(ctx, item); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ready.Get(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	if err := p.Wait(ctx); err != nil && !errors.Is(err, context.Canceled) {
		b.Fatal(err)
	}
}

// BenchmarkQueueSmall: small items (an int) from this process to a child.
func BenchmarkQueueSmall(b *testing.B) { benchQueue(b, tQueueSinkInt, 12345) }

// BenchmarkQueueSmallBytes: 16-byte []byte items (no encoding) to a child.
func BenchmarkQueueSmallBytes(b *testing.B) {
	benchQueue(b, tQueueSinkBytes, make([]byte, 16))
}

// BenchmarkQueue1MiB: 1 MiB []byte items to a child.
func BenchmarkQueue1MiB(b *testing.B) {
	b.SetBytes(1 << 20)
	benchQueue(b, tQueueSinkBytes, make([]byte, 1<<20))
}
