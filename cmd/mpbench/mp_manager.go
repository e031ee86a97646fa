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
	ctx := context.Background()
	n := b.n(2000, 500)
	m, err := manager.Start(ctx)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	d, err := manager.NewDict[string, int](ctx, m)
	if err != nil {
		return 0, err
	}
	r, w, err := mp.Pipe(mp.OneWay())
	if err != nil {
		return 0, err
	}
	defer r.Close()
	p := mp.NewProcess(mpDictFn, mpDictArg{D: d, Out: w, N: n})
	err = p.Start()
	w.Close()
	if err != nil {
		return 0, err
	}
	defer p.Close()
	var us float64
	rerr := r.Recv(&us)
	if werr := p.Wait(ctx); werr != nil {
		return 0, fmt.Errorf("dict child: %w", werr)
	}
	if rerr != nil {
		return 0, errors.Join(errors.New("dict child sent no figure"), rerr)
	}
	return us, nil
}
