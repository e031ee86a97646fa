package mp

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func childSysProcAttr() *syscall.SysProcAttr {
	// SIGKILL when the parent dies, even by SIGKILL; the child also exits on EOF on its
	// control socket.
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func selfExecutable() (string, error) { return "/proc/self/exe", nil }

// socketpair returns a connected pair of close-on-exec unix stream sockets.
func socketpair() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
