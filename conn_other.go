//go:build !unix

package mp

import (
	"errors"
	"net"
	"os"
)

func pipePair() (*os.File, *os.File, error) { return nil, nil, errors.ErrUnsupported }

func readableNow(net.Conn) bool { return false }
