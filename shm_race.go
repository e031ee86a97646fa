//go:build race

package mp

import (
	"runtime"
	"unsafe"
)

// The race detector does not see synchronisation through shared mappings (it tracks Go
// memory only), so the primitives tell it, on a Go address per segment, what they order.
func (s *shmSeg) raceAcquire() { runtime.RaceAcquire(unsafe.Pointer(&s.race)) }
func (s *shmSeg) raceRelease() { runtime.RaceReleaseMerge(unsafe.Pointer(&s.race)) }
