package manager_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp/manager"
)

// TestReadTokenHandOff: calls on one connection while another call of it is parked on
// the server (and may hold the read token) are all answered; the parked call then
// ends by its ctx, and by a Put, and the connection keeps working.
func TestReadTokenHandOff(t *testing.T) {
	ctx := t.Context()
	m := startInProcess(t)
	q := must[*manager.Queue[int]](t)(manager.NewQueue[int](ctx, m, 0))
	d := must[*manager.Dict[int, int]](t)(manager.NewDict[int, int](ctx, m))

	// A parked call withdrawn by its ctx.
	cctx, cancel := context.WithCancel(ctx)
	gotCancel := make(chan error, 1)
	go func() { _, err := q.Get(cctx); gotCancel <- err }()
	// A parked call answered by a Put.
	gotPut := make(chan int, 1)
	go func() {
		v, err := q.Get(ctx)
		if err != nil {
			t.Error(err)
		}
		gotPut <- v
	}()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if err := d.Set(ctx, g, i); err != nil {
					t.Error(err)
					return
				}
				if v, ok, err := d.Get(ctx, g); err != nil || !ok || v != i {
					t.Errorf("get %d: %v %v %v", g, v, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()

	cancel()
	select {
	case err := <-gotCancel:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled get: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cancelled get did not return")
	}
	check(t, q.Put(ctx, 7))
	select {
	case v := <-gotPut:
		if v != 7 {
			t.Fatalf("parked get got %d", v)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("parked get did not return")
	}
	if n := must[int](t)(d.Len(ctx)); n != 8 {
		t.Fatalf("len %d", n)
	}
}
