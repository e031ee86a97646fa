package manager

import (
	"context"
	"fmt"
	"strings"

	op "github.com/mpgo/mp/internal/mgrproto"
	"github.com/mpgo/mp/internal/wire"
)

// Method is one method of a registered type that clients may call (see Expose).
type Method[T any] struct {
	name string
	fn   op.Method
}

// Expose makes fn callable by name on objects of a registered type: fn receives the
// server's *T and the decoded argument, and its result (or error) goes back to the
// caller. Methods run one at a time per manager (every operation is atomic), so they
// must not block.
func Expose[T, A, R any](name string, fn func(*T, A) (R, error)) Method[T] {
	return Method[T]{name: name, fn: func(obj any, args []wire.RawMessage) ([]wire.RawMessage, error) {
		var a A
		if len(args) != 1 {
			return nil, fmt.Errorf("%w: method %q takes one argument", ErrBadRequest, name)
		}
		if err := wire.Unmarshal(args[0], &a); err != nil {
			return nil, fmt.Errorf("%w: method %q: %v", ErrBadRequest, name, err)
		}
		r, err := fn(obj.(*T), a)
		if err != nil {
			return nil, err
		}
		b, err := wire.Marshal(r)
		if err != nil {
			return nil, err
		}
		return []wire.RawMessage{b}, nil
	}}
}

// Type is a registered custom type: Python's BaseManager.register(typeid, callable,
// exposed=...). Only the methods given to RegisterType can be called on its objects.
type Type[T any] struct{ name string }

// RegisterType registers a type the manager server can create by name, with newFn
// making each object and methods the only operations on it. Call it at package level
// (var counterType = manager.RegisterType(...)) so the server's process — a re-executed
// child, or a remote program built with the same registration — knows it too.
// Registering a name twice panics.
func RegisterType[T any](name string, newFn func() *T, methods ...Method[T]) *Type[T] {
	ms := make(map[string]op.Method, len(methods))
	for _, m := range methods {
		if _, dup := ms[m.name]; dup {
			panic(fmt.Sprintf("mp: manager.RegisterType(%q): method %q given twice", name, m.name))
		}
		ms[m.name] = m.fn
	}
	op.RegisterType(&op.Type{
		Name:    name,
		New:     func([]wire.RawMessage) (any, error) { return newFn(), nil },
		Methods: ms,
	})
	return &Type[T]{name: name}
}

// Name returns the registered name.
func (t *Type[T]) Name() string { return t.name }

// New creates an object of this type on m.
func (t *Type[T]) New(ctx context.Context, m *Manager) (*Object, error) {
	kind := op.CustomKindPrefx + t.name
	id, err := create(ctx, m, kind, 0, nil)
	if err != nil {
		return nil, err
	}
	o := &Object{}
	o.init(m, id, kind)
	return o, nil
}

// Object is a proxy for an object of a registered type. Call its methods with Call.
type Object struct{ proxy }

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (o *Object) UnmarshalCBOR(b []byte) error {
	var ref proxyRef
	if err := wire.Unmarshal(b, &ref); err != nil {
		return err
	}
	if !strings.HasPrefix(ref.Kind, op.CustomKindPrefx) {
		return fmt.Errorf("mp: manager: a %s proxy cannot be decoded as a custom Object", ref.Kind)
	}
	return o.decode(b, ref.Kind)
}

// Call calls the registered method of o with arg and returns its result as an R. A
// method that was not registered is an error matching mp.ErrNotRegistered; a panic in
// the method comes back as an *mp.PanicError (the server keeps serving).
func Call[R any](ctx context.Context, o *Object, method string, arg any) (R, error) {
	var zero R
	args, err := encode(arg)
	if err != nil {
		return zero, err
	}
	resp, err := o.do(ctx, op.Request{Op: op.OpCall, Name: method, Args: args})
	if err != nil {
		return zero, err
	}
	return decodeOne[R](resp)
}
