//go:build !unix

package manager

import (
	"bufio"
	"errors"
	"net"
	"time"
)

// probeClosed reports whether the peer closed nc (or it failed), waiting at most a
// millisecond for an answer. br is nc's reader.
func probeClosed(nc net.Conn, br *bufio.Reader) error {
	nc.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := br.Peek(1)
	nc.SetReadDeadline(time.Time{})
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}
