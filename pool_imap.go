package mp

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/mpgo/mp/internal/sched"
)

// Imap runs fn on the items in the pool's workers and yields the results in the order of
// the items (Python's Pool.imap), each with its own error: a failed item yields its zero
// value and the error, and the others go on. It reads its input lazily, keeping a bounded
// number of chunks in flight (WithInflight), so an endless input works; chunks hold one
// item unless WithChunkSize says more.
//
// Breaking out of the loop cancels what remains and returns once the input iterator has
// stopped. When ctx ends, Imap yields one error wrapping ctx.Err() and stops. The items
// iterator is run on a goroutine of its own.
func Imap[A, R any](ctx context.Context, p *Pool, fn *Func[A, R], items iter.Seq[A], opts ...MapOption) iter.Seq2[R, error] {
	return poolImap(ctx, p, fn, items, true, opts)
}

// ImapUnordered is Imap yielding results as they arrive (Python's imap_unordered).
func ImapUnordered[A, R any](ctx context.Context, p *Pool, fn *Func[A, R], items iter.Seq[A], opts ...MapOption) iter.Seq2[R, error] {
	return poolImap(ctx, p, fn, items, false, opts)
}

type poolImapJob[A, R any] struct {
	fn    string
	chunk int
	stop  atomic.Bool
	wake  chan struct{}

	mu       sync.Mutex
	chunks   map[int]*poolImapChunk[A, R]
	events   []poolImapEvent
	fed      int  // items read from the input
	inputEnd bool // the input is exhausted (or feeding stopped)
	feedErr  error
}

type poolImapChunk[A, R any] struct {
	base    int
	items   []A
	results []R
	errs    map[int]error
	done    []bool
	yielded int
}

type poolImapEvent struct {
	lo, n int
	err   error
}

func (j *poolImapJob[A, R]) fnName() string  { return j.fn }
func (j *poolImapJob[A, R]) cancelled() bool { return j.stop.Load() }

func (j *poolImapJob[A, R]) chunkOf(i int) *poolImapChunk[A, R] {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.chunks[i/j.chunk]
}

func (j *poolImapJob[A, R]) encode(dst []byte, lo, hi int) ([]byte, error) {
	c := j.chunkOf(lo)
	return poolEncodeSlice(dst, c.items[lo-c.base:hi-c.base])
}

func (j *poolImapJob[A, R]) deliver(lo, n int, b []byte) {
	c := j.chunkOf(lo)
	dst := c.results[lo-c.base : lo-c.base+n : lo-c.base+n]
	sub := dst
	var failed []poolImapEvent
	if err := poolDecodeSlice(b, &sub); err != nil || len(sub) != n {
		poolDeliverEach(dst, lo, b, func(i int, err error) { failed = append(failed, poolImapEvent{i, 1, err}) })
	} else if n > 0 && &sub[0] != &dst[0] {
		copy(dst, sub)
	}
	j.mu.Lock()
	for _, f := range failed {
		c.errs[f.lo] = f.err
	}
	j.events = append(j.events, poolImapEvent{lo: lo, n: n})
	j.mu.Unlock()
	j.signal()
}

func (j *poolImapJob[A, R]) fail(lo, hi int, err error) {
	j.mu.Lock()
	for i := lo; i < hi; i++ {
		if c := j.chunks[i/j.chunk]; c != nil {
			c.errs[i] = err
		}
	}
	j.events = append(j.events, poolImapEvent{lo: lo, n: hi - lo})
	j.mu.Unlock()
	j.signal()
}

func (j *poolImapJob[A, R]) signal() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

