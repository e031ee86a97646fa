package manager

import (
	"context"
	"fmt"
	"strings"

	op "github.com/mpgo/mp/internal/mgrproto"
)

// Dict is a proxy for a dict on the manager: Python's manager.dict(). Keys of any
// comparable type, mixed ones included with K = any (1, "2" and 0.25 are three keys),
// compare by their CBOR encoding; iteration keeps insertion order. Decoded into any, an
// integer key comes back as int64, a float as float64.
type Dict[K comparable, V any] struct{ proxy }

// Item is one key and value of a Dict.
type Item[K comparable, V any] struct {
	Key   K
	Value V
}

// Items is a Dict's contents in insertion order. It prints like a Go map, unsorted.
type Items[K comparable, V any] []Item[K, V]

func (it Items[K, V]) String() string {
	var b strings.Builder
	b.WriteString("map[")
	for i, kv := range it {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v:%v", kv.Key, kv.Value)
	}
	b.WriteByte(']')
	return b.String()
}

// Map returns the items as a Go map.
func (it Items[K, V]) Map() map[K]V {
	m := make(map[K]V, len(it))
	for _, kv := range it {
		m[kv.Key] = kv.Value
	}
	return m
}

// NewDict creates an empty dict on m.
func NewDict[K comparable, V any](ctx context.Context, m *Manager) (*Dict[K, V], error) {
	id, err := create(ctx, m, op.KindDict, 0, nil)
	if err != nil {
		return nil, err
	}
	d := &Dict[K, V]{}
	d.init(m, id, op.KindDict)
	return d, nil
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (d *Dict[K, V]) UnmarshalCBOR(b []byte) error { return d.decode(b, op.KindDict) }

// Set sets d[k] = v.
func (d *Dict[K, V]) Set(ctx context.Context, k K, v V) error {
	args, err := encode(k, v)
	if err != nil {
		return err
	}
	_, err = d.do(ctx, op.Request{Op: op.OpSet, Args: args})
	return err
}

// Get returns d[k] and whether k is present.
func (d *Dict[K, V]) Get(ctx context.Context, k K) (V, bool, error) {
	var zero V
	args, err := encode(k)
	if err != nil {
		return zero, false, err
	}
	resp, err := d.do(ctx, op.Request{Op: op.OpGet, Args: args})
	if err != nil || !resp.OK {
		return zero, false, err
	}
	v, err := decodeOne[V](resp)
	return v, err == nil, err
}

// Has reports whether k is present.
func (d *Dict[K, V]) Has(ctx context.Context, k K) (bool, error) {
	return d.keyOp(ctx, op.OpHas, k)
}

// Delete removes k and reports whether it was present.
func (d *Dict[K, V]) Delete(ctx context.Context, k K) (bool, error) {
	return d.keyOp(ctx, op.OpDelete, k)
}

func (d *Dict[K, V]) keyOp(ctx context.Context, o op.Op, k K) (bool, error) {
	args, err := encode(k)
	if err != nil {
		return false, err
	}
	resp, err := d.do(ctx, op.Request{Op: o, Args: args})
	if err != nil {
		return false, err
	}
	return resp.OK, nil
}

// Pop removes k and returns its value, if it was present.
func (d *Dict[K, V]) Pop(ctx context.Context, k K) (V, bool, error) {
	var zero V
	args, err := encode(k)
	if err != nil {
		return zero, false, err
	}
	resp, err := d.do(ctx, op.Request{Op: op.OpPop, Args: args})
	if err != nil || !resp.OK {
		return zero, false, err
	}
	v, err := decodeOne[V](resp)
	return v, err == nil, err
}

// GetOrSet returns d[k] if present (loaded true); otherwise it sets d[k] = v and returns
// v. One atomic call: Python's setdefault.
func (d *Dict[K, V]) GetOrSet(ctx context.Context, k K, v V) (actual V, loaded bool, err error) {
	args, err := encode(k, v)
	if err != nil {
		return actual, false, err
	}
	resp, err := d.do(ctx, op.Request{Op: op.OpGetOrSet, Args: args})
	if err != nil {
		return actual, false, err
	}
	actual, err = decodeOne[V](resp)
	return actual, resp.OK, err
}

// Update sets every item of m, in one atomic call.
func (d *Dict[K, V]) Update(ctx context.Context, m map[K]V) error {
	items := make(Items[K, V], 0, len(m))
	for k, v := range m {
		items = append(items, Item[K, V]{k, v})
	}
	return d.UpdateItems(ctx, items...)
}

// UpdateItems sets the items in order, in one atomic call.
func (d *Dict[K, V]) UpdateItems(ctx context.Context, items ...Item[K, V]) error {
	args := make([]any, 0, 2*len(items))
	for _, kv := range items {
		args = append(args, kv.Key, kv.Value)
	}
	enc, err := encode(args...)
	if err != nil {
		return err
	}
	_, err = d.do(ctx, op.Request{Op: op.OpUpdate, Args: enc})
	return err
}

// Len returns the number of items.
func (d *Dict[K, V]) Len(ctx context.Context) (int, error) {
	resp, err := d.do(ctx, op.Request{Op: op.OpLen})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

// Items returns a snapshot of the items in insertion order.
func (d *Dict[K, V]) Items(ctx context.Context) (Items[K, V], error) {
	resp, err := d.do(ctx, op.Request{Op: op.OpItems})
	if err != nil {
		return nil, err
	}
	out := make(Items[K, V], len(resp.Vals)/2)
	for i := range out {
		if err := decodeInto(resp.Vals[2*i], &out[i].Key); err != nil {
			return nil, err
		}
		if err := decodeInto(resp.Vals[2*i+1], &out[i].Value); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Keys returns the keys in insertion order.
func (d *Dict[K, V]) Keys(ctx context.Context) ([]K, error) {
	items, err := d.Items(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]K, len(items))
	for i, kv := range items {
		keys[i] = kv.Key
	}
	return keys, nil
}

// Clear removes every item.
func (d *Dict[K, V]) Clear(ctx context.Context) error {
	_, err := d.do(ctx, op.Request{Op: op.OpClear})
	return err
}

// List is a proxy for a list on the manager: Python's manager.list().
type List[T any] struct{ proxy }

// NewList creates a list on m holding initial.
func NewList[T any](ctx context.Context, m *Manager, initial ...T) (*List[T], error) {
	args, err := encodeSlice(initial)
	if err != nil {
		return nil, err
	}
	id, err := create(ctx, m, op.KindList, 0, args)
	if err != nil {
		return nil, err
	}
	l := &List[T]{}
	l.init(m, id, op.KindList)
	return l, nil
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (l *List[T]) UnmarshalCBOR(b []byte) error { return l.decode(b, op.KindList) }

// Append appends vs in one atomic call (Python's append and extend) and returns the new
// length.
func (l *List[T]) Append(ctx context.Context, vs ...T) (int, error) {
	args, err := encodeSlice(vs)
	if err != nil {
		return 0, err
	}
	resp, err := l.do(ctx, op.Request{Op: op.OpAppend, Args: args})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

// Get returns l[i]; a negative i counts from the end.
func (l *List[T]) Get(ctx context.Context, i int) (T, error) { return getIndex[T](ctx, &l.proxy, i) }

// Set sets l[i] = v; a negative i counts from the end.
func (l *List[T]) Set(ctx context.Context, i int, v T) error { return setIndex(ctx, &l.proxy, i, v) }

// Len returns the length.
func (l *List[T]) Len(ctx context.Context) (int, error) { return length(ctx, &l.proxy) }

// All returns a snapshot of the values.
func (l *List[T]) All(ctx context.Context) ([]T, error) { return all[T](ctx, &l.proxy) }

// Replace replaces the contents with vs.
func (l *List[T]) Replace(ctx context.Context, vs []T) error { return replace(ctx, &l.proxy, vs) }

// Insert inserts v before index i (clamped, as in Python).
func (l *List[T]) Insert(ctx context.Context, i int, v T) error {
	args, err := encode(v)
	if err != nil {
		return err
	}
	_, err = l.do(ctx, op.Request{Op: op.OpInsert, Int: int64(i), Args: args})
	return err
}

// Pop removes and returns l[i] (Python's pop(i); -1 is the last).
func (l *List[T]) Pop(ctx context.Context, i int) (T, error) {
	resp, err := l.do(ctx, op.Request{Op: op.OpPop, Int: int64(i)})
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeOne[T](resp)
}

// Remove removes the first value equal to v (by encoding); ErrNotFound if none.
func (l *List[T]) Remove(ctx context.Context, v T) error {
	args, err := encode(v)
	if err != nil {
		return err
	}
	_, err = l.do(ctx, op.Request{Op: op.OpRemove, Args: args})
	return err
}

// Index returns the index of the first value equal to v; ErrNotFound if none.
func (l *List[T]) Index(ctx context.Context, v T) (int, error) {
	args, err := encode(v)
	if err != nil {
		return 0, err
	}
	resp, err := l.do(ctx, op.Request{Op: op.OpIndex, Args: args})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

// Count returns how many values equal v.
func (l *List[T]) Count(ctx context.Context, v T) (int, error) {
	args, err := encode(v)
	if err != nil {
		return 0, err
	}
	resp, err := l.do(ctx, op.Request{Op: op.OpCount, Args: args})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

// Reverse reverses the list in place.
func (l *List[T]) Reverse(ctx context.Context) error {
	_, err := l.do(ctx, op.Request{Op: op.OpReverse})
	return err
}

// Clear empties the list.
func (l *List[T]) Clear(ctx context.Context) error {
	_, err := l.do(ctx, op.Request{Op: op.OpClear})
	return err
}

// Array is a proxy for a fixed-length array on the manager: Python's manager.Array().
type Array[T any] struct{ proxy }

// NewArray creates an array on m holding initial; its length never changes.
func NewArray[T any](ctx context.Context, m *Manager, initial []T) (*Array[T], error) {
	args, err := encodeSlice(initial)
	if err != nil {
		return nil, err
	}
	id, err := create(ctx, m, op.KindArray, int64(len(args)), args)
	if err != nil {
		return nil, err
	}
	a := &Array[T]{}
	a.init(m, id, op.KindArray)
	return a, nil
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (a *Array[T]) UnmarshalCBOR(b []byte) error { return a.decode(b, op.KindArray) }

// Get returns a[i]; a negative i counts from the end.
func (a *Array[T]) Get(ctx context.Context, i int) (T, error) { return getIndex[T](ctx, &a.proxy, i) }

// Set sets a[i] = v.
func (a *Array[T]) Set(ctx context.Context, i int, v T) error { return setIndex(ctx, &a.proxy, i, v) }

// Len returns the length.
func (a *Array[T]) Len(ctx context.Context) (int, error) { return length(ctx, &a.proxy) }

// All returns a snapshot of the values.
func (a *Array[T]) All(ctx context.Context) ([]T, error) { return all[T](ctx, &a.proxy) }

// SetAll replaces every value; vs must have the array's length.
func (a *Array[T]) SetAll(ctx context.Context, vs []T) error { return replace(ctx, &a.proxy, vs) }

func getIndex[T any](ctx context.Context, p *proxy, i int) (T, error) {
	resp, err := p.do(ctx, op.Request{Op: op.OpGet, Int: int64(i)})
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeOne[T](resp)
}

func setIndex[T any](ctx context.Context, p *proxy, i int, v T) error {
	args, err := encode(v)
	if err != nil {
		return err
	}
	_, err = p.do(ctx, op.Request{Op: op.OpSet, Int: int64(i), Args: args})
	return err
}

func length(ctx context.Context, p *proxy) (int, error) {
	resp, err := p.do(ctx, op.Request{Op: op.OpLen})
	if err != nil {
		return 0, err
	}
	return int(resp.Int), nil
}

func all[T any](ctx context.Context, p *proxy) ([]T, error) {
	resp, err := p.do(ctx, op.Request{Op: op.OpItems})
	if err != nil {
		return nil, err
	}
	return decodeAll[T](resp.Vals)
}

func replace[T any](ctx context.Context, p *proxy, vs []T) error {
	args, err := encodeSlice(vs)
	if err != nil {
		return err
	}
	_, err = p.do(ctx, op.Request{Op: op.OpUpdate, Args: args})
	return err
}

// Namespace is a proxy for a namespace on the manager: named attributes of any
// encodable type (Python's manager.Namespace()).
type Namespace struct{ proxy }

// NewNamespace creates an empty namespace on m.
func NewNamespace(ctx context.Context, m *Manager) (*Namespace, error) {
	id, err := create(ctx, m, op.KindNamespace, 0, nil)
	if err != nil {
		return nil, err
	}
	n := &Namespace{}
	n.init(m, id, op.KindNamespace)
	return n, nil
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (n *Namespace) UnmarshalCBOR(b []byte) error { return n.decode(b, op.KindNamespace) }

// Set sets attribute name to v.
func (n *Namespace) Set(ctx context.Context, name string, v any) error {
	args, err := encode(v)
	if err != nil {
		return err
	}
	_, err = n.do(ctx, op.Request{Op: op.OpSet, Name: name, Args: args})
	return err
}

// Get decodes attribute name into ptr; a missing attribute is ErrNotFound.
func (n *Namespace) Get(ctx context.Context, name string, ptr any) error {
	resp, err := n.do(ctx, op.Request{Op: op.OpGet, Name: name})
	if err != nil {
		return err
	}
	if !resp.OK {
		return fmt.Errorf("mp: namespace has no attribute %q: %w", name, ErrNotFound)
	}
	return decodeInto(resp.Vals[0], ptr)
}

// Delete removes attribute name and reports whether it existed.
func (n *Namespace) Delete(ctx context.Context, name string) (bool, error) {
	resp, err := n.do(ctx, op.Request{Op: op.OpDelete, Name: name})
	if err != nil {
		return false, err
	}
	return resp.OK, nil
}

// Attrs returns every attribute, decoded into Go's default types.
func (n *Namespace) Attrs(ctx context.Context) (map[string]any, error) {
	resp, err := n.do(ctx, op.Request{Op: op.OpItems})
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(resp.Vals)/2)
	for i := 0; i+1 < len(resp.Vals); i += 2 {
		var k string
		var v any
		if err := decodeInto(resp.Vals[i], &k); err != nil {
			return nil, err
		}
		if err := decodeInto(resp.Vals[i+1], &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// Attr returns attribute name of ns as a T.
func Attr[T any](ctx context.Context, ns *Namespace, name string) (T, error) {
	var v T
	err := ns.Get(ctx, name, &v)
	return v, err
}

// Value is a proxy for one value on the manager: Python's manager.Value().
type Value[T any] struct{ proxy }

// NewValue creates a value on m holding initial.
func NewValue[T any](ctx context.Context, m *Manager, initial T) (*Value[T], error) {
	args, err := encode(initial)
	if err != nil {
		return nil, err
	}
	id, err := create(ctx, m, op.KindValue, 0, args)
	if err != nil {
		return nil, err
	}
	v := &Value[T]{}
	v.init(m, id, op.KindValue)
	return v, nil
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (v *Value[T]) UnmarshalCBOR(b []byte) error { return v.decode(b, op.KindValue) }

// Get returns the value.
func (v *Value[T]) Get(ctx context.Context) (T, error) {
	resp, err := v.do(ctx, op.Request{Op: op.OpGet})
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeOne[T](resp)
}

// Set sets the value.
func (v *Value[T]) Set(ctx context.Context, x T) error {
	args, err := encode(x)
	if err != nil {
		return err
	}
	_, err = v.do(ctx, op.Request{Op: op.OpSet, Args: args})
	return err
}

// Swap sets the value and returns the old one, atomically.
func (v *Value[T]) Swap(ctx context.Context, x T) (T, error) {
	var zero T
	args, err := encode(x)
	if err != nil {
		return zero, err
	}
	resp, err := v.do(ctx, op.Request{Op: op.OpSwap, Args: args})
	if err != nil {
		return zero, err
	}
	return decodeOne[T](resp)
}

// CompareAndSwap sets the value to new if it equals old (by encoding).
func (v *Value[T]) CompareAndSwap(ctx context.Context, old, new T) (bool, error) {
	args, err := encode(old, new)
	if err != nil {
		return false, err
	}
	resp, err := v.do(ctx, op.Request{Op: op.OpCAS, Args: args})
	if err != nil {
		return false, err
	}
	return resp.OK, nil
}

// Add adds delta to a numeric value atomically and returns the sum (integers stay
// integers and fail on overflow; a float on either side makes a float). For a
// non-numeric T it fails with ErrBadRequest.
func (v *Value[T]) Add(ctx context.Context, delta T) (T, error) {
	var zero T
	args, err := encode(delta)
	if err != nil {
		return zero, err
	}
	resp, err := v.do(ctx, op.Request{Op: op.OpAdd, Args: args})
	if err != nil {
		return zero, err
	}
	return decodeOne[T](resp)
}

// Queue is a proxy for a FIFO queue on the manager: Python's manager.Queue().
type Queue[T any] struct{ proxy }

// NewQueue creates a queue on m holding at most maxsize items (0: unbounded).
func NewQueue[T any](ctx context.Context, m *Manager, maxsize int) (*Queue[T], error) {
	if maxsize < 0 {
		return nil, fmt.Errorf("mp: manager.NewQueue: negative maxsize %d", maxsize)
	}
	id, err := create(ctx, m, op.KindQueue, int64(maxsize), nil)
	if err != nil {
		return nil, err
	}
	q := &Queue[T]{}
	q.init(m, id, op.KindQueue)
	return q, nil
}

// UnmarshalCBOR rebuilds a proxy passed to this process.
func (q *Queue[T]) UnmarshalCBOR(b []byte) error { return q.decode(b, op.KindQueue) }

// Put adds v, waiting while the queue is full. Cancelling ctx withdraws it: the call then
// returns ctx.Err() and v was not added.
func (q *Queue[T]) Put(ctx context.Context, v T) error { return q.put(ctx, v, false) }

// TryPut adds v if there is room now, or returns an error matching mp.ErrFull.
func (q *Queue[T]) TryPut(ctx context.Context, v T) error { return q.put(ctx, v, true) }

func (q *Queue[T]) put(ctx context.Context, v T, try bool) error {
	args, err := encode(v)
	if err != nil {
		return err
	}
	_, err = q.do(ctx, op.Request{Op: op.OpPut, Args: args, Try: try})
	return err
}

// Get removes and returns the oldest item, waiting while the queue is empty. Cancelling
// ctx withdraws it: ctx.Err(), and no item was taken.
func (q *Queue[T]) Get(ctx context.Context) (T, error) { return q.get(ctx, false) }

// TryGet returns the oldest item if there is one now, or an error matching mp.ErrEmpty.
func (q *Queue[T]) TryGet(ctx context.Context) (T, error) { return q.get(ctx, true) }

func (q *Queue[T]) get(ctx context.Context, try bool) (T, error) {
	resp, err := q.do(ctx, op.Request{Op: op.OpGet, Try: try})
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeOne[T](resp)
}

// Len returns the number of items (Python's qsize).
func (q *Queue[T]) Len(ctx context.Context) (int, error) { return length(ctx, &q.proxy) }
