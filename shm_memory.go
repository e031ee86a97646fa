package mp

import (
	"fmt"
	"sync"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/psync"
	"github.com/mpgo/mp/internal/shm"
	"github.com/mpgo/mp/internal/wire"
)

// ErrInvalid is returned for an argument out of its domain: a size of 0, a negative
// count, a type that cannot live in shared memory.
var ErrInvalid = errs.New("invalid", "mp: invalid argument")

// SharedMemory is a block of bytes mapped into every process that holds it, Python's
// multiprocessing.shared_memory.SharedMemory.
//
// By default (NewSharedMemory) it is anonymous: a memfd that reaches other processes
// only by being passed to a child Process as (part of) its argument, and that the kernel
// frees when the last process holding it closes it or exits, so nothing can leak, even
// after SIGKILL.
//
// A named block (CreateSharedMemory, OpenSharedMemory) lives in /dev/shm, so unrelated
// processes can attach by name. The name outlives every process until one calls Unlink,
// exactly as in Python: call Unlink once, in the process that owns the block's lifetime
// (typically its creator, after the others attached), or the memory stays until reboot.
//
// Bytes is valid until Close, which unmaps it in this process: do not use a slice from
// Bytes after Close, nor Close while another goroutine uses it. Other methods are safe for
// concurrent use. Linux only; elsewhere the constructors return errors.ErrUnsupported.
type SharedMemory struct {
	mu     sync.Mutex
	seg    *shm.Segment
	file   *wire.File
	name   string
	size   int
	closed bool
}

// NewSharedMemory creates an anonymous, zero-filled block of size (> 0) bytes.
func NewSharedMemory(size int) (*SharedMemory, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mp: new shared memory of %d bytes: %w", size, ErrInvalid)
	}
	seg, err := shm.Create("shared-memory", size)
	if err != nil {
		return nil, fmt.Errorf("mp: new shared memory: %w", err)
	}
	return &SharedMemory{seg: seg, file: wire.NewFile(seg.File()), size: size}, nil
}

// CreateSharedMemory creates the named, zero-filled block /dev/shm/name of size (> 0)
// bytes. It fails (matching fs.ErrExist) if the name is taken. The name must be non-empty
// and contain no '/'. Unlink it when done.
func CreateSharedMemory(name string, size int) (*SharedMemory, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mp: create shared memory %q of %d bytes: %w", name, size, ErrInvalid)
	}
	if err := psync.CheckName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	seg, err := psync.CreateNamed(name, size)
	if err != nil {
		return nil, err
	}
	return &SharedMemory{seg: seg, file: wire.NewFile(seg.File()), name: name, size: len(seg.Bytes())}, nil
}

// OpenSharedMemory attaches to the named block; an error matching fs.ErrNotExist if there
// is none.
func OpenSharedMemory(name string) (*SharedMemory, error) {
	if err := psync.CheckName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	seg, err := psync.OpenNamed(name)
	if err != nil {
		return nil, err
	}
	return &SharedMemory{seg: seg, file: wire.NewFile(seg.File()), name: name, size: len(seg.Bytes())}, nil
}

// Bytes returns the block's memory, nil after Close.
func (m *SharedMemory) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.seg == nil {
		return nil
	}
	return m.seg.Bytes()
}

// Size returns the block's size in bytes.
func (m *SharedMemory) Size() int { return m.size }

// Name returns the block's name, "" for an anonymous block.
func (m *SharedMemory) Name() string { return m.name }

// Close unmaps the block in this process; other processes keep theirs. It does not
// Unlink a named block. Idempotent.
func (m *SharedMemory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.seg == nil {
		return nil
	}
	m.closed = true
	return m.seg.Close()
}

// Unlink removes a named block's name, so no new process can attach; the memory is freed
// once every process has closed it. A second Unlink (from any process) returns an error
// matching fs.ErrNotExist. On an anonymous block Unlink does nothing.
func (m *SharedMemory) Unlink() error {
	if m.name == "" {
		return nil
	}
	return psync.UnlinkNamed(m.name)
}

// WireFiles lets the block travel to a child Process.
func (m *SharedMemory) WireFiles() []*wire.File {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.file == nil {
		return nil
	}
	return []*wire.File{m.file}
}

// MarshalCBOR encodes the block as a reference to its memory, which travels beside the
// argument to a child Process (a named block too: the child needs no name lookup).
func (m *SharedMemory) MarshalCBOR() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seg == nil {
		return nil, fmt.Errorf("mp: pass shared memory: %w (not created by NewSharedMemory)", ErrClosed)
	}
	if m.closed {
		return nil, fmt.Errorf("mp: pass shared memory: %w", ErrClosed)
	}
	return wire.Marshal(shmWire{Kind: "shared memory", ID: m.file.ID, Name: m.name})
}

// UnmarshalCBOR maps the block in the process it was passed to.
func (m *SharedMemory) UnmarshalCBOR(b []byte) error {
	w, err := unmarshalShmWire(b, "shared memory")
	if err != nil {
		return err
	}
	f, err := wire.Lookup(w.ID)
	if err != nil {
		return fmt.Errorf("mp: receive shared memory: %w", err)
	}
	seg, err := psync.Attach(f)
	if err != nil {
		return fmt.Errorf("mp: receive shared memory: %w", err)
	}
	m.seg, m.file, m.name, m.size, m.closed = seg, &wire.File{ID: w.ID, F: seg.File()}, w.Name, len(seg.Bytes()), false
	return nil
}
