package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
)

// mp sides that need the Manager.

// mpDictArg is what the dict-using child gets: the proxy, where to report, how many rounds.
type mpDictArg struct {
	D   *manager.Dict[string, int]
	Out *mp.Conn
	N   int
}

// mpDictFn alternates d["k"] = i and d["k"] N times and reports microseconds per operation.
var mpDictFn = mp.RegisterErr("mpbench.dict", func(a mpDictArg) (struct{}, error) {
	ctx := context.Background()
	defer a.Out.Close()
	if err := a.D.Set(ctx, "k", 0); err != nil { // connect and warm up
		return struct{}{}, err
	}
	if _, _, err := a.D.Get(ctx, "k"); err != nil {
		return struct{}{}, err
	}
	t := time.Now()
	for i := range a.N {
		if err := a.D.Set(ctx, "k", i); err != nil {
			return struct{}{}, err
		}
		if v, ok, err := a.D.Get(ctx, "k"); err != nil || !ok || v != i {
			return struct{}{}, fmt.Errorf("get: %v, %v, %w", v, ok, err)
		}
	}
	return struct{}{}, a.Out.Send(perOp(time.Since(t), 2*a.N, time.Microsecond))
})

func mpManagerDict(b *bench) (float64, error) {
	return mpWithDict(func(d *manager.Dict[string, int]) (us float64, err error) {
		err = mpRunChild(mpDictFn, func(w *mp.Conn) mpDictArg { return mpDictArg{D: d, Out: w, N: b.n(2000, 500)} }, &us)
		return us, err
	})
}

// mpWithDict starts a manager in a child process, makes a dict on it, runs fn with it and
// shuts the manager down.
func mpWithDict(fn func(*manager.Dict[string, int]) (float64, error)) (float64, error) {
	ctx := context.Background()
	m, err := manager.Start(ctx)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	d, err := manager.NewDict[string, int](ctx, m)
	if err != nil {
		return 0, err
	}
	return fn(d)
}

// mpClientsArg is what the many-clients child gets.
type mpClientsArg struct {
	D       *manager.Dict[string, int]
	Out     *mp.Conn
	N       int
	Clients int
}

// mpClientsFn runs Clients goroutines, each alternating d[k] = i and d[k] on its own key N
// times, and reports dict operations per second in aggregate.
var mpClientsFn = mp.RegisterErr("mpbench.dictclients", func(a mpClientsArg) (struct{}, error) {
	ctx := context.Background()
	defer a.Out.Close()
	if err := a.D.Set(ctx, "k0", 0); err != nil { // connect and warm up
		return struct{}{}, err
	}
	errs := make(chan error, a.Clients)
	t := time.Now()
	for c := range a.Clients {
		go func() {
			key := fmt.Sprintf("k%d", c)
			for i := range a.N {
				if err := a.D.Set(ctx, key, i); err != nil {
					errs <- err
					return
				}
				if v, ok, err := a.D.Get(ctx, key); err != nil || !ok || v != i {
					errs <- fmt.Errorf("get %s: %v, %v, %w", key, v, ok, err)
					return
				}
			}
			errs <- nil
		}()
	}
	var err error
	for range a.Clients {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, a.Out.Send(float64(2*a.N*a.Clients) / time.Since(t).Seconds())
})

func mpManager8Clients(b *bench) (float64, error) {
	return mpWithDict(func(d *manager.Dict[string, int]) (rate float64, err error) {
		err = mpRunChild(mpClientsFn, func(w *mp.Conn) mpClientsArg {
			return mpClientsArg{D: d, Out: w, N: b.n(500, 125), Clients: 8}
		}, &rate)
		return rate, err
	})
}

// mpRunChild starts fn with the argument arg builds around the write end of a pipe, waits
// for the one figure the child sends back, and joins it.
func mpRunChild[A any](fn *mp.Func[A, struct{}], arg func(*mp.Conn) A, figure *float64) error {
	r, w, err := mp.Pipe(mp.OneWay())
	if err != nil {
		return err
	}
	defer r.Close()
	p := mp.NewProcess(fn, arg(w))
	err = p.Start()
	w.Close()
	if err != nil {
		return err
	}
	defer p.Close()
	rerr := r.Recv(figure)
	if werr := p.Wait(context.Background()); werr != nil {
		return fmt.Errorf("%s child: %w", fn.Name(), werr)
	}
	if rerr != nil {
		return errors.Join(fmt.Errorf("%s child sent no figure", fn.Name()), rerr)
	}
	return nil
}
