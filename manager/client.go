package manager

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/mpgo/mp/internal/authn"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/mgrproto"
	"github.com/mpgo/mp/internal/wire"
)

// client is one connection to a manager, shared by every proxy of this process that
// talks to that manager. Requests are multiplexed: each carries a sequence number, and
// whichever caller holds the read token (a "leader") reads the socket, keeps its own
// reply and hands every other reply to the call waiting for it. With one call in flight
// (the common case) the caller reads its own reply: no goroutine hand-off at all. When
// the leader's reply comes, it passes the token on to another waiting call.
type client struct {
	network, addr string
	keyID         [32]byte // sha256 of the key: identifies the client without holding the key
	nc            net.Conn
	maxFrame      int

	wmu  sync.Mutex
	wbuf []byte

	tok  chan struct{} // the read token: held by the one call that reads nc
	br   *bufio.Reader // used by the token holder only
	rbuf []byte        // the token holder's frame buffer

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]chan *mgrproto.Response
	err     error // why the connection ended, once done is closed
	done    chan struct{}
	once    sync.Once
}

func dialClient(ctx context.Context, network, addr string, key []byte, tlsCfg *tls.Config, maxFrame int) (*client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("mp: manager: connect %s: %w", addr, err)
	}
	if tlsCfg != nil {
		tc := tls.Client(nc, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("mp: manager: connect %s: tls: %w", addr, err)
		}
		nc = tc
	}
	if err := authn.Client(ctx, nc, key, 0); err != nil {
		nc.Close()
		return nil, fmt.Errorf("mp: manager: connect %s: %w", addr, err)
	}
	c := &client{network: network, addr: addr, keyID: sha256.Sum256(key), nc: nc, maxFrame: maxFrame,
		pending: map[uint64]chan *mgrproto.Response{}, done: make(chan struct{}),
		tok: make(chan struct{}, 1), br: bufio.NewReaderSize(nc, 32<<10)}
	c.tok <- struct{}{}
	return c, nil
}

// ErrManagerGone is returned by every proxy operation once the connection to the
// manager is lost (it stopped, died, or closed this client). It matches mp.ErrClosed.
var ErrManagerGone = errs.New("mgr_gone", "mp: manager connection lost")

// lead reads replies, as the token holder, until the one for seq arrives; the others go
// to their waiting calls. It returns nil when the connection failed. A reply delivered
// to ch before the token came is taken first.
func (c *client) lead(seq uint64, ch chan *mgrproto.Response) *mgrproto.Response {
	select {
	case resp := <-ch:
		return resp
	default:
	}
	for {
		kind, p, err := wire.ReadFrame(c.br, c.maxFrame, c.rbuf)
		if err == nil && kind != mgrproto.KindResponse {
			err = fmt.Errorf("unexpected frame kind %d", kind)
		}
		var resp *mgrproto.Response
		if err == nil {
			if cap(p) <= 64<<10 {
				c.rbuf = p[:0]
			}
			resp, err = mgrproto.DecodeResponse(p)
		}
		if err != nil {
			c.fail(err)
			return nil
		}
		c.mu.Lock()
		other := c.pending[resp.Seq]
		delete(c.pending, resp.Seq)
		c.mu.Unlock()
		if resp.Seq == seq {
			return resp
		}
		if other != nil {
			other <- resp
		}
	}
}

// fail ends the client: every call in flight and every later one gets ErrManagerGone.
func (c *client) fail(cause error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = fmt.Errorf("%w (%s %s: %v)", ErrManagerGone, c.network, c.addr, cause)
		c.mu.Unlock()
		close(c.done)
		c.nc.Close()
	})
}

func (c *client) close() {
	c.fail(errs.ErrClosed)
}

// alive reports whether the connection still works. With no reader at work, nobody
// would have noticed the server closing it, so alive looks without blocking.
func (c *client) alive() bool {
	select {
	case <-c.done:
		return false
	case <-c.tok:
	default:
		return true // a leader is reading: it notices a failure itself
	}
	defer func() { c.tok <- struct{}{} }()
	if _, ok := c.nc.(*tls.Conn); ok || c.br.Buffered() > 0 {
		return true
	}
	if err := probeClosed(c.nc, c.br); err != nil {
		c.fail(err)
		return false
	}
	return true
}

