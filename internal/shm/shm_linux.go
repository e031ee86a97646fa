package shm

import (
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func create(name string, size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("mp-"+name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("mp: memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mp: size shared memory to %d bytes: %w", size, err)
	}
	return os.NewFile(uintptr(fd), "mp-"+name), nil
}

func mmap(f *os.File) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("mp: stat shared memory: %w", err)
	}
	if st.Size <= 0 {
		return nil, fmt.Errorf("mp: shared memory file is empty")
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mp: mmap %d bytes: %w", st.Size, err)
	}
	return mem, nil
}

func munmap(b []byte) error { return unix.Munmap(b) }

// Shared (not private) futex ops: waiters may live in other processes.
const (
	futexWaitOp = 0 // FUTEX_WAIT
	futexWakeOp = 1 // FUTEX_WAKE
)

func futexWait(addr *uint32, val uint32, timeout time.Duration) error {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
	switch e {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	case unix.ETIMEDOUT:
		return ErrTimeout
	default:
		return fmt.Errorf("mp: futex wait: %w", e)
	}
}

func futexWake(addr *uint32, n int) int {
	r, _, _ := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, uintptr(n), 0, 0, 0)
	return int(r)
}
