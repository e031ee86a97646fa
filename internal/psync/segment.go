package psync

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mpgo/mp/internal/shm"
)

// Attach maps a segment file that arrived from another process. It maps a duplicate of
// f, so the Segment's Close leaves f (owned by the wire registry) open for other handles
// decoded from the same file.
func Attach(f *os.File) (*shm.Segment, error) {
	d, err := dup(f)
	if err != nil {
		return nil, fmt.Errorf("mp: attach shared memory: %w", err)
	}
	seg, err := shm.Map(d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return seg, nil
}

// ErrBadName is returned for a shared-memory name that is empty, too long or has a '/'.
var ErrBadName = errors.New("mp: bad shared memory name")

// CheckName validates a named segment's name.
func CheckName(name string) error {
	if name == "" || len(name) > 200 || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return fmt.Errorf("%w %q", ErrBadName, name)
	}
	return nil
}

// CreateNamed creates the named segment (it must not exist) and maps it.
func CreateNamed(name string, size int) (*shm.Segment, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("mp: shared memory size %d: must be positive", size)
	}
	f, err := createNamed(name, size)
	if err != nil {
		return nil, err
	}
	seg, err := shm.Map(f)
	if err != nil {
		f.Close()
		unlinkNamed(name)
		return nil, err
	}
	return seg, nil
}

// OpenNamed maps an existing named segment.
func OpenNamed(name string) (*shm.Segment, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	f, err := openNamed(name)
	if err != nil {
		return nil, err
	}
	seg, err := shm.Map(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return seg, nil
}

// UnlinkNamed removes the name; mappings stay valid until closed.
func UnlinkNamed(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	return unlinkNamed(name)
}
