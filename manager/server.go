package manager

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/authn"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/mgrproto"
	"github.com/mpgo/mp/internal/wire"
)

// limits are the server's resource bounds.
type limits struct {
	MaxFrame         int           `cbor:"1,keyasint"`
	MaxConns         int           `cbor:"2,keyasint"`
	IdleTimeout      time.Duration `cbor:"3,keyasint"`
	HandshakeTimeout time.Duration `cbor:"4,keyasint"`
	ReadTimeout      time.Duration `cbor:"5,keyasint"`
	WriteTimeout     time.Duration `cbor:"6,keyasint"`
}

var defaultLimits = limits{
	MaxFrame:         64 << 20,
	MaxConns:         1024,
	HandshakeTimeout: 10 * time.Second,
	ReadTimeout:      30 * time.Second,
	WriteTimeout:     30 * time.Second,
}

// server serves a mgrproto.State on a listener. Each connection has a reader goroutine
// (which runs requests against the state) and a writer goroutine (which sends replies,
// whichever connection's request produced them), so a blocked operation, a slow reader
// or a slow writer never holds up another client.
type server struct {
	ln    net.Listener
	key   []byte
	tls   *tls.Config
	lim   limits
	log   *slog.Logger
	state *mgrproto.State

	ctx    context.Context // cancelled on close
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[mgrproto.ConnID]*sconn
	nextID mgrproto.ConnID
	active atomic.Int64 // connections accepted and not yet closed, handshaking included
	wg     sync.WaitGroup
	once   sync.Once
	// shutdown is closed when a client asks the server to stop.
	shutdown     chan struct{}
	shutdownOnce sync.Once
}

