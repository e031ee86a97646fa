// Package authn is the mutual challenge-response that opens every authenticated mp
// connection (mp.Listen/mp.Dial and the Manager): both sides prove they hold the key with
// HMAC-SHA256 over fresh random nonces, before a single payload byte is decoded.
//
//	server -> client: magic(8) | server nonce(32)
//	client -> server: client nonce(32) | HMAC(key, "mp-client" | server nonce | client nonce)
//	server -> client: status(1) | HMAC(key, "mp-server" | client nonce | server nonce)
//
// The client proves itself first, so the server never answers a challenge for someone
// who does not hold the key; the two MACs use different labels, so one side's answer can
// never be replayed as the other's. MACs are compared in constant time. Every message has
// a fixed size, and the whole exchange runs under a deadline.
package authn

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/mpgo/mp/internal/errs"
)

const (
	nonceSize = 32
	macSize   = sha256.Size
	magic     = "mp-auth1"
)

// DefaultTimeout bounds a handshake when the caller gives none.
const DefaultTimeout = 10 * time.Second

// ErrAuth is the error of a failed handshake: a wrong key on either side, or a peer that
// does not speak the protocol.
var ErrAuth = errs.New("auth", "mp: authentication failed")

// CheckKey refuses keys that cannot authenticate anything.
func CheckKey(key []byte) error {
	if len(key) == 0 {
		return errors.New("mp: empty authentication key")
	}
	return nil
}

func mac(key []byte, label string, a, b []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	h.Write(a)
	h.Write(b)
	return h.Sum(nil)
}

// deadline sets nc's deadline from timeout and ctx, and returns a function that clears
// it. Cancelling ctx interrupts the exchange.
func deadline(ctx context.Context, nc net.Conn, timeout time.Duration) func() {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	nc.SetDeadline(d)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	return func() {
		stop()
		nc.SetDeadline(time.Time{})
	}
}

// Server runs the server side on nc. On error the caller closes nc.
func Server(ctx context.Context, nc net.Conn, key []byte, timeout time.Duration) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	defer deadline(ctx, nc, timeout)()
	var hello [len(magic) + nonceSize]byte
	copy(hello[:], magic)
	rand.Read(hello[len(magic):])
	nonceS := hello[len(magic):]
	if _, err := nc.Write(hello[:]); err != nil {
		return fmt.Errorf("mp: handshake: %w", err)
	}
	var answer [nonceSize + macSize]byte
	if _, err := io.ReadFull(nc, answer[:]); err != nil {
		return fmt.Errorf("mp: handshake: client did not answer: %w", err)
	}
	nonceC, macC := answer[:nonceSize], answer[nonceSize:]
	if !hmac.Equal(macC, mac(key, "mp-client", nonceS, nonceC)) {
		var fail [1 + macSize]byte
		nc.Write(fail[:])
		return fmt.Errorf("%w: client does not hold the key", ErrAuth)
	}
	var ok [1 + macSize]byte
	ok[0] = 1
	copy(ok[1:], mac(key, "mp-server", nonceC, nonceS))
	if _, err := nc.Write(ok[:]); err != nil {
		return fmt.Errorf("mp: handshake: %w", err)
	}
	return nil
}

// Client runs the client side on nc. On error the caller closes nc.
func Client(ctx context.Context, nc net.Conn, key []byte, timeout time.Duration) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	defer deadline(ctx, nc, timeout)()
	var hello [len(magic) + nonceSize]byte
	if _, err := io.ReadFull(nc, hello[:]); err != nil {
		return fmt.Errorf("mp: handshake: no greeting from the server: %w", ctxErr(ctx, err))
	}
	if string(hello[:len(magic)]) != magic {
		return fmt.Errorf("%w: the server does not speak the mp protocol", ErrAuth)
	}
	nonceS := hello[len(magic):]
	var answer [nonceSize + macSize]byte
	rand.Read(answer[:nonceSize])
	nonceC := answer[:nonceSize]
	copy(answer[nonceSize:], mac(key, "mp-client", nonceS, nonceC))
	if _, err := nc.Write(answer[:]); err != nil {
		return fmt.Errorf("mp: handshake: %w", ctxErr(ctx, err))
	}
	var reply [1 + macSize]byte
	if _, err := io.ReadFull(nc, reply[:]); err != nil {
		return fmt.Errorf("mp: handshake: server closed the connection (wrong key?): %w", ctxErr(ctx, err))
	}
	if reply[0] != 1 {
		return fmt.Errorf("%w: the server refused the key", ErrAuth)
	}
	if !hmac.Equal(reply[1:], mac(key, "mp-server", nonceC, nonceS)) {
		return fmt.Errorf("%w: the server does not hold the key", ErrAuth)
	}
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
