package mp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

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
			return lc, nil
		}
	}
	if seg != nil {
		seg.Close()
	}
	return nil, err
}

func (c *poolLocalConn) pid() int { return c.c.cmd.Process.Pid }

func (c *poolLocalConn) send(b []byte) error {
	_, err := c.c.ctrl.Write(b)
	return err
}

func (c *poolLocalConn) recv() (byte, []byte, error) {
	kind, payload, err := wire.ReadFrame(c.r, maxCtrlFrame, c.buf)
	if err == nil && cap(payload) <= 4<<20 {
		c.buf = payload[:0]
	}
	return kind, payload, err
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
	if c.seg != nil {
		c.word = nil
		c.seg.Close()
	}
}
