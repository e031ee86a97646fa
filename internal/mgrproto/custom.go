package mgrproto

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// Method is a callable method of a registered type: it decodes its own arguments and
// encodes its result, so the server stays free of the user's Go types.
type Method func(obj any, args []wire.RawMessage) ([]wire.RawMessage, error)

// Type is a registered custom object type.
type Type struct {
	Name    string
	New     func(args []wire.RawMessage) (any, error)
	Methods map[string]Method
}

var (
	typesMu sync.RWMutex
	types   = map[string]*Type{}
)

// RegisterType makes a type creatable by name. Registering a name twice panics.
func RegisterType(t *Type) {
	typesMu.Lock()
	defer typesMu.Unlock()
	if _, dup := types[t.Name]; dup {
		panic(fmt.Sprintf("mp: manager type %q registered twice", t.Name))
	}
	types[t.Name] = t
}

func lookupType(name string) (*Type, bool) {
	typesMu.RLock()
	defer typesMu.RUnlock()
	t, ok := types[name]
	return t, ok
}

type custom struct {
	noWaiters
	typ *Type
	obj any
}

func newCustom(req *Request) (o *custom, err error) {
	name, ok := strings.CutPrefix(req.Name, CustomKindPrefx)
	if !ok {
		return nil, badf("unknown object kind %q", req.Name)
	}
	t, ok := lookupType(name)
	if !ok {
		return nil, fmt.Errorf("%w: manager type %q", errs.ErrNotRegistered, name)
	}
	defer func() {
		if r := recover(); r != nil {
			err = &errs.PanicError{Value: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	obj, err := t.New(req.Args)
	if err != nil {
		return nil, err
	}
	return &custom{typ: t, obj: obj}, nil
}

func (o *custom) handle(s *State, c ConnID, req *Request) (resp Response, parked bool) {
	if req.Op != OpCall {
		return unsupported(req, o.typ.Name), false
	}
	m, ok := o.typ.Methods[req.Name]
	if !ok {
		return errResp(0, fmt.Errorf("%w: method %q of manager type %q", errs.ErrNotRegistered, req.Name, o.typ.Name)), false
	}
	defer func() {
		if r := recover(); r != nil {
			resp = errResp(0, &errs.PanicError{Value: fmt.Sprint(r), Stack: string(debug.Stack())})
		}
	}()
	vals, err := m(o.obj, req.Args)
	if err != nil {
		return errResp(0, err), false
	}
	return Response{OK: true, Vals: vals}, false
}
