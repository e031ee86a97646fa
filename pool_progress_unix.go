//go:build unix

package mp

import (
	"os"

	"golang.org/x/sys/unix"
)

func poolIsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil
}
