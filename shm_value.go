package mp

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/psync"
	"github.com/mpgo/mp/internal/wire"
)

// ErrOutOfRange is returned for an Array index or range outside the array.
var ErrOutOfRange = errs.New("out_of_range", "mp: index out of range")

// A Value holds one T in shared memory, Python's multiprocessing.Value: pass it to a child
// Process and both see the same T. T is any fixed-size type without pointers: the Go form
// of Python's typecodes ('d' is float64, 'i' int32, 'l' int64, 'c' byte, ...), or an array
// or struct of them, like multiprocessing.sharedctypes. A type with pointers, strings,
// slices, maps, channels, funcs or interfaces is refused by NewValue.
//
// Load and Store take the Value's Lock (unless made WithoutLock), so each is atomic. For
// read-modify-write, hold Lock() and use Pointer:
//
//	l := v.Lock()
//	l.Acquire(ctx)
//	*v.Pointer() += 1
//	l.Release()
//
// Load and Store go ahead when the lock's holder died holding it (they do not report
// ErrOwnerDead; Lock().Acquire does).
//
// Integer Values also have lock-free atomics: AtomicAdd, AtomicLoad, AtomicStore,
// AtomicCompareAndSwap (do not mix them with Pointer writes). Safe for concurrent use.
type Value[T any] struct {
	seg  *shmSeg
	p    *T
	lock *Lock
}

// A SharedOption configures a Value or Array.
type SharedOption func(*sharedConfig) error

type sharedConfig struct{ raw bool }

// WithoutLock makes a Value or Array without a lock, Python's RawValue / RawArray: Load,
// Store, Get and Set do not lock, and Lock returns nil.
func WithoutLock() SharedOption {
	return func(c *sharedConfig) error { c.raw = true; return nil }
}

// valueDataOff is where a Value's or Array's data starts; its lock word is at 0.
const valueDataOff = 64

