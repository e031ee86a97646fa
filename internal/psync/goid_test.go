package psync

import (
	"sync"
	"testing"
)

func TestGoidDistinct(t *testing.T) {
	me := Goid()
	if me == 0 || Goid() != me {
		t.Fatalf("Goid unstable: %x %x", me, Goid())
	}
	const n = 50
	ids := make([]uint64, n)
	var wg, ready, start sync.WaitGroup
	start.Add(1)
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ids[i] = Goid()
			ready.Done()
			start.Wait() // all alive at once
			if Goid() != ids[i] {
				t.Error("Goid changed within a goroutine")
			}
		})
	}
	ready.Wait()
	start.Done()
	wg.Wait()
	seen := map[uint64]bool{me: true}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("two live goroutines share token %x", id)
		}
		seen[id] = true
	}
}
