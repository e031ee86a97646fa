package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mpgo/mp"
)

// mp sides that need Queue.

// mpQueueArg is what a queue consumer child gets: the queue, an acknowledgement queue and
// how many items to take.
type mpQueueArg[T any] struct {
	Q   *mp.Queue[T]
	Ack *mp.Queue[int]
	N   int
}

// mpQueueConsume says it is up, takes N items, and says it is done.
func mpQueueConsume[T any](a mpQueueArg[T]) (struct{}, error) {
	ctx := context.Background()
	defer a.Q.Close()
	if err := a.Ack.Put(ctx, 0); err != nil {
		return struct{}{}, err
	}
	for range a.N {
		if _, err := a.Q.Get(ctx); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, a.Ack.Put(ctx, 1)
}

var (
	mpQueueIntFn   = mp.RegisterErr("mpbench.queue.int", mpQueueConsume[int])
	mpQueueBytesFn = mp.RegisterErr("mpbench.queue.bytes", mpQueueConsume[[]byte])
)

// mpQueueRun puts n items (item(i)) into a fresh queue for a consumer child and times it
// from the first Put until the child acknowledges the last Get.
func mpQueueRun[T any](fn *mp.Func[mpQueueArg[T], struct{}], n int, item func(int) T) (time.Duration, error) {
	ctx := context.Background()
	q, err := mp.NewQueue[T]()
	if err != nil {
		return 0, err
	}
	defer q.Close()
	ack, err := mp.NewQueue[int]()
	if err != nil {
		return 0, err
	}
	defer ack.Close()
	p := mp.NewProcess(fn, mpQueueArg[T]{Q: q, Ack: ack, N: n})
	if err := p.Start(); err != nil {
		return 0, err
	}
	defer p.Close()
	var d time.Duration
	if _, err = ack.Get(ctx); err == nil {
		t := time.Now()
		for i := 0; i < n && err == nil; i++ {
			err = q.Put(ctx, item(i))
		}
		if err == nil {
			_, err = ack.Get(ctx)
		}
		d = time.Since(t)
	}
	if err != nil {
		p.Kill()
	}
	if werr := p.Wait(ctx); err == nil && werr != nil {
		err = fmt.Errorf("consumer: %w", werr)
	}
	return d, err
}

func mpQueueSmall(b *bench) (float64, error) {
	n := b.n(200_000, 50_000)
	d, err := mpQueueRun(mpQueueIntFn, n, func(i int) int { return i })
	return rate(n, d), err
}

func mpQueue1MiB(b *bench) (float64, error) {
	n := b.n(200, 50)
	payload := make([]byte, MiB)
	for i := range payload {
		payload[i] = byte(i)
	}
	d, err := mpQueueRun(mpQueueBytesFn, n, func(int) []byte { return payload })
	return mbPerS(n, d), err
}
