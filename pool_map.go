package mp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mpgo/mp/internal/sched"
	"github.com/mpgo/mp/internal/wire"
)

// MapOption configures one Map, MapAsync, Imap, ImapUnordered, Apply or ApplyAsync call.
type MapOption func(*mapConfig) error

type mapConfig struct {
	chunk        int
	killOnCancel bool
	progress     func(done, total int)
	bar          bool
	onResult     any // func(R) for the call's R
	onError      func(error)
	inflight     int
}

// WithChunkSize sends items to workers n at a time. Map's default is CPython's:
// len(items) / (4 * workers), rounded up; Imap's and ImapUnordered's is 1.
func WithChunkSize(n int) MapOption {
	return func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("mp: WithChunkSize(%d): must be at least 1", n)
		}
		c.chunk = n
		return nil
	}
}

// WithKillOnCancel makes cancelling the call's ctx also kill the workers running its
// items (they are replaced). Without it, running items are asked to stop (a RegisterCtx
// function sees its context cancelled) and finish on their own.
func WithKillOnCancel() MapOption {
	return func(c *mapConfig) error { c.killOnCancel = true; return nil }
}

// WithProgress calls fn(done, total) each time results arrive for a Map or MapAsync. fn is
// called from the pool's goroutines, one call at a time, and must return quickly.
func WithProgress(fn func(done, total int)) MapOption {
	return func(c *mapConfig) error {
		if fn == nil {
			return errors.New("mp: WithProgress: nil function")
		}
		c.progress = fn
		return nil
	}
}

// WithProgressBar draws a progress bar (done/total, rate, ETA) on standard error while a
// Map or MapAsync runs, when standard error is a terminal; otherwise it does nothing.
func WithProgressBar() MapOption {
	return func(c *mapConfig) error { c.bar = true; return nil }
}

// WithInflight bounds how many chunks Imap and ImapUnordered keep submitted and not yet
// consumed (default 4 per worker). The input is read no further ahead than that.
func WithInflight(n int) MapOption {
	return func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("mp: WithInflight(%d): must be at least 1", n)
		}
		c.inflight = n
		return nil
	}
}

// OnResult calls fn with the result of an ApplyAsync (R) or MapAsync ([]R) that
// succeeded, from the pool's goroutine that completed it, after Done is closed (Python's
// callback). A fn whose type does not match fails the call.
func OnResult[R any](fn func(R)) MapOption {
	return func(c *mapConfig) error {
		if fn == nil {
			return errors.New("mp: OnResult: nil function")
		}
		c.onResult = fn
		return nil
	}
}

// OnError calls fn with the error of an ApplyAsync or MapAsync that failed (Python's
// error_callback), like OnResult.
func OnError(fn func(error)) MapOption {
	return func(c *mapConfig) error {
		if fn == nil {
			return errors.New("mp: OnError: nil function")
		}
		c.onError = fn
		return nil
	}
}

func mapOptions(opts []MapOption) (mapConfig, error) {
	var c mapConfig
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// ItemError is the failure of one item of a Map.
type ItemError struct {
	Index int
	Err   error
}

func (e ItemError) Error() string { return fmt.Sprintf("item %d: %v", e.Index, e.Err) }

// MapError reports the items of a Map that failed, in index order. Map returns it beside
// the results, where each failed item holds its zero value. errors.Is and errors.As see
// every item's error (errors.Is(err, ErrWorkerLost) asks whether any item's worker died).
type MapError struct {
	Errors []ItemError
	Total  int // items in the map
}

func (e *MapError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mp: %d of %d items failed", len(e.Errors), e.Total)
	for i, ie := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Errors)-3)
			break
		}
		fmt.Fprintf(&b, "; item %d: %v", ie.Index, ie.Err)
	}
	return b.String()
}

// Unwrap returns the items' errors.
func (e *MapError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, ie := range e.Errors {
		out[i] = ie.Err
	}
	return out
}

