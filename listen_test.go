package mp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

var listenKey = []byte("listen-test-key")

func TestListenDialRoundTrip(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "l.sock")
			}
			l, err := mp.Listen(network, addr, listenKey)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			errc := make(chan error, 1)
			go func() {
				c, err := l.Accept(t.Context())
				if err != nil {
					errc <- err
					return
				}
				defer c.Close()
				var v map[string]int
				if err := c.Recv(&v); err != nil {
					errc <- err
					return
				}
				v["n"]++
				errc <- c.Send(v)
			}()
			c, err := mp.Dial(t.Context(), network, l.Addr().String(), listenKey)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Send(map[string]int{"n": 41}); err != nil {
				t.Fatal(err)
			}
			var got map[string]int
			if err := c.Recv(&got); err != nil || got["n"] != 42 {
				t.Fatalf("got %v, %v", got, err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestListenRefusesHostilePeers(t *testing.T) {
	var logs syncBuffer
	l, err := mp.Listen("tcp", "127.0.0.1:0", listenKey,
		mp.WithHandshakeTimeout(200*time.Millisecond),
		mp.WithNetLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()

	// Wrong key: both sides learn it.
	if _, err := mp.Dial(t.Context(), "tcp", addr, []byte("wrong")); !errors.Is(err, mp.ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
	// Garbage, and a client that never answers.
	g, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	g.Write(bytes.Repeat([]byte{0xff}, 100))
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	// The slow one is dropped after the handshake timeout: its reads end.
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf [128]byte
	n, _ := slow.Read(buf[:])
	for err == nil {
		_, err = slow.Read(buf[n:])
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("slow client was not dropped")
	}
	g.Close()

	// The listener still serves a good client.
	go func() {
		c, err := l.Accept(context.Background())
		if err == nil {
			c.Send("hello")
			c.Close()
		}
	}()
	c, err := mp.Dial(t.Context(), "tcp", addr, listenKey)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := c.Recv(&s); err != nil || s != "hello" {
		t.Fatalf("after hostile peers: %q %v", s, err)
	}
	c.Close()
	if out := logs.String(); !strings.Contains(out, "client does not hold the key") {
		t.Fatalf("refusal not logged:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Accept(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("accept with nothing pending: %v", err)
	}
	l.Close()
	if _, err := l.Accept(t.Context()); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("accept after close: %v", err)
	}
}

func TestListenTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	l, err := mp.Listen("tcp", "127.0.0.1:0", listenKey, mp.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept(context.Background())
		if err == nil {
			c.Send(7)
			c.Close()
		}
	}()
	c, err := mp.Dial(t.Context(), "tcp", l.Addr().String(), listenKey,
		mp.WithTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.Recv(&n); err != nil || n != 7 {
		t.Fatalf("tls: %d %v", n, err)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, pool
}
