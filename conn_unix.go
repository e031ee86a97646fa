//go:build unix

package mp

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipePair returns the two ends of a unix stream socketpair.
func pipePair() (*os.File, *os.File, error) {
	fds, err := socketpair()
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "mp-pipe"), os.NewFile(uintptr(fds[1]), "mp-pipe"), nil
}

// readableNow reports, without blocking, whether nc has bytes (or end of stream) to read.
func readableNow(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ready := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		ready = err == nil && n > 0 && fds[0].Revents != 0
	})
	return ready
}
