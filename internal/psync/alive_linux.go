package psync

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Alive reports whether process pid exists and is not a zombie.
func Alive(pid uint32) bool {
	if pid == 0 || pid == Pid {
		return pid == Pid
	}
	if err := unix.Kill(int(pid), 0); err == unix.ESRCH {
		return false
	}
	// A killed child stays a zombie until its parent reaps it: it holds nothing.
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	st := b[i+2]
	return st != 'Z' && st != 'X' && st != 'x'
}
