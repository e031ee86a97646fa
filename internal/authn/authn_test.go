package authn

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func pair(t *testing.T, skey, ckey []byte) (serr, cerr error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	done := make(chan error, 1)
	go func() {
		err := Server(context.Background(), a, skey, 2*time.Second)
		if err != nil {
			a.Close()
		}
		done <- err
	}()
	cerr = Client(context.Background(), b, ckey, 2*time.Second)
	if cerr != nil {
		b.Close()
	}
	return <-done, cerr
}

func TestHandshake(t *testing.T) {
	if s, c := pair(t, []byte("k"), []byte("k")); s != nil || c != nil {
		t.Fatalf("same key: server %v, client %v", s, c)
	}
	s, c := pair(t, []byte("k1"), []byte("k2"))
	if !errors.Is(s, ErrAuth) || !errors.Is(c, ErrAuth) {
		t.Fatalf("wrong key: server %v, client %v", s, c)
	}
	if _, c := pair(t, []byte("k"), nil); c == nil {
		t.Fatal("empty key accepted")
	}
}

func TestHandshakeSlowClient(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go func() { // reads the greeting, then says nothing
		var buf [64]byte
		b.Read(buf[:])
	}()
	start := time.Now()
	err := Server(context.Background(), a, []byte("k"), 100*time.Millisecond)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("slow client: %v after %v", err, time.Since(start))
	}
}

func TestHandshakeServerImpostor(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go a.Write([]byte("HTTP/1.1 200 OK\r\n\r\n........................................"))
	if err := Client(context.Background(), b, []byte("k"), time.Second); !errors.Is(err, ErrAuth) {
		t.Fatalf("impostor: %v", err)
	}
}
