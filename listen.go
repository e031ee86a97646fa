package mp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mpgo/mp/internal/authn"
	"github.com/mpgo/mp/internal/wire"
)

// ErrAuth is the error of a failed authentication handshake: the peer holds another key,
// or does not speak mp's protocol.
var ErrAuth = authn.ErrAuth

// NetOption configures Listen and Dial.
type NetOption func(*netConfig) error

type netConfig struct {
	tls        *tls.Config
	timeout    time.Duration
	maxFrame   int
	maxPending int
	logger     *slog.Logger
	dialer     net.Dialer
}

// WithTLS runs the connection over TLS with cfg (the user's certificates) before the
// key handshake. Listen needs a cfg with Certificates; Dial one with the server's name or
// RootCAs as usual.
func WithTLS(cfg *tls.Config) NetOption {
	return func(c *netConfig) error {
		if cfg == nil {
			return errors.New("mp: WithTLS: nil config")
		}
		c.tls = cfg
		return nil
	}
}

// WithHandshakeTimeout bounds the authentication handshake (default 10s): a peer that
// does not complete it in time is dropped.
func WithHandshakeTimeout(d time.Duration) NetOption {
	return func(c *netConfig) error {
		if d <= 0 {
			return fmt.Errorf("mp: WithHandshakeTimeout(%v): must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithNetMaxMessage sets the largest message a network Conn accepts (default 1 GiB).
func WithNetMaxMessage(n int) NetOption {
	return func(c *netConfig) error {
		if n <= 0 {
			return fmt.Errorf("mp: WithNetMaxMessage(%d): must be positive", n)
		}
		c.maxFrame = n
		return nil
	}
}

// WithMaxPending bounds how many connections a Listener authenticates at once (default
// 64); connections beyond it are closed at once, so a flood cannot exhaust the process.
func WithMaxPending(n int) NetOption {
	return func(c *netConfig) error {
		if n <= 0 {
			return fmt.Errorf("mp: WithMaxPending(%d): must be positive", n)
		}
		c.maxPending = n
		return nil
	}
}

// WithNetLogger makes a Listener log each connection it refuses, and why (the key is never
// logged). The default discards these records.
func WithNetLogger(l *slog.Logger) NetOption {
	return func(c *netConfig) error {
		if l == nil {
			return errors.New("mp: WithNetLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

func newNetConfig(opts []NetOption) (*netConfig, error) {
	c := &netConfig{timeout: authn.DefaultTimeout, maxFrame: wire.DefaultMaxFrame, maxPending: 64,
		logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Listener accepts authenticated connections: Python's multiprocessing.connection.Listener.
// Every connection proves it holds the key (and learns that the Listener does) before
// Accept returns it; connections that fail are closed and logged, never returned. A
// Listener is safe for concurrent use.
type Listener struct {
	ln    net.Listener
	cfg   *netConfig
	key   []byte
	ready chan *Conn
	done  chan struct{}
	ctx   context.Context // cancelled by Close: interrupts handshakes
	stop  context.CancelFunc
	wg    sync.WaitGroup
	once  sync.Once
	err   error
}

// Listen listens on network ("tcp", "tcp4", "tcp6" or "unix") and addr, authenticating
// every connection with key (HMAC-SHA256 challenge-response both ways, before any payload
// is decoded). Over TCP, give WithTLS to encrypt: the handshake only authenticates.
func Listen(network, addr string, key []byte, opts ...NetOption) (*Listener, error) {
	if err := authn.CheckKey(key); err != nil {
		return nil, err
	}
	cfg, err := newNetConfig(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("mp: listen: %w", err)
	}
	l := &Listener{ln: ln, cfg: cfg, key: append([]byte(nil), key...), ready: make(chan *Conn),
		done: make(chan struct{})}
	l.ctx, l.stop = context.WithCancel(context.Background())
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	slots := make(chan struct{}, l.cfg.maxPending)
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.cfg.logger.Warn("mp: listener stopped", "err", err)
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			l.cfg.logger.Warn("mp: connection refused: too many pending handshakes", "remote", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c, err := l.authenticate(nc)
			<-slots
			if err != nil {
				l.cfg.logger.Warn("mp: connection refused", "remote", nc.RemoteAddr().String(), "reason", err.Error())
				nc.Close()
				return
			}
			select {
			case l.ready <- c:
			case <-l.done:
				c.Close()
			}
		}()
	}
}

func (l *Listener) authenticate(nc net.Conn) (*Conn, error) {
	ctx := l.ctx
	if l.cfg.tls != nil {
		tc := tls.Server(nc, l.cfg.tls)
		hctx, hcancel := context.WithTimeout(ctx, l.cfg.timeout)
		err := tc.HandshakeContext(hctx)
		hcancel()
		if err != nil {
			return nil, fmt.Errorf("mp: tls handshake: %w", err)
		}
		nc = tc
	}
	if err := authn.Server(ctx, nc, l.key, l.cfg.timeout); err != nil {
		return nil, err
	}
	return newNetConn(nc, l.cfg.maxFrame), nil
}

// Accept returns the next authenticated connection. It blocks until one arrives, ctx is
// done (ctx.Err()), or the Listener is closed (ErrClosed).
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("mp: accept: %w", ErrClosed)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Addr returns the address listened on (with the port chosen, for ":0").
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening, drops connections still authenticating or not yet accepted,
// and waits for its goroutines. It is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.stop()
		l.err = l.ln.Close()
		l.wg.Wait()
	})
	return l.err
}

// Dial connects to a Listener (or a Manager) at network/addr and runs the key handshake
// (over TLS first when WithTLS is given). ctx bounds the dial and the handshake.
func Dial(ctx context.Context, network, addr string, key []byte, opts ...NetOption) (*Conn, error) {
	if err := authn.CheckKey(key); err != nil {
		return nil, err
	}
	cfg, err := newNetConfig(opts)
	if err != nil {
		return nil, err
	}
	nc, err := cfg.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("mp: dial: %w", err)
	}
	if cfg.tls != nil {
		tc := tls.Client(nc, cfg.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("mp: dial: tls handshake: %w", err)
		}
		nc = tc
	}
	if err := authn.Client(ctx, nc, key, cfg.timeout); err != nil {
		nc.Close()
		return nil, fmt.Errorf("mp: dial %s: %w", addr, err)
	}
	return newNetConn(nc, cfg.maxFrame), nil
}
