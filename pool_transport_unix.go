//go:build unix

package mp

import (
	"os"

	"golang.org/x/sys/unix"
)

// poolShutdownWrite ends the stream towards the worker, which reads EOF and exits.
func poolShutdownWrite(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return serr
}
