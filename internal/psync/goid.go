//go:build !amd64 && !arm64

package psync

import "runtime"

// Goid returns a token for the calling goroutine: its id, parsed from its stack header
// (about a microsecond). An RLock is owned by a (pid, goroutine) pair, as Python's is
// owned by a thread.
func Goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := buf[:n]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
