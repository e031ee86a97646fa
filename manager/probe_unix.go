//go:build unix

package manager

import (
	"bufio"
	"errors"
	"net"
	"syscall"
)

// probeClosed reports, without blocking, whether the peer closed nc (or it failed):
// a peek that reads nothing.
func probeClosed(nc net.Conn, _ *bufio.Reader) error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	var b [1]byte
	if err := rc.Read(func(fd uintptr) bool {
		var n int
		n, _, perr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if perr == nil && n == 0 {
			perr = errors.New("EOF")
		}
		return true
	}); err != nil {
		return err
	}
	if errors.Is(perr, syscall.EAGAIN) || errors.Is(perr, syscall.EINTR) {
		return nil
	}
	return perr
}
