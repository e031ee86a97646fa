package mp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpgo/mp/internal/ring"
	"github.com/mpgo/mp/internal/wire"
)

// Conn is one end of a Pipe, or a connection made by Listen and Dial: Python's
// multiprocessing.connection.Connection. Send and Recv move values encoded by mp's codec;
// SendBytes and RecvBytes move bytes as they are.
//
// A Conn is safe for concurrent use: sends are serialised with each other and receives
// with each other, so two goroutines never interleave one message. (Python warns that
// two processes using the same end at once may corrupt it; that remains true across
// processes.) A Pipe end passes to a child Process as (part of) its argument and works
// there; a network Conn does not.
type Conn struct {
	file     *wire.File // the socket as a file, for passing to a child; nil for network conns
	nc       net.Conn
	r        *bufio.Reader
	maxFrame int
	readable bool
	writable bool

	rmu  sync.Mutex
	rbuf []byte
	wmu  sync.Mutex
	wbuf []byte

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// A Pipe end on this machine moves messages through shared-memory rings (see
	// conn_ring.go); nil rings: the socket carries them.
	rx, tx         *ring.Ring
	rxFile, txFile *wire.File
	peerCtx        context.Context // ends when the peer's last copy is gone, or on Close
	peerCancel     context.CancelFunc
}

func (c *Conn) pipeRinged() bool { return c.rx != nil || c.tx != nil }

// PipeOption configures Pipe.
type PipeOption func(*pipeConfig) error

type pipeConfig struct {
	duplex   bool
	maxFrame int
}

// OneWay makes Pipe return a receive-only first end and a send-only second end
// (Python's Pipe(duplex=False)).
func OneWay() PipeOption {
	return func(c *pipeConfig) error { c.duplex = false; return nil }
}

// WithMaxMessage sets the largest message, in encoded bytes, that a connection accepts
// (default 1 GiB). A peer announcing more is refused with ErrFrameTooLarge.
func WithMaxMessage(n int) PipeOption {
	return func(c *pipeConfig) error {
		if n <= 0 || n > wire.DefaultMaxFrame*4-1 {
			return fmt.Errorf("mp: WithMaxMessage(%d): must be between 1 and 4 GiB-1", n)
		}
		c.maxFrame = n
		return nil
	}
}

// Pipe returns two connected ends, duplex unless OneWay is given, in which case the first
// end only receives and the second only sends.
func Pipe(opts ...PipeOption) (*Conn, *Conn, error) {
	cfg := pipeConfig{duplex: true, maxFrame: wire.DefaultMaxFrame}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, nil, err
		}
	}
	a, b, err := pipePair()
	if err != nil {
		return nil, nil, fmt.Errorf("mp: pipe: %w", err)
	}
	ca, err := newFileConn(wire.NewFile(a), cfg.maxFrame, true, cfg.duplex)
	if err != nil {
		a.Close()
		b.Close()
		return nil, nil, fmt.Errorf("mp: pipe: %w", err)
	}
	cb, err := newFileConn(wire.NewFile(b), cfg.maxFrame, cfg.duplex, true)
	if err != nil {
		ca.Close()
		b.Close()
		return nil, nil, fmt.Errorf("mp: pipe: %w", err)
	}
	if aRx, aTx, bRx, bTx, err := pipeRingPair(cfg.maxFrame, cfg.duplex); err == nil {
		file := func(r *ring.Ring) *wire.File {
			if r == nil {
				return nil
			}
			return wire.NewFile(r.File())
		}
		ca.pipeRingAttach(aRx, aTx, file(aRx), file(aTx))
		cb.pipeRingAttach(bRx, bTx, file(bRx), file(bTx))
	}
	return ca, cb, nil
}

func newFileConn(f *wire.File, maxFrame int, readable, writable bool) (*Conn, error) {
	nc, err := net.FileConn(f.F)
	if err != nil {
		return nil, err
	}
	c := newNetConn(nc, maxFrame)
	c.file, c.readable, c.writable = f, readable, writable
	return c, nil
}

// newNetConn wraps a connected stream (a unix socket, or TCP after Listen/Dial's
// handshake) as a duplex Conn.
func newNetConn(nc net.Conn, maxFrame int) *Conn {
	if maxFrame <= 0 {
		maxFrame = wire.DefaultMaxFrame
	}
	return &Conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), maxFrame: maxFrame, readable: true, writable: true}
}

