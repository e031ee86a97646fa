package wire

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
)

// A File is an OS file that a handle (a pipe end, a shared-memory segment) carries across
// a process boundary. Its ID is what the handle's wire form names; the file itself travels
// beside the encoded bytes (as an inherited descriptor), and the receiving process finds it
// again with Lookup.
type File struct {
	ID uint64
	F  *os.File
}

// NewFile gives f a fresh, process-independent ID.
func NewFile(f *os.File) *File {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return &File{ID: binary.LittleEndian.Uint64(b[:]) | 1, F: f}
}

// A Carrier is a value whose wire form names Files that must travel with it. Handles
// implement it with a pointer receiver; Collect finds them anywhere inside an argument.
type Carrier interface {
	WireFiles() []*File
}

// ErrNoFile is returned when a handle is decoded in a process its file never reached: it
// was sent over a channel that carries bytes only (a Queue, a Pool task), not passed as a
// Process or Pool-initializer argument.
var ErrNoFile = errors.New("mp: handle arrived without its file: pass it as a Process or Pool initializer argument")

var received sync.Map // uint64 -> *os.File

// Install records files that arrived in this process, so handles naming them decode.
func Install(id uint64, f *os.File) { received.Store(id, f) }

// Lookup returns the file with the given ID that arrived in this process.
func Lookup(id uint64) (*os.File, error) {
	if f, ok := received.Load(id); ok {
		return f.(*os.File), nil
	}
	return nil, fmt.Errorf("%w (file id %x)", ErrNoFile, id)
}

var carrierType = reflect.TypeFor[Carrier]()

var mayCarry sync.Map // reflect.Type -> bool

// typeMayCarry reports whether a value of type t can contain a Carrier.
func typeMayCarry(t reflect.Type) bool {
	if v, ok := mayCarry.Load(t); ok {
		return v.(bool)
	}
	mayCarry.Store(t, true) // provisional, for recursive types
	r := computeMayCarry(t)
	mayCarry.Store(t, r)
	return r
}

func computeMayCarry(t reflect.Type) bool {
	if t.Implements(carrierType) || reflect.PointerTo(t).Implements(carrierType) {
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeMayCarry(t.Elem())
	case reflect.Map:
		return typeMayCarry(t.Key()) || typeMayCarry(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && typeMayCarry(f.Type) {
				return true
			}
		}
	}
	return false
}

// Collect returns, without duplicates, the Files of every Carrier reachable from v
// through exported fields, pointers, slices, arrays, maps and interfaces: the same paths
// the encoder follows.
func Collect(v any) []*File {
	if v == nil {
		return nil
	}
	c := collector{seen: map[uint64]bool{}, visited: map[uintptr]bool{}}
	c.walk(reflect.ValueOf(v))
	return c.files
}

type collector struct {
	files   []*File
	seen    map[uint64]bool
	visited map[uintptr]bool
}

func (c *collector) walk(v reflect.Value) {
	if !v.IsValid() || !typeMayCarry(v.Type()) {
		return
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface || v.Kind() == reflect.Map || v.Kind() == reflect.Slice {
		if v.IsNil() {
			return
		}
	}
	if v.CanInterface() {
		if cr, ok := v.Interface().(Carrier); ok {
			c.add(cr)
			return
		}
		if v.CanAddr() {
			if cr, ok := v.Addr().Interface().(Carrier); ok {
				c.add(cr)
				return
			}
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if c.visited[v.Pointer()] {
			return
		}
		c.visited[v.Pointer()] = true
		c.walk(v.Elem())
	case reflect.Interface:
		c.walk(v.Elem())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			c.walk(v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			c.walk(it.Key())
			c.walk(it.Value())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				c.walk(v.Field(i))
			}
		}
	}
}

func (c *collector) add(cr Carrier) {
	for _, f := range cr.WireFiles() {
		if f != nil && !c.seen[f.ID] {
			c.seen[f.ID] = true
			c.files = append(c.files, f)
		}
	}
}