// shareableType checks that values of t can live in shared memory: fixed size, no pointers.
func shareableType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil
	case reflect.Array:
		if err := shareableType(t.Elem()); err != nil {
			return fmt.Errorf("element of %s: %w", t, err)
		}
		return nil
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if err := shareableType(f.Type); err != nil {
				return fmt.Errorf("field %s of %s: %w", f.Name, t, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s is a %s, which holds a pointer", t, t.Kind())
}

func checkShareable[T any](op string) (reflect.Type, error) {
	t := reflect.TypeFor[T]()
	if t == nil {
		return nil, fmt.Errorf("mp: %s: %w: interface type", op, ErrInvalid)
	}
	if err := shareableType(t); err != nil {
		return nil, fmt.Errorf("mp: %s: %w: only fixed-size, pointer-free types live in shared memory: %v", op, ErrInvalid, err)
	}
	if t.Size() == 0 {
		return nil, fmt.Errorf("mp: %s: %w: %s has size 0", op, ErrInvalid, t)
	}
	return t, nil
}

func sharedTypeName(t reflect.Type) string { return fmt.Sprintf("%s/%d", t, t.Size()) }

func applySharedOptions(op string, opts []SharedOption) (sharedConfig, error) {
	var c sharedConfig
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("mp: %s: %w: nil option", op, ErrInvalid)
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// NewValue creates a Value holding v.
func NewValue[T any](v T, opts ...SharedOption) (*Value[T], error) {
	t, err := checkShareable[T]("new value")
	if err != nil {
		return nil, err
	}
	cfg, err := applySharedOptions("new value", opts)
	if err != nil {
		return nil, err
	}
	seg, err := newShmSeg("value", valueDataOff+int(t.Size()))
	if err != nil {
		return nil, err
	}
	val := newValueOn[T](seg, cfg.raw)
	*val.p = v
	return val, nil
}

func newValueOn[T any](seg *shmSeg, raw bool) *Value[T] {
	v := &Value[T]{seg: seg, p: (*T)(seg.at(valueDataOff))}
	if !raw {
		v.lock = &Lock{seg: seg, w: (*uint32)(seg.at(0)), borrowed: true}
	}
	return v
}

func (v *Value[T]) ok() bool { return v != nil && v.seg != nil && !v.seg.closed.Load() }

// Load returns the value, under the lock. After Close it returns the zero T.
func (v *Value[T]) Load() T {
	var x T
	if !v.ok() {
		return x
	}
	if v.lock != nil {
		_ = psync.Lock(context.Background(), v.lock.w)
		x = *v.p
		_ = psync.Unlock(v.lock.w)
	} else {
		x = *v.p
	}
	runtime.KeepAlive(v)
	return x
}

// Store sets the value, under the lock. After Close it does nothing.
func (v *Value[T]) Store(x T) {
	if !v.ok() {
		return
	}
	if v.lock != nil {
		_ = psync.Lock(context.Background(), v.lock.w)
		*v.p = x
		_ = psync.Unlock(v.lock.w)
	} else {
		*v.p = x
	}
	runtime.KeepAlive(v)
}

// Lock returns the Value's lock (Python's get_lock), nil for a Value made WithoutLock.
// Closing it does nothing; close the Value.
func (v *Value[T]) Lock() *Lock {
	if v == nil {
		return nil
	}
	return v.lock
}

// Pointer returns the T in shared memory (Python's get_obj), for access under Lock().
// It is valid while v is open and reachable: keep v alive (runtime.KeepAlive) while
// using it; after Close or once v is garbage collected the memory may be unmapped.
// Nil after Close.
func (v *Value[T]) Pointer() *T {
	if !v.ok() {
		return nil
	}
	return v.p
}

// Close releases this process's hold on the Value's memory; other processes keep theirs.
// Idempotent.
func (v *Value[T]) Close() error {
	if v == nil || v.seg == nil {
		return nil
	}
	return v.seg.close()
}

// WireFiles lets the Value travel to a child Process.
func (v *Value[T]) WireFiles() []*wire.File {
	if v == nil {
		return nil
	}
	return v.seg.wireFiles()
}

// MarshalCBOR encodes the Value as a reference to its shared memory.
func (v *Value[T]) MarshalCBOR() ([]byte, error) {
	return v.seg.marshal(shmWire{Kind: "value", Type: sharedTypeName(reflect.TypeFor[T]()), Raw: v.lock == nil})
}

// UnmarshalCBOR attaches to the Value in the process it was passed to. The element type
// must be the sender's.
func (v *Value[T]) UnmarshalCBOR(b []byte) error {
	t, err := checkShareable[T]("receive value")
	if err != nil {
		return err
	}
	w, err := unmarshalShmWire(b, "value")
	if err != nil {
		return err
	}
	if w.Type != sharedTypeName(t) {
		return fmt.Errorf("mp: receive value: the sender's element type is %s, not %s", w.Type, sharedTypeName(t))
	}
	seg, err := attachShmSeg("value", w.ID, valueDataOff+int(t.Size()))
	if err != nil {
		return err
	}
	*v = *newValueOn[T](seg, w.Raw)
	return nil
}

// AtomicInt is the integer types whose Values have lock-free atomics.
type AtomicInt interface {
	~int32 | ~uint32 | ~int64 | ~uint64 | ~int | ~uint | ~uintptr
}

// AtomicLoad loads an integer Value atomically, without its lock. Zero after Close.
func AtomicLoad[T AtomicInt](v *Value[T]) T {
	if !v.ok() {
		return 0
	}
	var x T
	if unsafe.Sizeof(x) == 4 {
		x = T(atomic.LoadUint32((*uint32)(unsafe.Pointer(v.p))))
	} else {
		x = T(atomic.LoadUint64((*uint64)(unsafe.Pointer(v.p))))
	}
	runtime.KeepAlive(v)
	return x
}

// AtomicStore stores into an integer Value atomically, without its lock.
func AtomicStore[T AtomicInt](v *Value[T], x T) {
	if !v.ok() {
		return
	}
	if unsafe.Sizeof(x) == 4 {
		atomic.StoreUint32((*uint32)(unsafe.Pointer(v.p)), uint32(x))
	} else {
		atomic.StoreUint64((*uint64)(unsafe.Pointer(v.p)), uint64(x))
	}
	runtime.KeepAlive(v)
}

// AtomicAdd adds d to an integer Value atomically, without its lock, and returns the new
// value. Zero after Close.
func AtomicAdd[T AtomicInt](v *Value[T], d T) T {
	if !v.ok() {
		return 0
	}
	var x T
	if unsafe.Sizeof(x) == 4 {
		x = T(atomic.AddUint32((*uint32)(unsafe.Pointer(v.p)), uint32(d)))
	} else {
		x = T(atomic.AddUint64((*uint64)(unsafe.Pointer(v.p)), uint64(d)))
	}
	runtime.KeepAlive(v)
	return x
}

// AtomicCompareAndSwap sets an integer Value to new if it holds old, atomically and
// without its lock, and reports whether it did. False after Close.
func AtomicCompareAndSwap[T AtomicInt](v *Value[T], old, new T) bool {
	if !v.ok() {
		return false
	}
	var ok bool
	if unsafe.Sizeof(old) == 4 {
		ok = atomic.CompareAndSwapUint32((*uint32)(unsafe.Pointer(v.p)), uint32(old), uint32(new))
	} else {
		ok = atomic.CompareAndSwapUint64((*uint64)(unsafe.Pointer(v.p)), uint64(old), uint64(new))
	}
	runtime.KeepAlive(v)
	return ok
}

// An Array holds n values of T in shared memory, Python's multiprocessing.Array; T is as
// for Value. Get, Set, Range and SetRange take the Array's Lock (unless made WithoutLock);
// Slice is a view for bulk work under Lock(). Safe for concurrent use.
type Array[T any] struct {
	seg  *shmSeg
	data []T
	lock *Lock
}

// maxSharedBytes bounds a Value's or Array's memory.
const maxSharedBytes = 1 << 40

// NewArray creates an Array of n zero values.
func NewArray[T any](n int, opts ...SharedOption) (*Array[T], error) {
	t, err := checkShareable[T]("new array")
	if err != nil {
		return nil, err
	}
	if n < 0 || uint64(n) > maxSharedBytes/uint64(t.Size()) {
		return nil, fmt.Errorf("mp: new array: %w: length %d", ErrInvalid, n)
	}
	cfg, err := applySharedOptions("new array", opts)
	if err != nil {
		return nil, err
	}
	seg, err := newShmSeg("array", valueDataOff+n*int(t.Size()))
	if err != nil {
		return nil, err
	}
	return newArrayOn[T](seg, n, cfg.raw), nil
}

// NewArrayFrom creates an Array holding a copy of xs.
func NewArrayFrom[T any](xs []T, opts ...SharedOption) (*Array[T], error) {
	a, err := NewArray[T](len(xs), opts...)
	if err != nil {
		return nil, err
	}
	copy(a.data, xs)
	return a, nil
}

func newArrayOn[T any](seg *shmSeg, n int, raw bool) *Array[T] {
	a := &Array[T]{seg: seg}
	if n > 0 {
		a.data = unsafe.Slice((*T)(seg.at(valueDataOff)), n)
	}
	if !raw {
		a.lock = &Lock{seg: seg, w: (*uint32)(seg.at(0)), borrowed: true}
	}
	return a
}

func (a *Array[T]) check() error {
	if a == nil || a.seg == nil {
		return fmt.Errorf("mp: Array: %w (not created by NewArray)", ErrClosed)
	}
	if a.seg.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (a *Array[T]) locked(fn func()) {
	if a.lock != nil {
		_ = psync.Lock(context.Background(), a.lock.w)
		defer psync.Unlock(a.lock.w)
	}
	fn()
	runtime.KeepAlive(a)
}

// Len returns the number of elements (0 after Close).
func (a *Array[T]) Len() int {
	if a.check() != nil {
		return 0
	}
	return len(a.data)
}

// Get returns element i, under the lock. ErrOutOfRange unless 0 <= i < Len().
func (a *Array[T]) Get(i int) (T, error) {
	var x T
	if err := a.check(); err != nil {
		return x, err
	}
	if i < 0 || i >= len(a.data) {
		return x, fmt.Errorf("mp: array get %d of %d: %w", i, len(a.data), ErrOutOfRange)
	}
	a.locked(func() { x = a.data[i] })
	return x, nil
}

// Set sets element i, under the lock. ErrOutOfRange unless 0 <= i < Len().
func (a *Array[T]) Set(i int, x T) error {
	if err := a.check(); err != nil {
		return err
	}
	if i < 0 || i >= len(a.data) {
		return fmt.Errorf("mp: array set %d of %d: %w", i, len(a.data), ErrOutOfRange)
	}
	a.locked(func() { a.data[i] = x })
	return nil
}

// Range returns a copy of elements [lo, hi), under the lock: Python's a[lo:hi].
// ErrOutOfRange unless 0 <= lo <= hi <= Len().
func (a *Array[T]) Range(lo, hi int) ([]T, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	if lo < 0 || hi < lo || hi > len(a.data) {
		return nil, fmt.Errorf("mp: array range [%d:%d] of %d: %w", lo, hi, len(a.data), ErrOutOfRange)
	}
	out := make([]T, hi-lo)
	a.locked(func() { copy(out, a.data[lo:hi]) })
	return out, nil
}

// SetRange copies src into the elements from lo on, under the lock: Python's
// a[lo:lo+len(src)] = src. ErrOutOfRange unless it fits.
func (a *Array[T]) SetRange(lo int, src []T) error {
	if err := a.check(); err != nil {
		return err
	}
	if lo < 0 || lo > len(a.data) || len(src) > len(a.data)-lo {
		return fmt.Errorf("mp: array set range [%d:%d] of %d: %w", lo, lo+len(src), len(a.data), ErrOutOfRange)
	}
	a.locked(func() { copy(a.data[lo:], src) })
	return nil
}

// Slice returns the elements as a Go slice over the shared memory, for bulk work under
// Lock(). Like Value.Pointer it is valid while a is open and reachable. Nil after Close.
func (a *Array[T]) Slice() []T {
	if a.check() != nil {
		return nil
	}
	return a.data
}

// Lock returns the Array's lock (Python's get_lock), nil for an Array made WithoutLock.
func (a *Array[T]) Lock() *Lock {
	if a == nil {
		return nil
	}
	return a.lock
}

// Close is as for Value.
func (a *Array[T]) Close() error {
	if a == nil || a.seg == nil {
		return nil
	}
	return a.seg.close()
}

// WireFiles lets the Array travel to a child Process.
func (a *Array[T]) WireFiles() []*wire.File {
	if a == nil {
		return nil
	}
	return a.seg.wireFiles()
}

// MarshalCBOR encodes the Array as a reference to its shared memory.
func (a *Array[T]) MarshalCBOR() ([]byte, error) {
	return a.seg.marshal(shmWire{Kind: "array", Type: sharedTypeName(reflect.TypeFor[T]()), Len: len(a.data), Raw: a.lock == nil})
}

// UnmarshalCBOR attaches to the Array in the process it was passed to. The element type
// must be the sender's.
func (a *Array[T]) UnmarshalCBOR(b []byte) error {
	t, err := checkShareable[T]("receive array")
	if err != nil {
		return err
	}
	w, err := unmarshalShmWire(b, "array")
	if err != nil {
		return err
	}
	if w.Type != sharedTypeName(t) {
		return fmt.Errorf("mp: receive array: the sender's element type is %s, not %s", w.Type, sharedTypeName(t))
	}
	if uint64(w.Len) > maxSharedBytes/uint64(t.Size()) {
		return fmt.Errorf("mp: receive array: length %d", w.Len)
	}
	seg, err := attachShmSeg("array", w.ID, valueDataOff+w.Len*int(t.Size()))
	if err != nil {
		return err
	}
	*a = *newArrayOn[T](seg, w.Len, w.Raw)
	return nil
}
