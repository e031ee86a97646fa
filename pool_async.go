package mp

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// AsyncResult is the result of ApplyAsync or MapAsync (Python's AsyncResult). It is safe
// for concurrent use; its zero value is not usable.
type AsyncResult[R any] struct {
	done     chan struct{}
	val      R
	err      error
	once     sync.Once
	onResult func(R)
	onError  func(error)

	mu     sync.Mutex
	cancel func()
}

func newAsyncResult[R any]() *AsyncResult[R] {
	return &AsyncResult[R]{done: make(chan struct{})}
}

func (r *AsyncResult[R]) setCallbacks(cfg mapConfig) error {
	if cfg.onResult != nil {
		f, ok := cfg.onResult.(func(R))
		if !ok {
			var zero R
			return fmt.Errorf("mp: OnResult: callback is %T, want func(%T)", cfg.onResult, zero)
		}
		r.onResult = f
	}
	r.onError = cfg.onError
	return nil
}

func (r *AsyncResult[R]) setCancel(f func()) {
	r.mu.Lock()
	r.cancel = f
	r.mu.Unlock()
}

// resolve sets the outcome once, closes Done, then runs the callback.
func (r *AsyncResult[R]) resolve(v R, err error) {
	r.once.Do(func() {
		r.val, r.err = v, err
		close(r.done)
		if err == nil && r.onResult != nil {
			r.onResult(v)
		}
		if err != nil && r.onError != nil {
			r.onError(err)
		}
	})
}

// Get waits for the result (Python's get). When ctx ends first it returns an error
// wrapping ctx.Err() (a deadline also matches ErrTimeout) and the task keeps running:
// Get may be called again.
func (r *AsyncResult[R]) Get(ctx context.Context) (R, error) {
	select {
	case <-r.done:
		return r.val, r.err
	default:
	}
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		var zero R
		return zero, poolWaitErr("mp: get result", ctx.Err())
	}
}

// TryGet returns the result without waiting; ok is false while the task runs.
func (r *AsyncResult[R]) TryGet() (v R, err error, ok bool) {
	select {
	case <-r.done:
		return r.val, r.err, true
	default:
		return v, nil, false
	}
}

// Wait waits until the result is ready (Python's wait). When ctx ends first it returns
// an error wrapping ctx.Err() and the task keeps running.
func (r *AsyncResult[R]) Wait(ctx context.Context) error {
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return poolWaitErr("mp: wait for result", ctx.Err())
	}
}

// Ready reports whether the task has finished (Python's ready).
func (r *AsyncResult[R]) Ready() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Successful reports whether the task finished without error; false while it runs.
func (r *AsyncResult[R]) Successful() bool {
	select {
	case <-r.done:
		return r.err == nil
	default:
		return false
	}
}

// Done returns a channel closed when the task has finished.
func (r *AsyncResult[R]) Done() <-chan struct{} { return r.done }

// Cancel stops the task: not yet started, it never runs; running, its context is
// cancelled (and with WithKillOnCancel its worker killed). Get then returns an error
// matching context.Canceled, unless the task had already finished.
func (r *AsyncResult[R]) Cancel() {
	r.mu.Lock()
	c := r.cancel
	r.mu.Unlock()
	if c != nil {
		c()
	}
	var zero R
	r.resolve(zero, fmt.Errorf("mp: task cancelled: %w", context.Canceled))
}

// ApplyAsync runs fn(arg) in one of the pool's workers and returns at once (Python's
// apply_async). Errors (an unregistered fn, a closed pool, fn's own error, a panic, a lost
// worker) come from Get.
func ApplyAsync[A, R any](p *Pool, fn *Func[A, R], arg A, opts ...MapOption) *AsyncResult[R] {
	r := newAsyncResult[R]()
	cfg, err := mapOptions(opts)
	if err == nil {
		err = r.setCallbacks(cfg)
	}
	if err != nil {
		var zero R
		r.resolve(zero, err)
		return r
	}
	j, err := startApply(p, fn, arg, func(j *poolMapJob[A, R]) {
		v, err := j.results[0], j.err()
		var me *MapError
		if errors.As(err, &me) {
			err = me.Errors[0].Err
		}
		r.resolve(v, err)
	})
	if err != nil {
		var zero R
		r.resolve(zero, err)
		return r
	}
	r.setCancel(func() { j.stop.Store(true); p.cancelJob(j, cfg.killOnCancel) })
	return r
}

func startApply[A, R any](p *Pool, fn *Func[A, R], arg A, complete func(*poolMapJob[A, R])) (*poolMapJob[A, R], error) {
	name := fn.Name()
	if err := p.check(name, fn); err != nil {
		return nil, fmt.Errorf("mp: apply %q: %w", name, err)
	}
	j := newPoolMapJob[A, R](name, []A{arg}, nil, complete)
	if err := p.submit(j.tasks()); err != nil {
		return nil, fmt.Errorf("mp: apply %q: %w", name, err)
	}
	return j, nil
}

// Apply runs fn(arg) in one of the pool's workers and waits for its result (Python's
// apply). When ctx ends first the task is cancelled (its context, for a RegisterCtx
// function; its worker too with WithKillOnCancel) and Apply returns an error wrapping
// ctx.Err().
func Apply[A, R any](ctx context.Context, p *Pool, fn *Func[A, R], arg A, opts ...MapOption) (R, error) {
	var zero R
	cfg, err := mapOptions(opts)
	if err != nil {
		return zero, err
	}
	done := make(chan struct{})
	j, err := startApply(p, fn, arg, func(*poolMapJob[A, R]) { close(done) })
	if err != nil {
		return zero, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		j.stop.Store(true)
		p.cancelJob(j, cfg.killOnCancel)
		return zero, poolWaitErr(fmt.Sprintf("mp: apply %q", fn.Name()), ctx.Err())
	}
	if err := j.err(); err != nil {
		return j.results[0], err.(*MapError).Errors[0].Err
	}
	return j.results[0], nil
}
