package manager_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mpgo/mp/manager"
)

// BenchmarkDictSetGet is one Set and one Get from a client: two round trips to a manager
// in a child process over its unix socket. The figure per op is for the pair.
func BenchmarkDictSetGet(b *testing.B) {
	ctx := context.Background()
	m, err := manager.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Shutdown(ctx)
	d, err := manager.NewDict[string, int](ctx, m)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := d.Set(ctx, "k", i); err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.Get(ctx, "k"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDictOp8Clients is dict operations (Set then Get, as in BenchmarkDictSetGet)
// from 8 clients at once, each with its own connection; ns/op is per Set+Get pair
// across all clients, so 1e9/(ns/op) pairs per second is the manager's throughput.
func BenchmarkDictOp8Clients(b *testing.B) {
	ctx := context.Background()
	m, err := manager.Start(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Shutdown(ctx)
	network, addr := m.Addr()
	const clients = 8
	dicts := make([]*manager.Dict[string, int], clients)
	for i := range dicts {
		c, err := manager.Connect(ctx, network, addr, m.Key())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if dicts[i], err = manager.NewDict[string, int](ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N / clients
	for i := range clients {
		wg.Go(func() {
			for j := range per {
				if err := dicts[i].Set(ctx, "k", j); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := dicts[i].Get(ctx, "k"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
