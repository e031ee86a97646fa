package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/ring"
	"github.com/mpgo/mp/internal/wire"
)

// A Pipe on this machine moves its messages through shared-memory rings (internal/ring),
// one per direction, so that a Send and a Recv that need not wait make no system call.
// The socketpair stays beside the rings for what they cannot do: it is the end's
// reference count across processes (every copy of an end, in any process, holds it) and
// so tells the peer, by end of stream, that the last copy was closed or its process
// died. A goroutine per end blocks in a read of the socket (nothing is ever written to
// it) and cancels the end's peer context when it ends; every ring wait of the end runs
// under that context.

// pipeRingCapacity is the size of each direction's ring. Memory is committed as used.
const pipeRingCapacity = 8 << 20

// pipeRingRelease is how long Close waits before unmapping an end's rings: a ring wait's
// wake-up callback may still be running on another goroutine when the wait returns.
const pipeRingRelease = time.Second

// pipeRingPair creates the rings of a pipe: ab carries a's messages to b, ba the other
// way (only ba for a one-way pipe). Each end gets its own mapping.
func pipeRingPair(maxFrame int, duplex bool) (aRx, aTx, bRx, bTx *ring.Ring, err error) {
	var made []*ring.Ring
	fail := func(e error) (aRx, aTx, bRx, bTx *ring.Ring, err error) {
		for _, r := range made {
			r.Release()
		}
		return nil, nil, nil, nil, e
	}
	pair := func() (*ring.Ring, *ring.Ring, error) {
		r, err := ring.Create(pipeRingCapacity, 0, maxFrame, false)
		if err != nil {
			return nil, nil, err
		}
		made = append(made, r)
		o, err := ring.Open(r.File())
		if err != nil {
			return nil, nil, err
		}
		made = append(made, o)
		return r, o, nil
	}
	if aRx, bTx, err = pair(); err != nil {
		return fail(err)
	}
	if duplex {
		if bRx, aTx, err = pair(); err != nil {
			return fail(err)
		}
	}
	return aRx, aTx, bRx, bTx, nil
}

// pipeRingAttach gives c its rings and starts the goroutine that watches the socket. An
// end dropped without Close is released when it is collected: the watcher holds the
// socket, so the socket's own finalizer would never run.
func (c *Conn) pipeRingAttach(rx, tx *ring.Ring, rxFile, txFile *wire.File) {
	c.rx, c.tx, c.rxFile, c.txFile = rx, tx, rxFile, txFile
	c.peerCtx, c.peerCancel = context.WithCancel(context.Background())
	nc, cancel := c.nc, c.peerCancel
	runtime.AddCleanup(c, func(r pipeRingHeld) {
		r.cancel()
		r.nc.Close() // ends the watcher
		if r.file != nil {
			r.file.Close()
		}
		pipeRingReleaseLater(r.rx, r.tx)
	}, pipeRingHeld{nc: nc, file: c.osFile(), cancel: cancel, rx: rx, tx: tx})
	go func() {
		defer cancel()
		var b [64]byte
		for {
			if _, err := nc.Read(b[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
	}()
}

// pipeRingHeld is what a ring-backed end holds, for its cleanup (which must not refer
// to the Conn itself). Closing any of it twice is harmless.
type pipeRingHeld struct {
	nc     net.Conn
	file   *os.File
	cancel context.CancelFunc
	rx, tx *ring.Ring
}

func (c *Conn) osFile() *os.File {
	if c.file == nil {
		return nil
	}
	return c.file.F
}

// pipeRingReleaseLater unmaps an end's rings once any wake-up callback of a wait that
// was in flight has run.
func pipeRingReleaseLater(rx, tx *ring.Ring) {
	time.AfterFunc(pipeRingRelease, func() {
		if rx != nil {
			rx.Release()
		}
		if tx != nil {
			tx.Release()
		}
	})
}

// pipeRingSend puts one message. Callers hold wmu.
func (c *Conn) pipeRingSend(kind byte, p []byte) error {
	err := c.tx.Put(c.peerCtx, kind, p, true)
	return c.pipeRingErr("send", err)
}

// pipeRingRecv takes one message and hands it to fn. Callers hold rmu.
func (c *Conn) pipeRingRecv(fn func(kind byte, payload []byte, owned bool) error) error {
	var ferr error
	consume := func(kind byte, payload []byte, owned bool) error {
		ferr = fn(kind, payload, owned)
		return nil
	}
	err := c.rx.Get(c.peerCtx, true, consume)
	if err != nil && c.peerCtx.Err() != nil && !c.closed.Load() {
		// The peer is gone: what it sent before going is still to be read.
		err = c.rx.Get(nil, false, consume)
		if errors.Is(err, ring.ErrEmpty) {
			return fmt.Errorf("mp: recv: peer closed the connection: %w", io.EOF)
		}
	}
	if err != nil {
		return c.pipeRingErr("recv", err)
	}
	return ferr
}

func (c *Conn) pipeRingErr(op string, err error) error {
	var se *ring.SizeError
	switch {
	case err == nil:
		return nil
	case c.closed.Load():
		return fmt.Errorf("mp: %s: %w", op, ErrClosed)
	case errors.As(err, &se):
		return fmt.Errorf("mp: %s: %w", op, &wire.FrameSizeError{Size: uint64(se.Size), Max: uint64(se.Max)})
	case c.peerCtx.Err() != nil, errors.Is(err, ring.ErrClosed):
		if op == "recv" {
			return fmt.Errorf("mp: %s: peer closed the connection: %w", op, io.EOF)
		}
		return fmt.Errorf("mp: %s: peer went away: %w", op, syscall.EPIPE)
	default:
		return fmt.Errorf("mp: %s: %w", op, err)
	}
}

// pipeRingPoll is Poll for a ring end. Callers hold rmu.
func (c *Conn) pipeRingPoll(timeout time.Duration) (bool, error) {
	if c.closed.Load() {
		return false, fmt.Errorf("mp: poll: %w", ErrClosed)
	}
	if c.rx.Readable() || c.peerCtx.Err() != nil {
		return true, nil
	}
	if timeout == 0 {
		return false, nil
	}
	ctx := c.peerCtx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return c.pipeRingWait(ctx)
}

// pipeRingWait waits under ctx (which must end when the peer context does) for a
// message or the end of the stream.
func (c *Conn) pipeRingWait(ctx context.Context) (bool, error) {
	err := c.rx.WaitReadable(ctx)
	switch {
	case c.closed.Load():
		return false, fmt.Errorf("mp: poll: %w", ErrClosed)
	case err == nil, c.peerCtx.Err() != nil:
		return true, nil
	default:
		return false, nil
	}
}
