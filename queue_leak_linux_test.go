package mp_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

func countFDs(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func TestQueueHandlesAreReleased(t *testing.T) {
	before := countFDs(t)
	for range 50 {
		q, err := mp.NewQueue[int]()
		if err != nil {
			t.Fatal(err)
		}
		q.Put(t.Context(), 1)
	}
	deadline := time.Now().Add(10 * time.Second)
	for countFDs(t) > before+5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d fds open after 50 dropped queues, %d before", countFDs(t), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
