package manager_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/authn"
	"github.com/mpgo/mp/internal/wire"
	"github.com/mpgo/mp/manager"
)

type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog waits until the log mentions want.
func (s *logSink) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", want, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// authed dials the manager and completes the handshake with the right key, by hand,
// so a test can then send raw bytes.
func authed(t *testing.T, m *manager.Manager) net.Conn {
	t.Helper()
	network, addr := m.Addr()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := rawHandshake(nc, m.Key()); err != nil {
		t.Fatal(err)
	}
	return nc
}

func TestHostileInputs(t *testing.T) {
	ctx := t.Context()
	var logs logSink
	m := startInProcess(t,
		manager.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		manager.WithMaxFrame(4096),
		manager.WithHandshakeTimeout(200*time.Millisecond),
		manager.WithReadTimeout(200*time.Millisecond),
		manager.WithMaxConns(20),
	)
	network, addr := m.Addr()
	d := must[*manager.Dict[string, int]](t)(manager.NewDict[string, int](ctx, m))
	alive := func(step string) {
		t.Helper()
		if err := d.Set(ctx, step, 1); err != nil {
			t.Fatalf("after %s the manager does not answer: %v", step, err)
		}
	}

	t.Run("wrong key", func(t *testing.T) {
		if _, err := manager.Connect(ctx, network, addr, []byte("wrong")); !errors.Is(err, mp.ErrAuth) {
			t.Fatalf("wrong key: %v", err)
		}
		logs.waitLog(t, "client does not hold the key")
		alive("wrong key")
	})
	t.Run("garbage before auth", func(t *testing.T) {
		nc, err := net.Dial(network, addr)
		check(t, err)
		nc.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 10))
		io.Copy(io.Discard, nc) // the server closes it
		nc.Close()
		alive("garbage")
	})
	t.Run("garbage after auth", func(t *testing.T) {
		nc := authed(t, m)
		nc.Write([]byte{3, 0, 0, 0, 23, 0xff, 0xff, 0xff})
		io.Copy(io.Discard, nc)
		nc.Close()
		logs.waitLog(t, "malformed manager request")
		alive("garbage after auth")
	})
	t.Run("oversized frame", func(t *testing.T) {
		nc := authed(t, m)
		var h [5]byte
		binary.LittleEndian.PutUint32(h[:], 1<<30)
		h[4] = 23
		nc.Write(h[:])
		io.Copy(io.Discard, nc)
		nc.Close()
		logs.waitLog(t, "exceeds the maximum")
		alive("oversized")
	})
	t.Run("truncated frame", func(t *testing.T) {
		nc := authed(t, m)
		nc.Write([]byte{100, 0, 0, 0, 23, 1, 2})
		nc.Close()
		logs.waitLog(t, "stream ended inside a frame")
		alive("truncated")
	})
	t.Run("slow client mid-frame", func(t *testing.T) {
		nc := authed(t, m)
		nc.Write([]byte{100, 0, 0, 0}) // never finishes the frame
		io.Copy(io.Discard, nc)
		nc.Close()
		logs.waitLog(t, "frame not completed within the read timeout")
		alive("slow frame")
	})
	t.Run("slow handshake", func(t *testing.T) {
		nc, err := net.Dial(network, addr)
		check(t, err)
		io.Copy(io.Discard, nc) // says nothing: dropped after the handshake timeout
		nc.Close()
		alive("slow handshake")
	})
	t.Run("too many connections", func(t *testing.T) {
		var conns []net.Conn
		for range 200 {
			nc, err := net.Dial(network, addr)
			if err != nil {
				break
			}
			conns = append(conns, nc)
		}
		logs.waitLog(t, "too many connections")
		for _, nc := range conns {
			nc.Close()
		}
		// Slots free up as the server notices the closed connections.
		deadline := time.Now().Add(10 * time.Second)
		for {
			m2, err := manager.Connect(ctx, network, addr, m.Key())
			if err == nil {
				m2.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no slot after the flood: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		alive("flood")
	})
	if strings.Contains(logs.String(), string(m.Key())) {
		t.Fatal("the key was logged")
	}
}

func TestIdleTimeout(t *testing.T) {
	ctx := t.Context()
	m := startInProcess(t, manager.WithIdleTimeout(100*time.Millisecond))
	network, addr := m.Addr()
	waiter, err := manager.Connect(ctx, network, addr, m.Key())
	check(t, err)
	defer waiter.Close()
	idle, err := manager.Connect(ctx, network, addr, m.Key())
	check(t, err)
	defer idle.Close()
	q := must[*manager.Queue[int]](t)(manager.NewQueue[int](ctx, waiter, 0))
	got := make(chan error, 1)
	go func() { _, err := q.Get(ctx); got <- err }()
	// Idleness is timed from the parked Get: wait until the server holds it.
	for deadline := time.Now().Add(10 * time.Second); manager.ParkedForTest(m) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the Get was never parked on the server")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond)
	// The idle connection was closed; the one with a parked request was not.
	if err := idle.Ping(ctx); !errors.Is(err, manager.ErrManagerGone) {
		t.Fatalf("idle connection still open: %v", err)
	}
	putter, err := manager.Connect(ctx, network, addr, m.Key())
	check(t, err)
	defer putter.Close()
	var q2 manager.Queue[int]
	b, err := wire.Marshal(q)
	check(t, err)
	check(t, wire.Unmarshal(b, &q2))
	check(t, q2.Put(ctx, 1))
	if err := <-got; err != nil {
		t.Fatalf("parked get: %v", err)
	}
}

func rawHandshake(nc net.Conn, key []byte) error {
	return authn.Client(context.Background(), nc, key, 0)
}
