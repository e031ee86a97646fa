package manager

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/mpgo/mp/internal/mgrproto"
	"github.com/mpgo/mp/internal/wire"
)

// proxyRef is a proxy's wire form. It carries the key: whoever receives a proxy can use
// the manager.
type proxyRef struct {
	Network string `cbor:"1,keyasint"`
	Addr    string `cbor:"2,keyasint"`
	Key     []byte `cbor:"3,keyasint"`
	ID      uint64 `cbor:"4,keyasint"`
	Kind    string `cbor:"5,keyasint"`
	TLS     bool   `cbor:"6,keyasint,omitempty"`
}

// proxy is what every typed proxy embeds.
type proxy struct {
	ref proxyRef
	c   atomic.Pointer[client]
	tok uint64 // owner token (RLock, Condition): one per proxy value
}

func newToken() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

func (p *proxy) init(m *Manager, id uint64, kind string) {
	p.ref = proxyRef{Network: m.network, Addr: m.addr, Key: m.key, ID: id, Kind: kind, TLS: m.tls}
	p.c.Store(m.c)
	p.tok = newToken()
}

func (p *proxy) client(ctx context.Context) (*client, error) {
	if c := p.c.Load(); c != nil {
		return c, nil
	}
	if p.ref.ID == 0 {
		return nil, fmt.Errorf("mp: manager: use of a zero %s proxy", p.kindName())
	}
	c, err := sharedClient(ctx, &p.ref)
	if err != nil {
		return nil, err
	}
	p.c.CompareAndSwap(nil, c)
	return p.c.Load(), nil
}

func (p *proxy) kindName() string {
	if p.ref.Kind == "" {
		return "manager"
	}
	return strings.TrimPrefix(p.ref.Kind, mgrproto.CustomKindPrefx)
}

// do runs one operation on the proxied object.
func (p *proxy) do(ctx context.Context, req mgrproto.Request) (*mgrproto.Response, error) {
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	req.Obj = p.ref.ID
	req.Tok = p.tok
	resp, err := c.call(ctx, &req)
	if err != nil {
		if ctx.Err() != nil && err == ctx.Err() {
			return resp, err
		}
		return resp, fmt.Errorf("mp: %s.%s: %w", p.kindName(), req.Op, err)
	}
	return resp, nil
}

// String names the object by manager address and id, never by key.
func (p *proxy) String() string {
	return fmt.Sprintf("%s(%s:%s#%d)", p.kindName(), p.ref.Network, p.ref.Addr, p.ref.ID)
}

// ID returns the object's id on its manager.
func (p *proxy) ID() uint64 { return p.ref.ID }

// MarshalCBOR encodes the proxy as (address, key, object id), so it can be passed to
// another process.
func (p *proxy) MarshalCBOR() ([]byte, error) {
	if p.ref.ID == 0 {
		return nil, fmt.Errorf("mp: manager: cannot pass a zero %s proxy", p.kindName())
	}
	return wire.Marshal(&p.ref)
}

func (p *proxy) decode(b []byte, kinds ...string) error {
	var ref proxyRef
	if err := wire.Unmarshal(b, &ref); err != nil {
		return err
	}
	ok := false
	for _, k := range kinds {
		ok = ok || ref.Kind == k
	}
	if !ok {
		return fmt.Errorf("mp: manager: a %s proxy cannot be decoded as %s", ref.Kind, strings.Join(kinds, "/"))
	}
	p.ref = ref
	p.c.Store(nil)
	p.tok = newToken()
	return nil
}

// Free drops the object on the manager; the proxy (and its copies) are then unusable.
// Objects otherwise live until the manager shuts down.
func (p *proxy) Free(ctx context.Context) error {
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, &mgrproto.Request{Op: mgrproto.OpFree, Obj: p.ref.ID})
	return err
}

// create makes an object on m and returns its id.
func create(ctx context.Context, m *Manager, kind string, n int64, args []wire.RawMessage) (uint64, error) {
	if m == nil || m.c == nil {
		return 0, fmt.Errorf("mp: manager: create %s: nil Manager", kind)
	}
	resp, err := m.c.call(ctx, &mgrproto.Request{Op: mgrproto.OpCreate, Name: kind, Int: n, Args: args})
	if err != nil {
		return 0, fmt.Errorf("mp: manager: create %s: %w", kind, err)
	}
	return uint64(resp.Int), nil
}

func encode(vs ...any) ([]wire.RawMessage, error) {
	out := make([]wire.RawMessage, len(vs))
	for i, v := range vs {
		b, err := wire.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func encodeSlice[T any](vs []T) ([]wire.RawMessage, error) {
	out := make([]wire.RawMessage, len(vs))
	for i := range vs {
		b, err := wire.Marshal(&vs[i])
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func decodeOne[T any](resp *mgrproto.Response) (T, error) {
	var v T
	if len(resp.Vals) == 0 {
		return v, fmt.Errorf("%w: missing value in reply", ErrBadRequest)
	}
	err := wire.Unmarshal(resp.Vals[0], &v)
	return v, err
}

func decodeAll[T any](vals []wire.RawMessage) ([]T, error) {
	out := make([]T, len(vals))
	for i, b := range vals {
		if err := wire.Unmarshal(b, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeInto(b []byte, ptr any) error { return wire.Unmarshal(b, ptr) }

// Proxy is implemented by every proxy type (*Dict, *List, *Lock, *Object, ...).
type Proxy interface {
	base() *proxy
	UnmarshalCBOR([]byte) error
}

func (p *proxy) base() *proxy { return p }

// Publish makes the object behind p reachable by name, for clients that connect by
// address and key and hold no proxy yet (Python registers a callable such as get_queue
// for this). Publishing a name again replaces it.
func (m *Manager) Publish(ctx context.Context, name string, p Proxy) error {
	b := p.base()
	if b.ref.ID == 0 {
		return fmt.Errorf("mp: manager: publish %q: zero proxy", name)
	}
	_, err := m.c.call(ctx, &mgrproto.Request{Op: mgrproto.OpPublish, Name: name, Obj: b.ref.ID})
	if err != nil {
		return fmt.Errorf("mp: manager: publish %q: %w", name, err)
	}
	return nil
}

// Lookup sets p to the object published under name. p's type must match the object's
// kind (a *Queue[T] for a queue, ...); a missing name is ErrNotFound.
func (m *Manager) Lookup(ctx context.Context, name string, p Proxy) error {
	resp, err := m.c.call(ctx, &mgrproto.Request{Op: mgrproto.OpLookup, Name: name})
	if err != nil {
		return fmt.Errorf("mp: manager: lookup %q: %w", name, err)
	}
	kind, err := decodeOne[string](resp)
	if err != nil {
		return err
	}
	ref := proxyRef{Network: m.network, Addr: m.addr, Key: m.key, ID: uint64(resp.Int), Kind: kind, TLS: m.tls}
	enc, err := wire.Marshal(&ref)
	if err != nil {
		return err
	}
	if err := p.UnmarshalCBOR(enc); err != nil {
		return fmt.Errorf("mp: manager: lookup %q: %w", name, err)
	}
	p.base().c.Store(m.c)
	return nil
}
