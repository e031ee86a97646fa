package cells

import (
	"crypto/rand"
	"fmt"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

// Cell "Manager": a server process holds a dict and a list; a child changes them through
// proxies; the parent prints them.
//
//	def f(d, l):
//	    d[1] = '1'
//	    d['2'] = 2
//	    d[0.25] = None
//	    l.reverse()

// managerArg is f's (d, l): proxies travel to the child as (address, key, object id).
type managerArg struct {
	D *manager.Dict[any, any]
	L *manager.List[int]
}

var managerF = mp.RegisterErr("cells.managerF", func(a managerArg) (struct{}, error) {
	if err := a.D.Set(ctx, 1, "1"); err != nil {
		return struct{}{}, err
	}
	if err := a.D.Set(ctx, "2", 2); err != nil {
		return struct{}{}, err
	}
	if err := a.D.Set(ctx, 0.25, nil); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.L.Reverse(ctx)
})

// Manager is the notebook's Manager cell. It prints the dict in insertion order, the
// way Go prints a map, and the reversed list:
//
//	map[1:1 2:2 0.25:<nil>]
//	[9 8 7 6 5 4 3 2 1 0]
func Manager() {
	m, err := manager.Start(ctx)
	must(err)
	defer m.Shutdown(ctx)

	d, err := manager.NewDict[any, any](ctx, m)
	must(err)
	l, err := manager.NewList(ctx, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	must(err)

	p := mp.NewProcess(managerF, managerArg{D: d, L: l})
	must(p.Start())
	must(p.Wait(ctx))

	items, err := d.Items(ctx)
	must(err)
	fmt.Println(items)
	all, err := l.All(ctx)
	must(err)
	fmt.Println(all)
}

// Cell "Manager over a network": the manager listens on 127.0.0.1 with a key; a separate
// program (this binary, re-executed with nothing but the address and the key) connects,
// finds the published queue and dict by name, and works on them.

// remoteAddr is all the other program gets: no proxy, no shared state.
type remoteAddr struct {
	Network, Addr string
	Key           []byte
}

var managerRemoteClient = mp.RegisterErr("cells.managerRemoteClient", func(a remoteAddr) (struct{}, error) {
	m, err := manager.Connect(ctx, a.Network, a.Addr, a.Key)
	if err != nil {
		return struct{}{}, err
	}
	defer m.Close()
	var jobs manager.Queue[int]
	var results manager.Dict[int, int]
	if err := m.Lookup(ctx, "jobs", &jobs); err != nil {
		return struct{}{}, err
	}
	if err := m.Lookup(ctx, "results", &results); err != nil {
		return struct{}{}, err
	}
	for {
		n, err := jobs.Get(ctx)
		if err != nil || n < 0 {
			return struct{}{}, err
		}
		if err := results.Set(ctx, n, n*n); err != nil {
			return struct{}{}, err
		}
	}
})

// ManagerRemote is the network form of the Manager cell: a remote program squares the
// numbers 0..4 it takes from a shared queue into a shared dict, and the manager's owner
// prints
//
//	map[0:0 1:1 2:4 3:9 4:16]
func ManagerRemote() {
	key := make([]byte, 32)
	rand.Read(key)
	m, err := manager.Start(ctx, manager.WithAddress("tcp", "127.0.0.1:0"), manager.WithKey(key))
	must(err)
	defer m.Shutdown(ctx)

	jobs, err := manager.NewQueue[int](ctx, m, 0)
	must(err)
	results, err := manager.NewDict[int, int](ctx, m)
	must(err)
	must(m.Publish(ctx, "jobs", jobs))
	must(m.Publish(ctx, "results", results))

	network, addr := m.Addr()
	p := mp.NewProcess(managerRemoteClient, remoteAddr{Network: network, Addr: addr, Key: key})
	must(p.Start())
	for n := range 5 {
		must(jobs.Put(ctx, n))
	}
	must(jobs.Put(ctx, -1)) // done
	must(p.Wait(ctx))

	items, err := results.Items(ctx)
	must(err)
	fmt.Println(items)
}
