// Package manager is mp's Manager: a server holding shared objects — dicts, lists,
// namespaces, locks, semaphores, conditions, events, barriers, queues, values, arrays and
// registered custom types — that any number of processes use through typed proxies,
// on this machine or across a network. It is Python's multiprocessing.Manager, made safe
// and fast:
//
//   - The server holds values as CBOR and runs only the fixed operations of each object
//     kind and the registered methods of registered types: nothing received is executed.
//   - Every connection proves it holds the key (mutual HMAC-SHA256 challenge-response)
//     before one byte of payload is decoded; TLS is available with WithTLS.
//   - Operations are atomic on the server; compound ones (Dict.Update, Dict.GetOrSet,
//     List.Append of many values, Value.Add) are one call.
//   - Blocking operations (Lock.Acquire, Queue.Get, Event.Wait, ...) park the request on
//     the server, never a server thread; cancelling ctx withdraws it.
//   - A connection that dies releases the locks it held; the next owner gets
//     mp.ErrOwnerDead. A proxy whose manager died fails at once with ErrManagerGone.
//
// Start runs the server in a child Process (mp.Main() must run first in main and
// TestMain); WithInProcess runs it in goroutines of this process. Connect reaches a
// manager started elsewhere by address and key.
//
// Proxies pass to child Processes and Pool tasks as arguments: their wire form is the
// manager's address, its key and the object's id, and they connect lazily in the process
// that receives them. Passing a proxy therefore hands the key to that process. A proxy is
// safe for concurrent use.
package manager

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/authn"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/mgrproto"
	"github.com/mpgo/mp/internal/wire"
)

// Errors of the manager protocol, matched with errors.Is.
var (
	ErrNoObject   = mgrproto.ErrNoObject   // the manager does not hold the object (freed, or another manager's)
	ErrBadRequest = mgrproto.ErrBadRequest // an operation the object does not support
	ErrNotFound   = mgrproto.ErrNotFound   // List.Index/Remove of a missing value, a missing Namespace attribute
	ErrIndex      = mgrproto.ErrIndex      // a List or Array index out of range
)

// Option configures Start and Connect.
type Option func(*config) error

type config struct {
	inProcess bool
	network   string
	addr      string
	key       []byte
	tls       *tls.Config
	lim       limits
	log       *slog.Logger
	procs     int
}

// WithInProcess runs the server in goroutines of this process instead of a child.
func WithInProcess() Option {
	return func(c *config) error { c.inProcess = true; return nil }
}

// WithAddress makes the server listen on network ("tcp", "tcp4", "tcp6", "unix") and addr,
// e.g. ("tcp", "127.0.0.1:0") for a manager other machines reach. The default is a unix
// socket in a private temporary directory.
func WithAddress(network, addr string) Option {
	return func(c *config) error {
		switch network {
		case "tcp", "tcp4", "tcp6", "unix":
		default:
			return fmt.Errorf("mp: manager.WithAddress: unsupported network %q", network)
		}
		c.network, c.addr = network, addr
		return nil
	}
}

// WithKey sets the authentication key (default: 32 random bytes, see Manager.Key).
func WithKey(key []byte) Option {
	return func(c *config) error {
		if err := authn.CheckKey(key); err != nil {
			return fmt.Errorf("mp: manager.WithKey: %w", err)
		}
		c.key = append([]byte(nil), key...)
		return nil
	}
}

// WithTLS runs connections over TLS: for Start, cfg is the server's (with Certificates),
// for Connect, the client's. The key handshake still runs inside TLS. A server started in
// a child process with WithTLS is reached through Connect(..., WithTLS) only.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) error {
		if cfg == nil {
			return errors.New("mp: manager.WithTLS: nil config")
		}
		c.tls = cfg
		return nil
	}
}

// WithMaxFrame bounds one request or response, in encoded bytes (default 64 MiB). A
// client sending more is disconnected.
func WithMaxFrame(n int) Option {
	return func(c *config) error {
		if n < 1024 || n > wire.DefaultMaxFrame {
			return fmt.Errorf("mp: manager.WithMaxFrame(%d): must be between 1 KiB and 1 GiB", n)
		}
		c.lim.MaxFrame = n
		return nil
	}
}

// WithMaxConns bounds the server's connections, handshaking ones included (default 1024);
// connections beyond it are closed at once.
func WithMaxConns(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("mp: manager.WithMaxConns(%d): must be positive", n)
		}
		c.lim.MaxConns = n
		return nil
	}
}

