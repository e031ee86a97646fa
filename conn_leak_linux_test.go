package mp_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// Pipe ends dropped without Close give back their sockets, rings and watcher goroutines
// once collected, as an unreferenced os.File gives back its descriptor.
func TestPipeEndsDroppedAreReleased(t *testing.T) {
	before, goroutines := countFDs(t), runtime.NumGoroutine()
	for range 20 {
		a, b, err := mp.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Send(1); err != nil {
			t.Fatal(err)
		}
		var v int
		if err := b.Recv(&v); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for countFDs(t) > before+5 || runtime.NumGoroutine() > goroutines+5 {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 dropped pipes: %d fds open (%d before), %d goroutines (%d before)",
				countFDs(t), before, runtime.NumGoroutine(), goroutines)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
