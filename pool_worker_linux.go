package mp

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// poolSetMemLimit caps the worker's data segment (heap and private writable mappings:
// what a Go program's allocations use) at n bytes beyond what it holds at start (VmData). An allocation
// past it fails, and the Go runtime ends the process: the task fails with ErrWorkerLost.
func poolSetMemLimit(n int64) error {
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_DATA, &cur); err != nil {
		return err
	}
	lim := uint64(n) + poolDataNow()
	if cur.Max != unix.RLIM_INFINITY && lim > cur.Max {
		lim = cur.Max
	}
	return unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: lim, Max: cur.Max})
}

// poolDataNow returns the process's data segment size (VmData), 0 if unknown.
func poolDataNow() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmData:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func poolSetMemLimitSupported() error { return nil }