// WithIdleTimeout closes a connection that sends nothing for d while it has no request
// waiting on the server (default: never). Locks it held are then released.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("mp: manager.WithIdleTimeout(%v): must be positive", d)
		}
		c.lim.IdleTimeout = d
		return nil
	}
}

// WithHandshakeTimeout bounds a new connection's authentication (default 10s).
func WithHandshakeTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("mp: manager.WithHandshakeTimeout(%v): must be positive", d)
		}
		c.lim.HandshakeTimeout = d
		return nil
	}
}

// WithReadTimeout bounds how long a request frame, once begun, may take to arrive
// (default 30s): a client that stalls mid-frame is disconnected.
func WithReadTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("mp: manager.WithReadTimeout(%v): must be positive", d)
		}
		c.lim.ReadTimeout = d
		return nil
	}
}

// WithServerProcs sets GOMAXPROCS of a server started in a child process (default 1).
// Every operation runs under one lock, so more rarely helps; one thread avoids waking
// others for each request, which halves the round trip on small machines.
func WithServerProcs(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("mp: manager.WithServerProcs(%d): must be positive", n)
		}
		c.procs = n
		return nil
	}
}

// WithLogger receives the server's records: each refused or dropped connection with its
// reason (never the key). An in-process server logs to it; a server in a child process
// logs warnings to the child's stderr. The default discards records.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("mp: manager.WithLogger: nil logger")
		}
		c.log = l
		return nil
	}
}

// Manager is a connection to a manager server, and, when Start created it, the owner of
// that server. It is safe for concurrent use.
type Manager struct {
	c       *client
	network string
	addr    string
	key     []byte
	tls     bool

	srv  *server     // in-process server
	proc *mp.Process // child server
	dir  string      // private directory of the default unix socket

	once sync.Once
	err  error
}

// Addr returns the network and address the server listens on.
func (m *Manager) Addr() (network, addr string) { return m.network, m.addr }

// Key returns a copy of the authentication key. Keep it secret: it is all a client needs.
func (m *Manager) Key() []byte { return append([]byte(nil), m.key...) }

// String names the manager by address, never by key.
func (m *Manager) String() string { return "manager(" + m.network + ":" + m.addr + ")" }

