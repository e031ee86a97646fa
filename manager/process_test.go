package manager_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

// The notebook's cell: a child fills the dict and reverses the list.
type cellArg struct {
	D *manager.Dict[any, any]
	L *manager.List[int]
}

var cellChild = mp.RegisterErr("manager_test.cell", func(a cellArg) (struct{}, error) {
	ctx := context.Background()
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

func TestNotebookCellChildServer(t *testing.T) {
	ctx := t.Context()
	m, err := manager.Start(ctx)
	check(t, err)
	defer m.Shutdown(context.Background())
	if m.ServerPid() == 0 || m.ServerPid() == os.Getpid() {
		t.Fatal("server is not a child process")
	}
	d := must[*manager.Dict[any, any]](t)(manager.NewDict[any, any](ctx, m))
	l := must[*manager.List[int]](t)(manager.NewList(ctx, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
	p := mp.NewProcess(cellChild, cellArg{d, l})
	check(t, p.Start())
	check(t, p.Wait(ctx))
	items := must[manager.Items[any, any]](t)(d.Items(ctx))
	all := must[[]int](t)(l.All(ctx))
	if got := fmt.Sprintf("%v\n%v", items, all); got != "map[1:1 2:2 0.25:<nil>]\n[9 8 7 6 5 4 3 2 1 0]" {
		t.Fatalf("got\n%s", got)
	}
	check(t, m.Shutdown(ctx))
	if _, err := d.Len(ctx); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("proxy after shutdown: %v", err)
	}
}

// 100 clients (25 goroutines in each of 4 processes) x 1,000 increments under a Lock.
type incArg struct {
	Lock    *manager.Lock
	V       *manager.Value[int]
	Workers int
	N       int
}

var incChild = mp.RegisterErr("manager_test.inc", func(a incArg) (struct{}, error) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, a.Workers)
	for range a.Workers {
		wg.Go(func() {
			for range a.N {
				if err := a.Lock.Acquire(ctx); err != nil {
					errc <- err
					return
				}
				x, err := a.V.Get(ctx)
				if err == nil {
					err = a.V.Set(ctx, x+1)
				}
				if rerr := a.Lock.Release(ctx); err == nil {
					err = rerr
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	return struct{}{}, <-errc
})

func TestLockCounter100Clients(t *testing.T) {
	ctx := t.Context()
	m, err := manager.Start(ctx)
	check(t, err)
	defer m.Shutdown(context.Background())
	lock := must[*manager.Lock](t)(manager.NewLock(ctx, m))
	v := must[*manager.Value[int]](t)(manager.NewValue(ctx, m, 0))
	const procs, workers, n = 4, 25, 1000
	start := time.Now()
	var ps []*mp.Process
	for range procs {
		p := mp.NewProcess(incChild, incArg{lock, v, workers, n})
		check(t, p.Start())
		ps = append(ps, p)
	}
	for _, p := range ps {
		check(t, p.Wait(ctx))
	}
	if got := must[int](t)(v.Get(ctx)); got != procs*workers*n {
		t.Fatalf("counter = %d, want %d", got, procs*workers*n)
	}
	t.Logf("%d locked increments in %v", procs*workers*n, time.Since(start))
}

// A child that dies holding the lock: the next acquirer gets it, with ErrOwnerDead.
var holdAndDie = mp.Register("manager_test.holdAndDie", func(l *manager.Lock) {
	if err := l.Acquire(context.Background()); err != nil {
		os.Exit(3)
	}
	os.Exit(0) // without Release
})

func TestDeadClientHoldingLock(t *testing.T) {
	ctx := t.Context()
	m, err := manager.Start(ctx)
	check(t, err)
	defer m.Shutdown(context.Background())
	l := must[*manager.Lock](t)(manager.NewLock(ctx, m))
	p := mp.NewProcess(holdAndDie, l)
	check(t, p.Start())
	p.Wait(ctx)
	if code, _ := p.ExitCode(); code != 0 {
		t.Fatalf("child exit %d", code)
	}
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = l.Acquire(actx)
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("acquire after the owner died: %v", err)
	}
	// The lock is ours now, and works normally.
	check(t, l.Release(ctx))
	check(t, l.Acquire(ctx))
	check(t, l.Release(ctx))
}

// A remote program connects by address and key.
type remoteArg struct {
	Network, Addr string
	Key           []byte
}

var remoteChild = mp.RegisterErr("manager_test.remote", func(a remoteArg) (int, error) {
	ctx := context.Background()
	m, err := manager.Connect(ctx, a.Network, a.Addr, a.Key)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	q, err := manager.NewQueue[string](ctx, m, 0)
	if err != nil {
		return 0, err
	}
	_ = q
	d, err := manager.NewDict[string, int](ctx, m)
	if err != nil {
		return 0, err
	}
	if err := d.Set(ctx, "from", os.Getpid()); err != nil {
		return 0, err
	}
	// Wrong key: refused.
	if _, err := manager.Connect(ctx, a.Network, a.Addr, []byte("wrong")); !errors.Is(err, mp.ErrAuth) {
		return 0, fmt.Errorf("wrong key: %v", err)
	}
	return int(d.ID()), nil
})

func TestRemoteOverTCP(t *testing.T) {
	ctx := t.Context()
	key := []byte("remote test key")
	m, err := manager.Start(ctx, manager.WithAddress("tcp", "127.0.0.1:0"), manager.WithKey(key))
	check(t, err)
	defer m.Shutdown(context.Background())
	network, addr := m.Addr()
	p := mp.NewProcess(remoteChild, remoteArg{network, addr, key})
	check(t, p.Start())
	check(t, p.Wait(ctx))
	check(t, m.Ping(ctx))
}

func TestManagerDiesProxyFailsFast(t *testing.T) {
	ctx := t.Context()
	m, err := manager.Start(ctx)
	check(t, err)
	defer m.Shutdown(context.Background())
	q := must[*manager.Queue[int]](t)(manager.NewQueue[int](ctx, m, 0))
	errc := make(chan error, 1)
	go func() { _, err := q.Get(ctx); errc <- err }() // blocked on the server
	time.Sleep(50 * time.Millisecond)
	p, err := os.FindProcess(m.ServerPid())
	check(t, err)
	check(t, p.Kill())
	select {
	case err := <-errc:
		if !errors.Is(err, manager.ErrManagerGone) || !errors.Is(err, mp.ErrClosed) {
			t.Fatalf("blocked get after the manager died: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked get hangs after the manager died")
	}
	if _, err := q.Len(ctx); !errors.Is(err, manager.ErrManagerGone) {
		t.Fatalf("call after the manager died: %v", err)
	}
}
