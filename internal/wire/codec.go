// Package wire is the one codec for everything that crosses a process boundary in mp:
// CBOR (fxamacker/cbor/v2) with a hardened decode mode, length-prefixed frames with a
// size cap, a raw-bytes fast path, and the bookkeeping that lets handles carrying OS
// files (pipe ends, shared memory) travel to a child.
package wire

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"
)

// Decoding limits. They bound what a hostile peer can make the decoder do; the frame cap
// (see ReadFrame) bounds how many bytes reach it in the first place.
const (
	MaxNestedLevels  = 64
	MaxArrayElements = 1 << 26
	MaxMapPairs      = 1 << 24
)

var (
	encMode cbor.UserBufferEncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.EncOptions{
		Time:          cbor.TimeRFC3339Nano,
		ShortestFloat: cbor.ShortestFloatNone,
		IndefLength:   cbor.IndefLengthForbidden,
	}.UserBufferEncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  MaxNestedLevels,
		MaxArrayElements: MaxArrayElements,
		MaxMapPairs:      MaxMapPairs,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsAllowed,
		IntDec:           cbor.IntDecConvertSignedOrFail,
		DefaultMapType:   reflect.TypeOf(map[any]any(nil)),
		UTF8:             cbor.UTF8RejectInvalid,
		// Byte-string map keys (legal CBOR, unhashable in Go) become strings.
		MapKeyByteString: cbor.MapKeyByteStringAllowed,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// EncodeError says which value could not be encoded, and why.
type EncodeError struct {
	Type string // the Go type that was refused
	Err  error
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("mp: cannot encode a value of type %s: %v", e.Type, e.Err)
}
func (e *EncodeError) Unwrap() error { return e.Err }

// DecodeError says what could not be decoded into which type.
type DecodeError struct {
	Type string // the Go type decoding was attempted into
	Err  error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("mp: cannot decode into %s: %v", e.Type, e.Err)
}
func (e *DecodeError) Unwrap() error { return e.Err }

// Marshal encodes v. It never panics: a value the codec refuses (a channel, a func,
// a cycle) is an *EncodeError naming the type.
func Marshal(v any) (b []byte, err error) {
	return AppendMarshal(nil, v)
}

// AppendMarshal appends the encoding of v to dst, encoding in place: a dst with room
// enough costs no allocation. On error dst is returned as it was.
func AppendMarshal(dst []byte, v any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = dst, &EncodeError{Type: typeName(v), Err: fmt.Errorf("%v", r)}
		}
	}()
	buf := bytes.NewBuffer(dst)
	if err := encMode.MarshalToBuffer(v, buf); err != nil {
		var ute *cbor.UnsupportedTypeError
		if errors.As(err, &ute) {
			return dst, &EncodeError{Type: ute.Type.String(), Err: errors.New("type not supported by the codec")}
		}
		// A Marshaler's own error (a handle refusing to travel) stays reachable by errors.Is.
		return dst, &EncodeError{Type: typeName(v), Err: err}
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes data into the value v points to. Malformed, truncated or oversized
// input is a *DecodeError, never a panic.
func Unmarshal(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &DecodeError{Type: typeName(v), Err: fmt.Errorf("%v", r)}
		}
	}()
	if err := decMode.Unmarshal(data, v); err != nil {
		return &DecodeError{Type: typeName(v), Err: err}
	}
	return nil
}

// Valid reports whether data is one well-formed CBOR item within the decoder's limits.
func Valid(data []byte) error {
	return decMode.Wellformed(data)
}

// RawMessage is an encoded CBOR value, decoded later.
type RawMessage = cbor.RawMessage

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}