// Send encodes v and sends it as one message. A []byte is sent as it is (as SendBytes
// does). A value the codec cannot encode is an *EncodeError naming its type, and nothing
// is sent.
func (c *Conn) Send(v any) error {
	if b, ok := v.([]byte); ok {
		return c.SendBytes(b)
	}
	if err := c.usable(c.writable, "send"); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.pipeRinged() {
		buf, err := wire.AppendMarshal(c.wbuf[:0], v)
		if err != nil {
			return fmt.Errorf("mp: send: %w", err)
		}
		if len(buf) > c.maxFrame {
			return fmt.Errorf("mp: send: %w", &wire.FrameSizeError{Size: uint64(len(buf)), Max: uint64(c.maxFrame)})
		}
		if cap(buf) <= 1<<20 {
			c.wbuf = buf
		}
		return c.pipeRingSend(wire.KindCBOR, buf)
	}
	buf, err := wire.AppendMarshal(append(c.wbuf[:0], make([]byte, wire.HeaderSize)...), v)
	if err != nil {
		return fmt.Errorf("mp: send: %w", err)
	}
	n := len(buf) - wire.HeaderSize
	if n > c.maxFrame {
		return fmt.Errorf("mp: send: %w", &wire.FrameSizeError{Size: uint64(n), Max: uint64(c.maxFrame)})
	}
	wire.PutHeader(buf, wire.KindCBOR, n)
	_, err = c.nc.Write(buf)
	if cap(buf) <= 1<<20 {
		c.wbuf = buf
	}
	return c.ioErr("send", err)
}

