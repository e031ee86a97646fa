package mp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/ring"
	"github.com/mpgo/mp/internal/sched"
	"github.com/mpgo/mp/internal/shm"
	"github.com/mpgo/mp/internal/wire"
)

// poolTransport starts pool workers. The pool speaks to a worker only through poolConn:
// whole frames out, one frame in at a time, kill, and the exit status. Local processes
// today; a transport to remote workers needs nothing more.
type poolTransport interface {
	start(spec poolWorkerSpec) (poolConn, error)
}

type poolWorkerSpec struct {
	name   string
	arg    poolWorkerArg // the transport fills in Progress
	files  []*wire.File  // files the initializer's argument carries
	stdout io.Writer
	stderr io.Writer
}

// poolConn is one worker.
type poolConn interface {
	pid() int
	// send writes one or more whole frames. Safe for concurrent use: frames never interleave.
	send(frames []byte) error
	// recv returns the next frame; its payload is valid until the next recv. One reader.
	recv() (kind byte, payload []byte, err error)
	// progress returns the worker's last reported position (Pos is sched.Unknown when
	// the transport cannot see it).
	progress() sched.Progress
	// kill stops the worker now; recv then fails.
	kill() error
	// closeSend tells the worker no more work comes: it exits once idle.
	closeSend() error
	// wait reaps the worker after recv failed.
	wait() (code int, sig syscall.Signal)
	// release frees what the connection holds, after wait; progress is then Unknown.
	release()
}

// poolLocal starts workers as child processes of this one.
type poolLocal struct{}

type poolLocalConn struct {
	c       *child
	r       *bufio.Reader
	buf     []byte
	seg     *shm.Segment
	word    *uint64
	closed  atomic.Bool
	waitOne sync.Once
	code    int
	sig     syscall.Signal

	// Where shared memory is available, frames travel through two rings (tx to the
	// worker, rx from it) and the control socket only tells when the worker is gone:
	// peerCtx ends at its end of stream, and every ring wait runs under it.
	tx, rx     *ring.Ring
	peerCtx    context.Context
	peerCancel context.CancelFunc
	svcResult  []byte // a result frame the worker wrote on the socket before exiting; read after peerCtx ends
	released   atomic.Bool
}

// poolRingCapacity is the size of each of a worker's rings. Memory is committed as used,
// and a fresh page costs a fault in each process: a small ring, whose pages are reused
// soon, beats a big one on a fresh pool's first map. Bigger messages stream through.
const poolRingCapacity = 1 << 20

// poolRingRelease is how long release waits before unmapping a worker's rings: a ring
// wait's wake-up callback may still be running when the wait returns.
const poolRingRelease = time.Second

// poolRingPair creates a worker's rings, or none where shared memory is unsupported.
func poolRingPair() (tx, rx *ring.Ring, err error) {
	tx, err = ring.Create(poolRingCapacity, 0, maxCtrlFrame, false)
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	rx, err = ring.Create(poolRingCapacity, 0, maxCtrlFrame, false)
	if err != nil {
		tx.Release()
		return nil, nil, err
	}
	return tx, rx, nil
}

func (poolLocal) start(spec poolWorkerSpec) (poolConn, error) {
	files := spec.files
	var seg *shm.Segment
	if s, err := shm.Create("pool-progress", 8); err == nil {
		seg = s
		f := wire.NewFile(s.File())
		spec.arg.Progress = f.ID
		files = append(append([]*wire.File(nil), files...), f)
	} else if !errors.Is(err, errors.ErrUnsupported) {
		return nil, fmt.Errorf("progress word: %w", err)
	}
	tx, rx, err := poolRingPair()
	if err != nil {
		if seg != nil {
			seg.Close()
		}
		return nil, fmt.Errorf("worker rings: %w", err)
	}
	if tx != nil {
		tf, rf := wire.NewFile(tx.File()), wire.NewFile(rx.File())
		spec.arg.Tasks, spec.arg.Results = tf.ID, rf.ID
		files = append(append([]*wire.File(nil), files...), tf, rf)
	}
	arg, err := wire.Marshal(spec.arg)
	if err == nil {
		var c *child
		c, err = startChild(childSpec{fn: poolWorkerFn, arg: arg, files: files, name: spec.name, daemon: true,
			stdout: spec.stdout, stderr: spec.stderr})
		if err == nil {
			lc := &poolLocalConn{c: c, r: bufio.NewReaderSize(c.ctrl, 64<<10), seg: seg}
			if seg != nil {
				lc.word = (*uint64)(unsafe.Pointer(&seg.Bytes()[0]))
			}
			if tx != nil {
				lc.ringAttach(tx, rx)
			}
			return lc, nil
		}
	}
	if seg != nil {
		seg.Close()
	}
	if tx != nil {
		tx.Release()
		rx.Release()
	}
	return nil, err
}

