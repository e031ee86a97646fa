package mp

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mpgo/mp/internal/wire"
)

// Func is a handle to a function registered to run in a child process. It is created
// only by Register and its siblings, at package level, so that the parent and every child
// (the same binary, re-executed) agree on what each name means. A Func is safe for
// concurrent use; its zero value is not registered and is refused with ErrNotRegistered.
type Func[A, R any] struct {
	name string
	call func(context.Context, A) (R, error)
}

// Name returns the name the function was registered under.
func (f *Func[A, R]) Name() string {
	if f == nil {
		return ""
	}
	return f.name
}

// entry is the untyped view of a registered function that a child runs.
type entry struct {
	name   string
	source string // where fn was defined, for error messages
	handle any    // the *Func
	// invoke decodes the argument, calls the function and encodes the result.
	invoke func(ctx context.Context, arg []byte) ([]byte, error)
	// serve, when set, runs instead of invoke and owns the child's control socket
	// (package mp's own services, such as pool workers).
	serve func(ctx context.Context, ctrl *os.File, arg []byte) error
	// batch runs a batch of items in a pool worker (see pool_worker.go).
	batch poolBatchFunc
}

var (
	registryMu sync.RWMutex
	registry   = map[string]*entry{}
	// mainCalled is set by Main; Register after it is refused, Start before it is ErrNoMain.
	mainCalled atomic.Bool
)

// Register registers fn, a function of one argument with no result, to run in a child
// (the shape of Python's Process target). Call it only in a package-level var declaration
// or an init function:
//
//	var hello = mp.Register("hello", func(name string) { fmt.Println("hello", name) })
//
// A duplicate name, or a call after Main (a closure made at run time cannot be found by
// the child), panics.
func Register[A any](name string, fn func(A)) *Func[A, struct{}] {
	if fn == nil {
		panic(fmt.Sprintf("mp: Register(%q): nil function", name))
	}
	return register(name, fn, func(_ context.Context, a A) (struct{}, error) { fn(a); return struct{}{}, nil })
}

// Register0 registers fn, a function with no argument and no result.
func Register0(name string, fn func()) *Func[struct{}, struct{}] {
	if fn == nil {
		panic(fmt.Sprintf("mp: Register0(%q): nil function", name))
	}
	return register(name, fn, func(context.Context, struct{}) (struct{}, error) { fn(); return struct{}{}, nil })
}

// RegisterFunc registers fn, a function of one argument with one result (the shape of a
// Pool function such as f(x) = x*x).
func RegisterFunc[A, R any](name string, fn func(A) R) *Func[A, R] {
	if fn == nil {
		panic(fmt.Sprintf("mp: RegisterFunc(%q): nil function", name))
	}
	return register(name, fn, func(_ context.Context, a A) (R, error) { return fn(a), nil })
}

// RegisterErr registers fn, a function of one argument returning a result and an error.
// The error reaches the caller as a *RemoteError that keeps its identity for errors.Is
// where it wraps an mp sentinel (or io.EOF, or a context error).
func RegisterErr[A, R any](name string, fn func(A) (R, error)) *Func[A, R] {
	if fn == nil {
		panic(fmt.Sprintf("mp: RegisterErr(%q): nil function", name))
	}
	return register(name, fn, func(_ context.Context, a A) (R, error) { return fn(a) })
}

// RegisterCtx registers fn, a function taking a context. The context is cancelled when
// the task is cancelled or the parent process goes away.
func RegisterCtx[A, R any](name string, fn func(context.Context, A) (R, error)) *Func[A, R] {
	if fn == nil {
		panic(fmt.Sprintf("mp: RegisterCtx(%q): nil function", name))
	}
	return register(name, fn, fn)
}

func register[A, R any](name string, fn any, call func(context.Context, A) (R, error)) *Func[A, R] {
	src := funcSource(fn)
	if name == "" {
		panic(fmt.Sprintf("mp: Register: empty name for %s", src))
	}
	f := &Func[A, R]{name: name, call: call}
	e := &entry{name: name, source: src, handle: f, invoke: func(ctx context.Context, arg []byte) ([]byte, error) {
		var a A
		if err := wire.Unmarshal(arg, &a); err != nil {
			return nil, fmt.Errorf("mp: argument of %q: %w", name, err)
		}
		r, err := call(ctx, a)
		if err != nil {
			return nil, err
		}
		return wire.Marshal(r)
	}, batch: newPoolBatch(call, fn)}
	registryMu.Lock()
	defer registryMu.Unlock()
	if old, dup := registry[name]; dup {
		panic(fmt.Sprintf("mp: function name %q registered twice: by %s and by %s", name, old.source, src))
	}
	if mainCalled.Load() {
		panic(fmt.Sprintf("mp: Register(%q) after mp.Main: register functions in package-level var declarations "+
			"(var f = mp.Register(...)), so that child processes register them too", name))
	}
	registry[name] = e
	return f
}

// lookup returns the entry for a handle, or ErrNotRegistered.
func lookupFunc(name string, handle any) (*entry, error) {
	registryMu.RLock()
	e, ok := registry[name]
	registryMu.RUnlock()
	if !ok || (handle != nil && e.handle != handle) {
		return nil, fmt.Errorf("%w: %q (functions must be registered with mp.Register at package level)", ErrNotRegistered, name)
	}
	return e, nil
}

func funcSource(fn any) string {
	pc := reflect.ValueOf(fn).Pointer()
	if f := runtime.FuncForPC(pc); f != nil {
		file, line := f.FileLine(pc)
		return fmt.Sprintf("%s (%s:%d)", f.Name(), file, line)
	}
	return "an unknown function"
}
