//go:build !linux

package ring

// alive is never asked on systems without shared-memory queues.
func alive(int) bool { return true }