// SendBytes sends b as one message, without encoding it.
func (c *Conn) SendBytes(b []byte) error {
	if err := c.usable(c.writable, "send"); err != nil {
		return err
	}
	if len(b) > c.maxFrame {
		return fmt.Errorf("mp: send: %w", &wire.FrameSizeError{Size: uint64(len(b)), Max: uint64(c.maxFrame)})
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.pipeRinged() {
		return c.pipeRingSend(wire.KindRaw, b)
	}
	if len(b) <= 64<<10 {
		buf := append(c.wbuf[:0], make([]byte, wire.HeaderSize)...)
		wire.PutHeader(buf, wire.KindRaw, len(b))
		buf = append(buf, b...)
		_, err := c.nc.Write(buf)
		c.wbuf = buf
		return c.ioErr("send", err)
	}
	var h [wire.HeaderSize]byte
	wire.PutHeader(h[:], wire.KindRaw, len(b))
	bufs := net.Buffers{h[:], b}
	_, err := bufs.WriteTo(c.nc)
	return c.ioErr("send", err)
}

// Recv receives one message into the value ptr points to. A message sent with
// SendBytes decodes only into a *[]byte or an *any. When the peer has closed its end
// and nothing is left, the error matches io.EOF.
func (c *Conn) Recv(ptr any) error {
	if err := c.usable(c.readable, "recv"); err != nil {
		return err
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.pipeRinged() {
		return c.pipeRingRecv(func(kind byte, payload []byte, owned bool) error {
			return connDecode(kind, payload, owned, ptr)
		})
	}
	kind, payload, err := c.readFrame()
	if err != nil {
		return err
	}
	return connDecode(kind, payload, false, ptr)
}

// connDecode decodes one received message into ptr. owned reports whether payload may
// be kept.
func connDecode(kind byte, payload []byte, owned bool, ptr any) error {
	switch kind {
	case wire.KindCBOR:
		if err := wire.Unmarshal(payload, ptr); err != nil {
			return fmt.Errorf("mp: recv: %w", err)
		}
		return nil
	case wire.KindRaw:
		if !owned {
			payload = slices.Clone(payload)
		}
		switch p := ptr.(type) {
		case *[]byte:
			*p = payload
		case *any:
			*p = payload
		default:
			return fmt.Errorf("mp: recv: %w", &wire.DecodeError{Type: fmt.Sprintf("%T", ptr),
				Err: errors.New("message was sent as bytes: receive it into a *[]byte")})
		}
		return nil
	default:
		return fmt.Errorf("mp: recv: unknown message kind %d", kind)
	}
}

// RecvBytes receives one message sent with SendBytes (or Send of a []byte).
func (c *Conn) RecvBytes() ([]byte, error) {
	if err := c.usable(c.readable, "recv"); err != nil {
		return nil, err
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.pipeRinged() {
		var out []byte
		err := c.pipeRingRecv(func(kind byte, payload []byte, owned bool) error {
			if kind != wire.KindRaw {
				return errors.New("mp: recv: message was an encoded value: receive it with Recv")
			}
			if !owned {
				payload = slices.Clone(payload)
			}
			out = payload
			return nil
		})
		return out, err
	}
	kind, payload, err := c.readFrame()
	if err != nil {
		return nil, err
	}
	if kind != wire.KindRaw {
		return nil, errors.New("mp: recv: message was an encoded value: receive it with Recv")
	}
	return slices.Clone(payload), nil
}

// readFrame reads one frame into the reusable buffer. Callers hold rmu.
func (c *Conn) readFrame() (byte, []byte, error) {
	kind, payload, err := wire.ReadFrame(c.r, c.maxFrame, c.rbuf)
	if err != nil {
		return 0, nil, c.ioErr("recv", err)
	}
	if cap(payload) <= 1<<20 {
		c.rbuf = payload[:0]
	}
	return kind, payload, nil
}

// Poll reports whether a message (or the end of the stream) is ready to be received,
// waiting up to timeout for one; a negative timeout waits for ever, zero does not wait.
func (c *Conn) Poll(timeout time.Duration) (bool, error) {
	if err := c.usable(c.readable, "poll"); err != nil {
		return false, err
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.pollLocked(timeout)
}

func (c *Conn) pollLocked(timeout time.Duration) (bool, error) {
	if c.pipeRinged() {
		return c.pipeRingPoll(timeout)
	}
	if c.r.Buffered() > 0 {
		return true, nil
	}
	if timeout == 0 {
		return readableNow(c.nc), nil
	}
	if timeout > 0 {
		c.nc.SetReadDeadline(time.Now().Add(timeout))
		defer c.nc.SetReadDeadline(time.Time{})
	}
	_, err := c.r.Peek(1)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, io.EOF):
		return true, nil // the next Recv reports the end
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	case c.closed.Load():
		return false, fmt.Errorf("mp: poll: %w", ErrClosed)
	default:
		return false, c.ioErr("poll", err)
	}
}

// WaitConns waits until at least one of conns has a message (or end of stream) ready and
// returns those that do: Python's multiprocessing.connection.wait. When ctx ends first it
// returns ctx.Err().
func WaitConns(ctx context.Context, conns ...*Conn) ([]*Conn, error) {
	if len(conns) == 0 {
		return nil, errors.New("mp: WaitConns: no connections")
	}
	ready := func() ([]*Conn, error) {
		var out []*Conn
		for _, c := range conns {
			ok, err := c.Poll(0)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, c)
			}
		}
		return out, nil
	}
	if out, err := ready(); err != nil || len(out) > 0 {
		return out, err
	}
	// Block in every connection at once; the first to become ready (or ctx) wakes the rest
	// by moving their read deadlines into the past.
	wake := make(chan struct{})
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(wake)
			wcancel()
			for _, c := range conns {
				if !c.pipeRinged() {
					c.nc.SetReadDeadline(time.Unix(1, 0))
				}
			}
		})
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(conns))
	for _, c := range conns {
		wg.Go(func() {
			c.rmu.Lock()
			defer c.rmu.Unlock()
			select {
			case <-wake:
				return
			default:
			}
			if c.pipeRinged() {
				pctx, pcancel := context.WithCancel(c.peerCtx)
				defer pcancel()
				defer context.AfterFunc(wctx, pcancel)()
				ok, err := c.pipeRingWait(pctx)
				if err != nil && !c.closed.Load() {
					errc <- err
				}
				if ok || err != nil {
					stop()
				}
				return
			}
			ok, err := c.pollLocked(-1)
			if err != nil && !c.closed.Load() && !errors.Is(err, os.ErrDeadlineExceeded) {
				errc <- err
			}
			if ok || err != nil {
				stop()
			}
		})
	}
	select {
	case <-ctx.Done():
		stop()
	case <-wake:
	}
	wg.Wait()
	for _, c := range conns {
		if !c.pipeRinged() {
			c.nc.SetReadDeadline(time.Time{})
		}
	}
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	out, err := ready()
	if err == nil && len(out) == 0 {
		err = ctx.Err()
	}
	return out, err
}

