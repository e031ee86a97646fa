package mp

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/mpgo/mp/internal/psync"
	"github.com/mpgo/mp/internal/shm"
	"github.com/mpgo/mp/internal/wire"
)

// shmSeg is one shared segment behind a Lock, Value, Barrier, ...: the memfd (which
// travels to children) and its mapping. Close closes the file at once; the mapping is
// unmapped when the last object using it is garbage collected, so a call racing with
// Close (or one after it) finds ErrClosed, never unmapped memory. Every method that
// touches the mapping keeps its object reachable (runtime.KeepAlive) until it is done.
type shmSeg struct {
	seg    *shm.Segment
	file   *wire.File
	closed atomic.Bool
	race   byte // the race detector's stand-in for the segment (see shm_race.go)
}

func newShmSeg(kind string, size int) (*shmSeg, error) {
	seg, err := shm.Create(kind, size)
	if err != nil {
		return nil, fmt.Errorf("mp: new %s: %w", kind, err)
	}
	return wrapShmSeg(seg), nil
}

func wrapShmSeg(seg *shm.Segment) *shmSeg {
	s := &shmSeg{seg: seg, file: wire.NewFile(seg.File())}
	runtime.AddCleanup(s, func(seg *shm.Segment) { seg.Close() }, seg)
	return s
}

// attachShmSeg maps a segment that arrived with a handle's wire form, checking that it
// holds at least need bytes.
func attachShmSeg(kind string, id uint64, need int) (*shmSeg, error) {
	f, err := wire.Lookup(id)
	if err != nil {
		return nil, fmt.Errorf("mp: receive %s: %w", kind, err)
	}
	seg, err := psync.Attach(f)
	if err != nil {
		return nil, fmt.Errorf("mp: receive %s: %w", kind, err)
	}
	if len(seg.Bytes()) < need {
		seg.Close()
		return nil, fmt.Errorf("mp: receive %s: segment of %d bytes, need %d", kind, len(seg.Bytes()), need)
	}
	s := &shmSeg{seg: seg, file: &wire.File{ID: id, F: seg.File()}}
	runtime.AddCleanup(s, func(seg *shm.Segment) { seg.Close() }, seg)
	return s, nil
}

// at returns a pointer to offset off of the mapping.
func (s *shmSeg) at(off int) unsafe.Pointer { return unsafe.Pointer(&s.seg.Bytes()[off]) }

func (s *shmSeg) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.seg.File().Close()
}

func (s *shmSeg) wireFiles() []*wire.File {
	if s == nil || s.closed.Load() {
		return nil
	}
	return []*wire.File{s.file}
}

// shmWire is the wire form of every shared-memory handle: which segment, and where in it.
type shmWire struct {
	Kind string `cbor:"1,keyasint"`
	ID   uint64 `cbor:"2,keyasint"`
	Off  int    `cbor:"3,keyasint,omitempty"`
	Type string `cbor:"4,keyasint,omitempty"` // Value / Array element type
	Len  int    `cbor:"5,keyasint,omitempty"` // Array length
	Raw  bool   `cbor:"6,keyasint,omitempty"` // Value / Array without a lock
	Name string `cbor:"7,keyasint,omitempty"` // named SharedMemory
	// A Condition's lock.
	Lock *shmWire `cbor:"8,keyasint,omitempty"`
}

func (s *shmSeg) marshal(w shmWire) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("mp: pass %s: not created with its constructor", w.Kind)
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("mp: pass %s: %w", w.Kind, ErrClosed)
	}
	w.ID = s.file.ID
	return wire.Marshal(w)
}

func unmarshalShmWire(b []byte, kind string) (shmWire, error) {
	var w shmWire
	if err := wire.Unmarshal(b, &w); err != nil {
		return w, err
	}
	if w.Kind != kind {
		return w, fmt.Errorf("mp: receive %s: the sender passed a %s", kind, w.Kind)
	}
	if w.Off < 0 || w.Off > 1<<30 || w.Len < 0 {
		return w, fmt.Errorf("mp: receive %s: bad offset or length", kind)
	}
	return w, nil
}

// receiveShm decodes a handle's wire form, checks its kind, and maps its segment, which
// must hold need(w) bytes.
func receiveShm(b []byte, kind string, need func(shmWire) int) (shmWire, *shmSeg, error) {
	w, err := unmarshalShmWire(b, kind)
	if err != nil {
		return w, nil, err
	}
	seg, err := attachShmSeg(kind, w.ID, need(w))
	return w, seg, err
}

// shmSize rounds a layout size up to a cache line.
func shmSize(n uintptr) int { return int((n + 63) &^ 63) }