// poolWaitErr is the error of a call whose ctx ended: a deadline also matches ErrTimeout.
func poolWaitErr(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w (%w)", op, ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// poolMapJob is one Map, MapAsync or Apply: items in a slice, results decoded in place.
type poolMapJob[A, R any] struct {
	fn       string
	items    []A
	results  []R
	left     atomic.Int64
	stop     atomic.Bool
	complete func() // called once, when every item has a result or an error

	mu       sync.Mutex
	fails    []poolFailRange
	progress func(done, total int)
	count    int
}

type poolFailRange struct {
	lo, hi int
	err    error
}

func newPoolMapJob[A, R any](fn string, items []A, progress func(int, int), complete func(*poolMapJob[A, R])) *poolMapJob[A, R] {
	j := &poolMapJob[A, R]{fn: fn, items: items, results: make([]R, len(items)), progress: progress}
	j.complete = func() { complete(j) }
	j.left.Store(int64(len(items)))
	return j
}

func (j *poolMapJob[A, R]) fnName() string  { return j.fn }
func (j *poolMapJob[A, R]) cancelled() bool { return j.stop.Load() }

func (j *poolMapJob[A, R]) encode(dst []byte, lo, hi int) ([]byte, error) {
	return poolEncodeSlice(dst, j.items[lo:hi])
}

func (j *poolMapJob[A, R]) deliver(lo, n int, b []byte) {
	sub := j.results[lo : lo+n : lo+n]
	if err := poolDecodeSlice(b, &sub); err != nil || len(sub) != n {
		poolDeliverEach(j.results[lo:lo+n], lo, b, j.failOne)
	} else if n > 0 && &sub[0] != &j.results[lo] {
		copy(j.results[lo:lo+n], sub)
	}
	j.finish(n)
}

// poolDeliverEach decodes results one by one, failing those that do not decode.
func poolDeliverEach[R any](dst []R, lo int, b []byte, fail func(int, error)) {
	var raws []wire.RawMessage
	if err := wire.Unmarshal(b, &raws); err != nil || len(raws) != len(dst) {
		if err == nil {
			err = fmt.Errorf("%d results for %d items", len(raws), len(dst))
		}
		for i := range dst {
			fail(lo+i, fmt.Errorf("mp: item %d: undecodable result: %w", lo+i, err))
		}
		return
	}
	for i, raw := range raws {
		if err := wire.Unmarshal(raw, &dst[i]); err != nil {
			fail(lo+i, fmt.Errorf("mp: item %d: undecodable result: %w", lo+i, err))
		}
	}
}

func (j *poolMapJob[A, R]) failOne(i int, err error) {
	j.mu.Lock()
	j.fails = append(j.fails, poolFailRange{i, i + 1, err})
	j.mu.Unlock()
}

func (j *poolMapJob[A, R]) fail(lo, hi int, err error) {
	j.mu.Lock()
	j.fails = append(j.fails, poolFailRange{lo, hi, err})
	j.mu.Unlock()
	j.finish(hi - lo)
}

func (j *poolMapJob[A, R]) finish(n int) {
	if j.progress != nil {
		j.mu.Lock()
		j.count += n
		j.progress(j.count, len(j.items))
		j.mu.Unlock()
	}
	if j.left.Add(-int64(n)) == 0 {
		j.complete()
	}
}

// err returns the job's MapError, nil when every item succeeded. Call after complete.
func (j *poolMapJob[A, R]) err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.fails) == 0 {
		return nil
	}
	var ie []ItemError
	for _, f := range j.fails {
		for i := f.lo; i < f.hi; i++ {
			ie = append(ie, ItemError{Index: i, Err: f.err})
		}
	}
	sort.Slice(ie, func(a, b int) bool { return ie[a].Index < ie[b].Index })
	return &MapError{Errors: ie, Total: len(j.items)}
}

// startMap validates a map call and queues its items.
func startMap[A, R any](p *Pool, fn *Func[A, R], items []A, cfg mapConfig, complete func(*poolMapJob[A, R])) (*poolMapJob[A, R], error) {
	name := fn.Name()
	if err := p.check(name, fn); err != nil {
		return nil, fmt.Errorf("mp: map %q: %w", name, err)
	}
	progress := cfg.progress
	if cfg.bar {
		progress = newPoolBar(progress)
	}
	j := newPoolMapJob[A, R](name, items, progress, complete)
	if len(items) == 0 {
		j.complete()
		return j, nil
	}
	chunk := cfg.chunk
	if chunk == 0 {
		chunk = sched.ChunkSize(len(items), p.cfg.workers)
	}
	if err := p.submit(sched.Split[poolJob](j, len(items), chunk)); err != nil {
		return nil, fmt.Errorf("mp: map %q: %w", name, err)
	}
	return j, nil
}

// Map runs fn on every item in the pool's workers and returns the results in the order of
// the items (Python's Pool.map). A nil items is empty.
//
// When items fail (fn returned an error or panicked, its worker died, it timed out, it
// could not be encoded, its result could not be decoded) Map still runs every other item:
// it returns all the results, zero for the failed items, and a *MapError that says which
// items failed and why. When ctx ends first, no further items are handed out (running
// ones are killed with WithKillOnCancel) and Map returns nil and an error wrapping
// ctx.Err() (a deadline also matches ErrTimeout).
func Map[A, R any](ctx context.Context, p *Pool, fn *Func[A, R], items []A, opts ...MapOption) ([]R, error) {
	cfg, err := mapOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, poolWaitErr(fmt.Sprintf("mp: map %q", fn.Name()), err)
	}
	done := make(chan struct{})
	j, err := startMap(p, fn, items, cfg, func(*poolMapJob[A, R]) { close(done) })
	if err != nil {
		return nil, err
	}
	select {
	case <-done:
		return j.results, j.err()
	case <-ctx.Done():
		j.stop.Store(true)
		p.cancelJob(j, cfg.killOnCancel)
		return nil, poolWaitErr(fmt.Sprintf("mp: map %q", fn.Name()), ctx.Err())
	}
}

// MapAsync is Map without waiting (Python's map_async): Get returns the results and the
// *MapError, if any.
func MapAsync[A, R any](p *Pool, fn *Func[A, R], items []A, opts ...MapOption) *AsyncResult[[]R] {
	r := newAsyncResult[[]R]()
	cfg, err := mapOptions(opts)
	if err == nil {
		err = r.setCallbacks(cfg)
	}
	if err != nil {
		r.resolve(nil, err)
		return r
	}
	j, err := startMap(p, fn, items, cfg, func(j *poolMapJob[A, R]) { r.resolve(j.results, j.err()) })
	if err != nil {
		r.resolve(nil, err)
		return r
	}
	r.setCancel(func() { j.stop.Store(true); p.cancelJob(j, cfg.killOnCancel) })
	return r
}

// tasks returns the job's single task (an Apply).
func (j *poolMapJob[A, R]) tasks() []*sched.Task[poolJob] {
	return []*sched.Task[poolJob]{{Job: j, Lo: 0, Hi: len(j.items)}}
}