func newServer(ln net.Listener, key []byte, tlsCfg *tls.Config, lim limits, log *slog.Logger) *server {
	s := &server{ln: ln, key: key, tls: tlsCfg, lim: lim, log: log, state: mgrproto.NewState(),
		conns: map[mgrproto.ConnID]*sconn{}, shutdown: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: back off instead of spinning.
			s.log.Warn("mp: manager accept", "err", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		if s.active.Add(1) > int64(s.lim.MaxConns) {
			s.active.Add(-1)
			s.log.Warn("mp: manager refused a connection", "remote", remote(nc), "reason", "too many connections")
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go s.serveConn(nc)
	}
}

func remote(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	return "local"
}

// sconn is one authenticated client connection.
type sconn struct {
	id  mgrproto.ConnID
	nc  net.Conn
	srv *server

	wmu     sync.Mutex // serialises writes to nc
	inline  []byte     // the reader's reply buffer
	mu      sync.Mutex
	out     []byte // encoded response frames waiting for the writer
	spare   []byte
	wake    chan struct{}
	done    chan struct{}
	closing sync.Once
	reason  string
}

func (s *server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer s.active.Add(-1)
	stop := context.AfterFunc(s.ctx, func() { nc.Close() })
	defer stop()
	if s.tls != nil {
		tc := tls.Server(nc, s.tls)
		hctx, cancel := context.WithTimeout(s.ctx, s.lim.HandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.log.Warn("mp: manager refused a connection", "remote", remote(nc), "reason", "tls: "+err.Error())
			nc.Close()
			return
		}
		nc = tc
	}
	if err := authn.Server(s.ctx, nc, s.key, s.lim.HandshakeTimeout); err != nil {
		s.log.Warn("mp: manager refused a connection", "remote", remote(nc), "reason", err.Error())
		nc.Close()
		return
	}
	c := &sconn{nc: nc, srv: s, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.mu.Lock()
	s.nextID++
	c.id = s.nextID
	s.conns[c.id] = c
	s.mu.Unlock()

	s.wg.Add(1)
	go c.writeLoop()
	reason := c.readLoop()
	c.close(reason)

	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
	s.dispatch(s.state.Disconnect(c.id))
	if c.reason == "eof" || s.ctx.Err() != nil {
		s.log.Debug("mp: manager connection closed", "remote", remote(nc), "conn", uint64(c.id))
	} else {
		s.log.Warn("mp: manager closed a connection", "remote", remote(nc), "conn", uint64(c.id), "reason", c.reason)
	}
}

// readLoop runs requests until the connection ends, and returns why.
func (c *sconn) readLoop() string {
	s := c.srv
	br := bufio.NewReaderSize(c.nc, 32<<10)
	for {
		// Wait for the next frame to begin: forever, or up to the idle timeout unless
		// a request of this connection is parked (a lock wait is not idleness).
		for {
			if s.lim.IdleTimeout > 0 {
				c.nc.SetReadDeadline(time.Now().Add(s.lim.IdleTimeout))
			} else {
				c.nc.SetReadDeadline(time.Time{})
			}
			_, err := br.Peek(1)
			if err == nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && s.state.Parked(c.id) > 0 {
				continue
			}
			if ne != nil && ne.Timeout() {
				return "idle timeout"
			}
			if errors.Is(err, net.ErrClosed) || isEOF(err) {
				return "eof"
			}
			return err.Error()
		}
		// A frame has begun: it must arrive whole within the read timeout.
		c.nc.SetReadDeadline(time.Now().Add(s.lim.ReadTimeout))
		kind, payload, err := wire.ReadFrame(br, s.lim.MaxFrame, nil)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return "frame not completed within the read timeout"
			}
			return "bad frame: " + err.Error()
		}
		if kind != mgrproto.KindRequest {
			return "unexpected frame kind"
		}
		req, err := mgrproto.DecodeRequest(payload)
		if err != nil {
			return err.Error()
		}
		replies := s.state.Handle(c.id, req)
		// Replies to this connection are written here, at once; others go to their
		// connection's writer.
		own := c.inline[:0]
		for i := range replies {
			if replies[i].Conn == c.id {
				var err error
				if own, err = c.appendReply(own, &replies[i].Resp); err != nil {
					s.log.Error("mp: manager reply does not encode", "err", err)
				}
			} else {
				s.dispatch(replies[i : i+1])
			}
		}
		if len(own) > 0 {
			c.wmu.Lock()
			c.nc.SetWriteDeadline(time.Now().Add(s.lim.WriteTimeout))
			_, err := c.nc.Write(own)
			c.wmu.Unlock()
			if err != nil {
				return "write: " + err.Error()
			}
		}
		if cap(own) <= 1<<20 {
			c.inline = own
		}
		if req.Op == mgrproto.OpShutdown {
			s.shutdownOnce.Do(func() { close(s.shutdown) })
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, wire.ErrTruncated) || err.Error() == "EOF"
}

// dispatch queues replies on their connections.
func (s *server) dispatch(replies []mgrproto.Reply) {
	if len(replies) == 0 {
		return
	}
	var one *sconn
	for i := range replies {
		r := &replies[i]
		if one == nil || one.id != r.Conn {
			s.mu.Lock()
			one = s.conns[r.Conn]
			s.mu.Unlock()
		}
		if one != nil {
			one.send(&r.Resp)
		}
	}
}

// appendReply appends r as a frame; a reply too large for the client to accept becomes
// an error reply.
func (c *sconn) appendReply(dst []byte, r *mgrproto.Response) ([]byte, error) {
	before := len(dst)
	dst, err := mgrproto.AppendResponseFrame(dst, r)
	if err != nil {
		return dst[:before], err
	}
	if len(dst)-before-wire.HeaderSize > c.srv.lim.MaxFrame {
		return mgrproto.AppendResponseFrame(dst[:before], &mgrproto.Response{Seq: r.Seq, Err: errWire(wire.ErrFrameTooLarge)})
	}
	return dst, nil
}

func (c *sconn) send(r *mgrproto.Response) {
	c.mu.Lock()
	var err error
	c.out, err = c.appendReply(c.out, r)
	c.mu.Unlock()
	if err != nil {
		c.srv.log.Error("mp: manager reply does not encode", "err", err)
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *sconn) writeLoop() {
	defer c.srv.wg.Done()
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		// Double buffering: senders append to out while buf is written; buf is never
		// shared with out (spare is taken, not copied).
		c.mu.Lock()
		buf := c.out
		c.out, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		var err error
		if len(buf) > 0 {
			c.wmu.Lock()
			c.nc.SetWriteDeadline(time.Now().Add(c.srv.lim.WriteTimeout))
			_, err = c.nc.Write(buf)
			c.wmu.Unlock()
		}
		if cap(buf) <= 1<<20 {
			c.mu.Lock()
			c.spare = buf[:0]
			c.mu.Unlock()
		}
		if err != nil {
			c.close("write: " + err.Error())
			return
		}
	}
}

func (c *sconn) close(reason string) {
	c.closing.Do(func() {
		c.reason = reason
		close(c.done)
		c.nc.Close()
	})
}

// wait blocks until a client asked for shutdown or ctx is done.
func (s *server) wait(ctx context.Context) {
	select {
	case <-s.shutdown:
	case <-ctx.Done():
	}
}

// close stops accepting, closes every connection, fails parked requests and waits for
// the server's goroutines.
func (s *server) close() {
	s.once.Do(func() {
		s.cancel()
		s.ln.Close()
		s.mu.Lock()
		conns := make([]*sconn, 0, len(s.conns))
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.close("manager shut down")
		}
		s.wg.Wait()
		s.state.Close()
	})
}

func errWire(err error) *errs.Wire { return errs.Encode(err, 0) }
