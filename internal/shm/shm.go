// Package shm maps shared memory that every process holding its file sees, and waits on
// words in it with futexes. Segments are anonymous memfds: the kernel frees the memory
// when the last process holding the file or a mapping exits, so nothing can leak, even
// after SIGKILL.
package shm

import (
	"errors"
	"os"
	"sync"
	"time"
)

// ErrTimeout is returned by Wait when its timeout elapses first.
var ErrTimeout = errors.New("mp: futex wait timed out")

// ErrClosed is returned for a Segment used after Close.
var ErrClosed = errors.New("mp: shared memory segment is closed")

// A Segment is a shared mapping of a memfd. Safe for concurrent use; Close is idempotent.
type Segment struct {
	mu   sync.Mutex
	file *os.File
	mem  []byte
}

// Create makes a zero-filled segment of size bytes. The name shows in /proc/PID/fd only.
func Create(name string, size int) (*Segment, error) {
	if size <= 0 {
		return nil, errors.New("mp: shared memory size must be positive")
	}
	f, err := create(name, size)
	if err != nil {
		return nil, err
	}
	return Map(f)
}

// Map maps the whole of f, a file from Create (possibly received from another process).
// The Segment owns f from then on.
func Map(f *os.File) (*Segment, error) {
	mem, err := mmap(f)
	if err != nil {
		return nil, err
	}
	return &Segment{file: f, mem: mem}, nil
}

// Bytes returns the mapped memory. It must not be used after Close.
func (s *Segment) Bytes() []byte { return s.mem }

// File returns the memfd backing the segment.
func (s *Segment) File() *os.File { return s.file }

// Close unmaps the memory and closes the file. The memory lives on in other processes
// that still hold it.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := munmap(s.mem)
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	s.file, s.mem = nil, nil
	return err
}

// Wait blocks while *addr == val, until Wake, the timeout (<0: none) or a spurious wake.
// It returns nil on a wake or when *addr != val already, ErrTimeout on timeout.
func Wait(addr *uint32, val uint32, timeout time.Duration) error {
	return futexWait(addr, val, timeout)
}

// Wake wakes up to n waiters on addr and returns how many were woken.
func Wake(addr *uint32, n int) int {
	return futexWake(addr, n)
}
