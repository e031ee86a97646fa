package psync

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const shmDir = "/dev/shm/"

func dup(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

func createNamed(name string, size int) (*os.File, error) {
	f, err := os.OpenFile(shmDir+name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mp: create shared memory: %w", err)
	}
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		os.Remove(shmDir + name)
		return nil, fmt.Errorf("mp: size shared memory %q to %d bytes: %w", name, size, err)
	}
	return f, nil
}

func openNamed(name string) (*os.File, error) {
	f, err := os.OpenFile(shmDir+name, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("mp: open shared memory: %w", err)
	}
	return f, nil
}

func unlinkNamed(name string) error {
	if err := os.Remove(shmDir + name); err != nil {
		return fmt.Errorf("mp: unlink shared memory: %w", err)
	}
	return nil
}