func (c *client) gone() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.err, errs.ErrClosed)
}

var chanPool = sync.Pool{New: func() any { return make(chan *mgrproto.Response, 1) }}

// call sends req and waits for its response. When ctx ends first, it asks the server to
// withdraw the request and waits for the final answer: a request that completed anyway
// keeps its result; a withdrawn one returns ctx.Err().
func (c *client) call(ctx context.Context, req *mgrproto.Request) (*mgrproto.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := chanPool.Get().(chan *mgrproto.Response)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		chanPool.Put(ch)
		return nil, c.gone()
	}
	c.seq++
	seq := c.seq
	req.Seq = seq
	c.pending[seq] = ch
	c.mu.Unlock()
	if err := c.write(req); err != nil {
		c.mu.Lock()
		delete(c.pending, seq)
		c.mu.Unlock()
		return nil, err
	}
	var resp *mgrproto.Response
	done := ctx.Done()
wait:
	for {
		select {
		case resp = <-ch:
			break wait
		case <-c.tok:
			// The leader blocks in a read: a ctx that ends meanwhile sends the
			// withdrawal from a callback, and the leader keeps reading for the answer.
			var stop func() bool
			if done != nil {
				stop = context.AfterFunc(ctx, func() {
					c.write(&mgrproto.Request{Op: mgrproto.OpCancel, Int: int64(seq)})
				})
			}
			resp = c.lead(seq, ch)
			if stop != nil {
				stop()
			}
			c.tok <- struct{}{}
			if resp == nil {
				return nil, c.gone()
			}
			break wait
		case <-c.done:
			return nil, c.gone()
		case <-done:
			c.write(&mgrproto.Request{Op: mgrproto.OpCancel, Int: int64(seq)})
			done = nil
		}
	}
	chanPool.Put(ch)
	if resp.Err != nil {
		err := errs.Decode(resp.Err)
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return resp, ctx.Err()
		}
		return resp, err
	}
	return resp, nil
}

func (c *client) write(req *mgrproto.Request) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	buf, err := mgrproto.AppendRequestFrame(c.wbuf[:0], req)
	if err != nil {
		return fmt.Errorf("mp: manager %s: %w", req.Op, err)
	}
	if len(buf)-wire.HeaderSize > c.maxFrame {
		return fmt.Errorf("mp: manager %s: %w", req.Op, &wire.FrameSizeError{Size: uint64(len(buf) - wire.HeaderSize), Max: uint64(c.maxFrame)})
	}
	if cap(buf) <= 1<<20 {
		c.wbuf = buf
	}
	if _, err := c.nc.Write(buf); err != nil {
		c.fail(err)
		return c.gone()
	}
	return nil
}

// Clients of this process, by manager address and key: proxies decoded here (passed to
// this process as arguments) share them.
var (
	clientsMu sync.Mutex
	clients   = map[clientKey]*client{}
)

type clientKey struct {
	network, addr string
	keyID         [32]byte
}

func (c *client) cacheKey() clientKey { return clientKey{c.network, c.addr, c.keyID} }

func registerClient(c *client) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if old, ok := clients[c.cacheKey()]; !ok || !old.alive() {
		clients[c.cacheKey()] = c
	}
}

func unregisterClient(c *client) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if clients[c.cacheKey()] == c {
		delete(clients, c.cacheKey())
	}
}

// sharedClient returns this process's live connection to the manager named by ref, or
// dials one (plain; a TLS manager needs Connect in this process first).
func sharedClient(ctx context.Context, ref *proxyRef) (*client, error) {
	k := clientKey{ref.Network, ref.Addr, sha256.Sum256(ref.Key)}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c, ok := clients[k]; ok && c.alive() {
		return c, nil
	}
	if ref.TLS {
		return nil, fmt.Errorf("mp: manager %s uses TLS: call manager.Connect with WithTLS in this process before using its proxies", ref.Addr)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := dialClient(dctx, ref.Network, ref.Addr, ref.Key, nil, defaultLimits.MaxFrame)
	if err != nil {
		return nil, err
	}
	clients[k] = c
	return c, nil
}
