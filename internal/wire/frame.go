package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// A frame is a 5-byte header, a little-endian uint32 payload length and a kind byte,
// followed by the payload. The kind says how to read the payload (CBOR, raw bytes, or a
// protocol message of the caller's).
const HeaderSize = 5

// Frame kinds shared by every user of the framing. Protocols add their own from KindUser up.
const (
	KindCBOR byte = 1 // payload is one CBOR item
	KindRaw  byte = 2 // payload is raw bytes, not re-encoded
	KindUser byte = 16
)

// DefaultMaxFrame is the frame-size cap used where none is configured: 1 GiB.
const DefaultMaxFrame = 1 << 30

// readChunk is how much a frame buffer grows at a time while its payload arrives, so a
// header that claims a large payload never allocates more than was actually received.
const readChunk = 1 << 20

var (
	// ErrFrameTooLarge is returned for a frame whose header claims more than the cap.
	ErrFrameTooLarge = errors.New("mp: frame larger than the configured maximum")
	// ErrTruncated is returned when the stream ends inside a frame.
	ErrTruncated = errors.New("mp: stream ended inside a frame")
)

// FrameSizeError carries the sizes of a refused frame.
type FrameSizeError struct {
	Size, Max uint64
}

func (e *FrameSizeError) Error() string {
	return fmt.Sprintf("mp: frame of %d bytes exceeds the maximum of %d", e.Size, e.Max)
}
func (e *FrameSizeError) Is(target error) bool { return target == ErrFrameTooLarge }

// PutHeader writes a frame header for a payload of n bytes into h.
func PutHeader(h []byte, kind byte, n int) {
	binary.LittleEndian.PutUint32(h, uint32(n))
	h[4] = kind
}

// AppendFrame appends a whole frame to dst.
func AppendFrame(dst []byte, kind byte, payload []byte) []byte {
	var h [HeaderSize]byte
	PutHeader(h[:], kind, len(payload))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// WriteFrame writes one frame. Payloads over 4 GiB - 1 or over max are refused.
func WriteFrame(w io.Writer, kind byte, payload []byte, max int) error {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	if len(payload) > max || uint64(len(payload)) > 0xFFFFFFFF {
		return &FrameSizeError{Size: uint64(len(payload)), Max: uint64(max)}
	}
	if len(payload) <= 64<<10 {
		buf := make([]byte, 0, HeaderSize+len(payload))
		_, err := w.Write(AppendFrame(buf, kind, payload))
		return err
	}
	var h [HeaderSize]byte
	PutHeader(h[:], kind, len(payload))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// ReadFrame reads one frame. buf is reused when it is large enough. A header claiming more
// than max is ErrFrameTooLarge (the payload is not read: the stream is then unusable); a
// stream that ends inside a frame is ErrTruncated; a clean end before a header is io.EOF.
func ReadFrame(r io.Reader, max int, buf []byte) (kind byte, payload []byte, err error) {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, nil, ErrTruncated
		}
		return 0, nil, err
	}
	n := uint64(binary.LittleEndian.Uint32(h[:]))
	if n > uint64(max) {
		return 0, nil, &FrameSizeError{Size: n, Max: uint64(max)}
	}
	kind = h[4]
	if int(n) <= cap(buf) || n <= readChunk {
		if int(n) > cap(buf) {
			buf = make([]byte, n)
		}
		payload = buf[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0, nil, truncated(err)
		}
		return kind, payload, nil
	}
	// Large frame: grow as the bytes arrive.
	payload = buf[:0]
	for uint64(len(payload)) < n {
		step := min(n-uint64(len(payload)), readChunk)
		start := len(payload)
		payload = slices.Grow(payload, int(step))[:start+int(step)]
		if _, err := io.ReadFull(r, payload[start:]); err != nil {
			return 0, nil, truncated(err)
		}
	}
	return kind, payload, nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ErrTruncated
	}
	return err
}