func poolImap[A, R any](ctx context.Context, p *Pool, fn *Func[A, R], items iter.Seq[A], ordered bool, opts []MapOption) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		name := fn.Name()
		cfg, err := mapOptions(opts)
		if err == nil && items == nil {
			err = fmt.Errorf("mp: imap %q: nil items", name)
		}
		if err == nil {
			if err = p.check(name, fn); err != nil {
				err = fmt.Errorf("mp: imap %q: %w", name, err)
			}
		}
		if err != nil {
			yield(zero, err)
			return
		}
		chunk := max(cfg.chunk, 1)
		window := cfg.inflight
		if window == 0 {
			window = 4 * p.cfg.workers
		}
		j := &poolImapJob[A, R]{fn: name, chunk: chunk, wake: make(chan struct{}, 1), chunks: map[int]*poolImapChunk[A, R]{}}
		permits := make(chan struct{}, window)
		quit := make(chan struct{})
		fed := make(chan struct{})
		go j.feed(ctx, p, items, permits, quit, fed)
		defer func() {
			close(quit)
			j.stop.Store(true)
			p.cancelJob(j, cfg.killOnCancel)
			<-fed
		}()

		next := 0 // ordered: the next index to yield
		yielded := 0
		for {
			j.mu.Lock()
			evs := j.events
			j.events = nil
			end, total, feedErr := j.inputEnd, j.fed, j.feedErr
			j.mu.Unlock()
			for _, ev := range evs {
				// An event lies within one chunk: tasks never span chunks.
				c := j.chunkOf(ev.lo)
				lo, hi := ev.lo-c.base, ev.lo-c.base+ev.n
				for k := lo; k < hi; k++ {
					c.done[k] = true
				}
				if ordered {
					continue
				}
				if !j.yieldRange(c, lo, hi, permits, yield) {
					return
				}
				yielded += ev.n
			}
			for ordered {
				c := j.chunkOf(next)
				if c == nil {
					break
				}
				lo := next - c.base
				hi := lo
				for hi < len(c.done) && c.done[hi] {
					hi++
				}
				if hi == lo {
					break
				}
				if !j.yieldRange(c, lo, hi, permits, yield) {
					return
				}
				next += hi - lo
				yielded += hi - lo
			}
			if feedErr != nil {
				yield(zero, feedErr)
				return
			}
			if end && yielded == total {
				return
			}
			select {
			case <-j.wake:
			case <-ctx.Done():
				yield(zero, poolWaitErr(fmt.Sprintf("mp: imap %q", name), ctx.Err()))
				return
			}
		}
	}
}

// yieldRange yields the chunk's items [lo, hi) (positions in the chunk), then frees the
// chunk once every item of it was yielded. Only the consumer touches done and yielded.
func (j *poolImapJob[A, R]) yieldRange(c *poolImapChunk[A, R], lo, hi int, permits chan struct{}, yield func(R, error) bool) bool {
	var errs map[int]error
	j.mu.Lock()
	if len(c.errs) > 0 {
		errs = make(map[int]error, len(c.errs))
		for i, err := range c.errs {
			errs[i] = err
		}
	}
	j.mu.Unlock()
	var zero R
	for k := lo; k < hi; k++ {
		c.yielded++
		if err := errs[c.base+k]; err != nil {
			if !yield(zero, err) {
				return false
			}
			continue
		}
		if !yield(c.results[k], nil) {
			return false
		}
	}
	if c.yielded == len(c.items) {
		j.mu.Lock()
		delete(j.chunks, c.base/j.chunk)
		j.mu.Unlock()
		<-permits
	}
	return true
}

// feed reads the input into chunks and submits them, no more than permits allows ahead
// of the consumer.
func (j *poolImapJob[A, R]) feed(ctx context.Context, p *Pool, items iter.Seq[A], permits chan struct{}, quit, fed chan struct{}) {
	defer close(fed)
	defer j.signal()
	n := 0
	buf := make([]A, 0, j.chunk)
	submit := func() bool {
		select {
		case permits <- struct{}{}:
		case <-quit:
			return false
		case <-ctx.Done():
			return false
		}
		c := &poolImapChunk[A, R]{base: n - len(buf), items: buf, results: make([]R, len(buf)), errs: map[int]error{}, done: make([]bool, len(buf))}
		j.mu.Lock()
		j.chunks[c.base/j.chunk] = c
		j.fed = n
		j.mu.Unlock()
		if err := p.submit([]*sched.Task[poolJob]{{Job: j, Lo: c.base, Hi: n}}); err != nil {
			j.mu.Lock()
			j.feedErr = fmt.Errorf("mp: imap %q: %w", j.fn, err)
			j.mu.Unlock()
			return false
		}
		buf = make([]A, 0, j.chunk)
		return true
	}
	stopped := false
	for a := range items {
		buf = append(buf, a)
		n++
		if len(buf) == j.chunk && !submit() {
			stopped = true
			break
		}
	}
	if !stopped && len(buf) > 0 {
		submit()
	}
	j.mu.Lock()
	j.inputEnd = true
	j.mu.Unlock()
}
