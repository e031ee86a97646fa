//go:build unix && !linux

package mp

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// No parent-death signal here: the child exits on EOF on its control socket.
func childSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func selfExecutable() (string, error) { return os.Executable() }

// socketpair returns a connected pair of close-on-exec unix stream sockets.
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	return fds, err
}