func newConfig(opts []Option) (*config, error) {
	c := &config{lim: defaultLimits, log: slog.New(slog.DiscardHandler), procs: 1}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Start starts a manager server — in a child process, unless WithInProcess — and
// connects to it. ctx bounds the start. The caller must Shutdown it.
func Start(ctx context.Context, opts ...Option) (*Manager, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.key == nil {
		cfg.key = make([]byte, 32)
		rand.Read(cfg.key)
	}
	m := &Manager{key: cfg.key, tls: cfg.tls != nil}
	if cfg.network == "" {
		dir, err := os.MkdirTemp("", "mp-manager-")
		if err != nil {
			return nil, fmt.Errorf("mp: manager: %w", err)
		}
		m.dir = dir
		cfg.network, cfg.addr = "unix", filepath.Join(dir, "s")
	}
	ln, err := net.Listen(cfg.network, cfg.addr)
	if err != nil {
		m.cleanup()
		return nil, fmt.Errorf("mp: manager: listen: %w", err)
	}
	m.network, m.addr = cfg.network, ln.Addr().String()

	if cfg.inProcess {
		m.srv = newServer(ln, cfg.key, cfg.tls, cfg.lim, cfg.log)
	} else {
		if err := m.startChild(ln, cfg); err != nil {
			m.cleanup()
			return nil, err
		}
	}
	var ctls *tls.Config
	if cfg.tls != nil {
		ctls = cfg.tls.Clone()
		if ctls.ServerName == "" && ctls.RootCAs == nil {
			// Our own server: trust the certificate we gave it.
			ctls.InsecureSkipVerify = true
		}
	}
	c, err := dialClient(ctx, m.network, m.addr, m.key, ctls, cfg.lim.MaxFrame)
	if err != nil {
		m.stopServer(context.Background())
		m.cleanup()
		return nil, err
	}
	m.c = c
	registerClient(c)
	return m, nil
}

// listenerFile carries the listening socket to the server's child process.
type listenerFile struct{ f *wire.File }

func (l *listenerFile) WireFiles() []*wire.File { return []*wire.File{l.f} }

func (l *listenerFile) MarshalCBOR() ([]byte, error) { return wire.Marshal(l.f.ID) }

func (l *listenerFile) UnmarshalCBOR(b []byte) error {
	var id uint64
	if err := wire.Unmarshal(b, &id); err != nil {
		return err
	}
	f, err := wire.Lookup(id)
	if err != nil {
		return err
	}
	l.f = &wire.File{ID: id, F: f}
	return nil
}

type serveArg struct {
	L     *listenerFile `cbor:"1,keyasint"`
	Key   []byte        `cbor:"2,keyasint"`
	Lim   limits        `cbor:"3,keyasint"`
	Procs int           `cbor:"4,keyasint"`
}

var serveFunc = mp.RegisterCtx("manager.serve", serveChild)

// serveChild is the server's child process: it serves until a client asks it to stop or
// its parent goes away (mp exits a child whose parent died).
func serveChild(ctx context.Context, a serveArg) (struct{}, error) {
	runtime.GOMAXPROCS(a.Procs)
	ln, err := net.FileListener(a.L.f.F)
	a.L.f.F.Close()
	if err != nil {
		return struct{}{}, fmt.Errorf("mp: manager: listener: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s := newServer(ln, a.Key, nil, a.Lim, log)
	s.wait(ctx)
	s.close()
	return struct{}{}, nil
}

func (m *Manager) startChild(ln net.Listener, cfg *config) error {
	if cfg.tls != nil {
		ln.Close()
		return errors.New("mp: manager: WithTLS needs WithInProcess (a tls.Config cannot travel to a child)")
	}
	type filer interface{ File() (*os.File, error) }
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // the child serves on this path
	}
	f, err := ln.(filer).File()
	ln.Close()
	if err != nil {
		return fmt.Errorf("mp: manager: %w", err)
	}
	defer f.Close()
	m.proc = mp.NewProcess(serveFunc, serveArg{L: &listenerFile{wire.NewFile(f)}, Key: cfg.key, Lim: cfg.lim, Procs: cfg.procs},
		mp.WithName("SyncManager"))
	if err := m.proc.Start(); err != nil {
		return fmt.Errorf("mp: manager: %w", err)
	}
	return nil
}

// Connect connects to a running manager at network/addr with its key: the Go form of
// Python's BaseManager(address, authkey).connect(). Close disconnects; the server stays.
func Connect(ctx context.Context, network, addr string, key []byte, opts ...Option) (*Manager, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c, err := dialClient(ctx, network, addr, key, cfg.tls, cfg.lim.MaxFrame)
	if err != nil {
		return nil, err
	}
	registerClient(c)
	return &Manager{c: c, network: network, addr: addr, key: append([]byte(nil), key...), tls: cfg.tls != nil}, nil
}

// Shutdown stops the server if this Manager started it, then disconnects. Objects and
// their proxies are gone afterwards: proxy calls fail with ErrManagerGone. ctx bounds the
// wait for the server process, which is killed when ctx ends first. Shutdown is
// idempotent; on a Manager from Connect it only disconnects.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.once.Do(func() {
		if m.srv != nil || m.proc != nil {
			_, err := m.c.call(ctx, &mgrproto.Request{Op: mgrproto.OpShutdown})
			if err != nil && !errors.Is(err, errs.ErrClosed) {
				m.err = err
			}
		}
		unregisterClient(m.c)
		m.c.close()
		if err := m.stopServer(ctx); err != nil && m.err == nil {
			m.err = err
		}
		m.cleanup()
	})
	return m.err
}

// Close is Shutdown with no deadline.
func (m *Manager) Close() error { return m.Shutdown(context.Background()) }

func (m *Manager) stopServer(ctx context.Context) error {
	if m.srv != nil {
		m.srv.close()
	}
	if m.proc != nil {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := m.proc.Wait(wctx)
		if wctx.Err() != nil {
			m.proc.Kill()
			m.proc.Wait(context.Background())
		}
		m.proc.Close()
		if err != nil && wctx.Err() == nil {
			return fmt.Errorf("mp: manager: server process: %w", err)
		}
	}
	return nil
}

func (m *Manager) cleanup() {
	if m.dir != "" {
		os.RemoveAll(m.dir)
	}
}

// ServerPid returns the pid of the server's child process, or 0 when the server runs
// in this process or elsewhere.
func (m *Manager) ServerPid() int {
	if m.proc == nil {
		return 0
	}
	return m.proc.Pid()
}

// Ping checks that the server answers.
func (m *Manager) Ping(ctx context.Context) error {
	_, err := m.c.call(ctx, &mgrproto.Request{Op: mgrproto.OpPing})
	return err
}
