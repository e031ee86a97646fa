package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mpgo/mp"
)

// mp sides that need Pipe.

// mpPing is the small object of pipe_rtt_us (Python sends the tuple (1, "ping")).
type mpPing struct {
	I int
	S string
}

// mpEchoFn sends back every mpPing it receives, until the parent closes its end.
var mpEchoFn = mp.Register("mpbench.echo", func(c *mp.Conn) {
	defer c.Close()
	for {
		var v mpPing
		if err := c.Recv(&v); err != nil {
			return
		}
		if err := c.Send(v); err != nil {
			return
		}
	}
})

// startMPChild starts fn with the child end of a fresh duplex Pipe and returns the parent's end.
func startMPChild(fn *mp.Func[*mp.Conn, struct{}]) (*mp.Conn, *mp.Process, error) {
	a, c, err := mp.Pipe()
	if err != nil {
		return nil, nil, err
	}
	p := mp.NewProcess(fn, c)
	err = p.Start()
	c.Close()
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, p, nil
}

// finishMPChild closes the parent's end and waits for the child.
func finishMPChild(a *mp.Conn, p *mp.Process, err error) error {
	a.Close()
	if werr := p.Wait(context.Background()); err == nil && werr != nil {
		err = fmt.Errorf("child: %w", werr)
	}
	p.Close()
	return err
}

func mpPipeRTT(b *bench) (float64, error) {
	k := b.n(5000, 1000)
	a, p, err := startMPChild(mpEchoFn)
	if err != nil {
		return 0, err
	}
	msg := mpPing{1, "ping"}
	run := func(k int) error {
		for range k {
			if err := a.Send(msg); err != nil {
				return err
			}
			var v mpPing
			if err := a.Recv(&v); err != nil {
				return err
			}
		}
		return nil
	}
	err = run(100)
	t := time.Now()
	if err == nil {
		err = run(k)
	}
	d := time.Since(t)
	return perOp(d, k, time.Microsecond), finishMPChild(a, p, err)
}

// mpSinkArg tells mpSinkFn how many chunks make one acknowledged round.
type mpSinkArg struct {
	Conn *mp.Conn
	N    int
}

// mpSinkFn receives N byte messages, answers one, and again, until the parent closes its end.
var mpSinkFn = mp.Register("mpbench.sink", func(a mpSinkArg) {
	defer a.Conn.Close()
	for {
		for range a.N {
			if _, err := a.Conn.RecvBytes(); err != nil {
				return
			}
		}
		if err := a.Conn.SendBytes([]byte{'k'}); err != nil {
			return
		}
	}
})

func mpPipeBytes(b *bench) (float64, error) {
	n := b.n(500, 100)
	a, c, err := mp.Pipe()
	if err != nil {
		return 0, err
	}
	p := mp.NewProcess(mpSinkFn, mpSinkArg{Conn: c, N: n})
	err = p.Start()
	c.Close()
	if err != nil {
		a.Close()
		return 0, err
	}
	buf := make([]byte, MiB)
	for i := range buf {
		buf[i] = byte(i)
	}
	t := time.Now()
	for i := 0; i < n && err == nil; i++ {
		err = a.SendBytes(buf)
	}
	if err == nil {
		var ack []byte
		if ack, err = a.RecvBytes(); err == nil && len(ack) != 1 {
			err = errors.New("bad acknowledgement")
		}
	}
	d := time.Since(t)
	return mbPerS(n, d), finishMPChild(a, p, err)
}