// Close closes this end. The peer's Recv then reports io.EOF once it has read what was
// sent. Close is idempotent; using a closed Conn is ErrClosed.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.pipeRinged() {
			c.peerCancel() // wakes this end's ring waits
		}
		c.closeErr = c.nc.Close()
		if c.file != nil {
			c.file.F.Close()
		}
		if c.pipeRinged() {
			// Wait for the ring operations in flight, then unmap.
			c.rmu.Lock()
			c.wmu.Lock()
			pipeRingReleaseLater(c.rx, c.tx)
			c.wmu.Unlock()
			c.rmu.Unlock()
		}
	})
	return c.closeErr
}

func (c *Conn) usable(allowed bool, op string) error {
	if c == nil || c.nc == nil {
		return fmt.Errorf("mp: %s: nil or zero Conn", op)
	}
	if c.closed.Load() {
		return fmt.Errorf("mp: %s: %w", op, ErrClosed)
	}
	if !allowed {
		return fmt.Errorf("mp: %s: this end of a one-way pipe cannot %s", op, op)
	}
	return nil
}

func (c *Conn) ioErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case c.closed.Load():
		return fmt.Errorf("mp: %s: %w", op, ErrClosed)
	case errors.Is(err, io.EOF), errors.Is(err, wire.ErrTruncated):
		return fmt.Errorf("mp: %s: peer closed the connection: %w", op, io.EOF)
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("mp: %s: peer went away: %w", op, err)
	default:
		return fmt.Errorf("mp: %s: %w", op, err)
	}
}

type connWire struct {
	ID       uint64 `cbor:"1,keyasint"`
	Readable bool   `cbor:"2,keyasint"`
	Writable bool   `cbor:"3,keyasint"`
	MaxFrame int    `cbor:"4,keyasint"`
	Rx       uint64 `cbor:"5,keyasint,omitempty"` // file IDs of the shared-memory rings
	Tx       uint64 `cbor:"6,keyasint,omitempty"`
}

// WireFiles lets a Pipe end travel to a child Process.
func (c *Conn) WireFiles() []*wire.File {
	if c == nil || c.file == nil {
		return nil
	}
	fs := []*wire.File{c.file}
	for _, f := range []*wire.File{c.rxFile, c.txFile} {
		if f != nil {
			fs = append(fs, f)
		}
	}
	return fs
}

// MarshalCBOR encodes a Pipe end as a reference to its socket, which travels beside the
// argument to a child Process. A network Conn, or a closed one, cannot be encoded.
func (c *Conn) MarshalCBOR() ([]byte, error) {
	if c.file == nil {
		return nil, errors.New("mp: a network Conn cannot be passed to another process")
	}
	if c.closed.Load() {
		return nil, fmt.Errorf("mp: pass Conn: %w", ErrClosed)
	}
	w := connWire{ID: c.file.ID, Readable: c.readable, Writable: c.writable, MaxFrame: c.maxFrame}
	if c.rxFile != nil {
		w.Rx = c.rxFile.ID
	}
	if c.txFile != nil {
		w.Tx = c.txFile.ID
	}
	return wire.Marshal(w)
}

// UnmarshalCBOR rebuilds a Pipe end in the child it was passed to.
func (c *Conn) UnmarshalCBOR(b []byte) error {
	var w connWire
	if err := wire.Unmarshal(b, &w); err != nil {
		return err
	}
	f, err := wire.Lookup(w.ID)
	if err != nil {
		return err
	}
	var rings [2]*ring.Ring
	var files [2]*wire.File
	for i, id := range []uint64{w.Rx, w.Tx} {
		if id == 0 {
			continue
		}
		rf, err := wire.Lookup(id)
		if err == nil {
			rings[i], err = ring.Open(rf)
		}
		if err != nil {
			for _, r := range rings {
				if r != nil {
					r.Release()
				}
			}
			return fmt.Errorf("mp: receive Conn: %w", err)
		}
		files[i] = &wire.File{ID: id, F: rings[i].File()}
	}
	release := func() {
		for _, r := range rings {
			if r != nil {
				r.Release()
			}
		}
	}
	nc, err := newFileConn(&wire.File{ID: w.ID, F: f}, w.MaxFrame, w.Readable, w.Writable)
	if err != nil {
		release()
		return fmt.Errorf("mp: receive Conn: %w", err)
	}
	*c = Conn{file: nc.file, nc: nc.nc, r: nc.r, maxFrame: nc.maxFrame, readable: nc.readable, writable: nc.writable}
	if rings[0] != nil || rings[1] != nil {
		c.pipeRingAttach(rings[0], rings[1], files[0], files[1])
	}
	return nil
}
