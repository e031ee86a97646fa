//go:build amd64 || arm64

package psync

// getg returns the address of the calling goroutine's runtime descriptor.
func getg() uintptr

// Goid returns a token for the calling goroutine: the address of its runtime descriptor,
// which no other live goroutine shares (one that exited may have its token reused, as
// Python's thread idents are). An RLock is owned by a (pid, goroutine) pair, as Python's
// is owned by a thread.
func Goid() uint64 { return uint64(getg()) }