// ringAttach moves c's frames onto its rings and starts the goroutine that watches the
// control socket for the worker's end.
func (c *poolLocalConn) ringAttach(tx, rx *ring.Ring) {
	c.tx, c.rx = tx, rx
	rx.SetStreamBuffer(c.recvBuffer) // recv's payload is valid until the next recv
	c.peerCtx, c.peerCancel = context.WithCancel(context.Background())
	r := c.r
	go func() {
		defer c.peerCancel()
		for {
			kind, payload, err := wire.ReadFrame(r, maxCtrlFrame, nil)
			if err != nil {
				return
			}
			if kind == kindResult {
				c.svcResult = payload
			}
		}
	}()
}

// poolEachFrame calls fn on each whole frame of b.
func poolEachFrame(b []byte, fn func(kind byte, payload []byte) error) error {
	for len(b) > 0 {
		if len(b) < wire.HeaderSize {
			return wire.ErrTruncated
		}
		n := int(binary.LittleEndian.Uint32(b))
		if len(b) < wire.HeaderSize+n {
			return wire.ErrTruncated
		}
		if err := fn(b[4], b[wire.HeaderSize:wire.HeaderSize+n]); err != nil {
			return err
		}
		b = b[wire.HeaderSize+n:]
	}
	return nil
}

func (c *poolLocalConn) pid() int { return c.c.cmd.Process.Pid }

func (c *poolLocalConn) send(b []byte) error {
	if c.tx != nil {
		if c.released.Load() {
			return fmt.Errorf("mp: send to pool worker: %w", ErrClosed)
		}
		if len(b) > wire.HeaderSize && b[4] == kindPoolCancel {
			// Cancellations take the socket: a worker reads its ring only between tasks.
			_, err := c.c.ctrl.Write(b)
			return err
		}
		return poolEachFrame(b, func(kind byte, payload []byte) error {
			return c.tx.Put(c.peerCtx, kind, payload, true)
		})
	}
	_, err := c.c.ctrl.Write(b)
	return err
}

func (c *poolLocalConn) recv() (byte, []byte, error) {
	if c.rx != nil {
		return c.recvRing()
	}
	kind, payload, err := wire.ReadFrame(c.r, maxCtrlFrame, c.buf)
	if err == nil && cap(payload) <= 4<<20 {
		c.buf = payload[:0]
	}
	return kind, payload, err
}

// recvBuffer returns c.buf with room for n bytes.
func (c *poolLocalConn) recvBuffer(n int) []byte {
	if cap(c.buf) < n {
		c.buf = make([]byte, 0, n)
	}
	return c.buf[:0]
}

func (c *poolLocalConn) recvRing() (byte, []byte, error) {
	var kind byte
	var payload []byte
	consume := func(k byte, p []byte, owned bool) error {
		kind = k
		if owned {
			payload = p // c.buf when it streamed
		} else {
			c.buf = append(c.buf[:0], p...)
			payload = c.buf
		}
		return nil
	}
	err := c.rx.Get(c.peerCtx, true, consume)
	if err != nil && c.peerCtx.Err() != nil {
		// The worker is gone: what it sent before going is still to be read.
		err = c.rx.Get(nil, false, consume)
	}
	if cap(c.buf) > 4<<20 {
		c.buf = nil
	}
	if err == nil {
		return kind, payload, nil
	}
	if c.peerCtx.Err() != nil && c.svcResult != nil {
		p := c.svcResult
		c.svcResult = nil
		return kindResult, p, nil
	}
	return 0, nil, fmt.Errorf("mp: pool worker %d: %w", c.pid(), io.EOF)
}

func (c *poolLocalConn) progress() sched.Progress {
	if c.word == nil {
		return sched.Progress{Pos: sched.Unknown}
	}
	w := *c.word
	p := sched.Progress{Seq: uint32(w >> 32), Pos: int(uint32(w))}
	if uint32(w) == poolPosDecoding {
		p.Pos = sched.Decoding
	}
	return p
}

func (c *poolLocalConn) kill() error {
	err := c.c.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

func (c *poolLocalConn) closeSend() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.tx != nil {
		c.tx.Close()
		return nil
	}
	return poolShutdownWrite(c.c.ctrl)
}

func (c *poolLocalConn) wait() (int, syscall.Signal) {
	c.waitOne.Do(func() {
		c.c.cmd.Wait()
		c.code, c.sig = exitStatus(c.c.cmd.ProcessState)
		c.c.ctrl.Close()
	})
	return c.code, c.sig
}

func (c *poolLocalConn) release() {
	if c.tx != nil && !c.released.Swap(true) {
		c.peerCancel()
		tx, rx := c.tx, c.rx
		time.AfterFunc(poolRingRelease, func() {
			tx.Release()
			rx.Release()
		})
	}
	if c.seg != nil {
		c.word = nil
		c.seg.Close()
	}
}
