// Package batch encodes and decodes the pool's batches of scalars (ints, floats, bools)
// as CBOR arrays by hand, an order of magnitude faster than reflection. The bytes are
// ordinary CBOR: the generic decoder reads them, and when Decode meets anything but the
// plain form it produces, it says so and the caller falls back to the generic decoder.
package batch

import (
	"encoding/binary"
	"math"
	"slices"
)

// MaxElements bounds the arrays Decode accepts (the generic decoder's limit).
const MaxElements = 1 << 26

type signed interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64
}
type unsigned interface {
	~uint | ~uint16 | ~uint32 | ~uint64 | ~uintptr
}

// Append appends the CBOR array of s to dst. ok is false, and dst unchanged, when T has
// no fast path ([]uint8 has none: it is a byte string to CBOR).
func Append[T any](dst []byte, s []T) (out []byte, ok bool) {
	switch v := any(s).(type) {
	case []int:
		return appendSigned(dst, v), true
	case []int64:
		return appendSigned(dst, v), true
	case []int32:
		return appendSigned(dst, v), true
	case []int16:
		return appendSigned(dst, v), true
	case []int8:
		return appendSigned(dst, v), true
	case []uint:
		return appendUnsigned(dst, v), true
	case []uint64:
		return appendUnsigned(dst, v), true
	case []uint32:
		return appendUnsigned(dst, v), true
	case []uint16:
		return appendUnsigned(dst, v), true
	case []float64:
		dst = slices.Grow(dst, 9+9*len(v))
		dst = appendHead(dst, 0x80, uint64(len(v)))
		for _, f := range v {
			dst = append(dst, 0xfb)
			dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
		}
		return dst, true
	case []float32:
		dst = appendHead(dst, 0x80, uint64(len(v)))
		for _, f := range v {
			dst = append(dst, 0xfa)
			dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(f))
		}
		return dst, true
	case []bool:
		dst = appendHead(dst, 0x80, uint64(len(v)))
		for _, b := range v {
			if b {
				dst = append(dst, 0xf5)
			} else {
				dst = append(dst, 0xf4)
			}
		}
		return dst, true
	}
	return dst, false
}

// Decode decodes b, a CBOR array, into *dst, reusing its backing array when it is large
// enough. It returns false (and *dst unspecified) when T has no fast path or b is not in
// the plain form Append writes: the caller then uses the generic decoder, which also
// reports what is wrong with b.
func Decode[T any](b []byte, dst *[]T) bool {
	switch p := any(dst).(type) {
	case *[]int:
		return decodeSigned(b, p, math.MinInt, math.MaxInt)
	case *[]int64:
		return decodeSigned(b, p, math.MinInt64, math.MaxInt64)
	case *[]int32:
		return decodeSigned(b, p, math.MinInt32, math.MaxInt32)
	case *[]int16:
		return decodeSigned(b, p, math.MinInt16, math.MaxInt16)
	case *[]int8:
		return decodeSigned(b, p, math.MinInt8, math.MaxInt8)
	case *[]uint:
		return decodeUnsigned(b, p, math.MaxUint)
	case *[]uint64:
		return decodeUnsigned(b, p, math.MaxUint64)
	case *[]uint32:
		return decodeUnsigned(b, p, math.MaxUint32)
	case *[]uint16:
		return decodeUnsigned(b, p, math.MaxUint16)
	case *[]float64:
		n, b, ok := arrayHead(b)
		if !ok || len(b) != 9*n {
			return false
		}
		s := grow(p, n)
		for i := range s {
			if b[9*i] != 0xfb {
				return false
			}
			s[i] = math.Float64frombits(binary.BigEndian.Uint64(b[9*i+1:]))
		}
		return true
	case *[]float32:
		n, b, ok := arrayHead(b)
		if !ok || len(b) != 5*n {
			return false
		}
		s := grow(p, n)
		for i := range s {
			if b[5*i] != 0xfa {
				return false
			}
			s[i] = math.Float32frombits(binary.BigEndian.Uint32(b[5*i+1:]))
		}
		return true
	case *[]bool:
		n, b, ok := arrayHead(b)
		if !ok || len(b) != n {
			return false
		}
		s := grow(p, n)
		for i, c := range b {
			switch c {
			case 0xf4:
				s[i] = false
			case 0xf5:
				s[i] = true
			default:
				return false
			}
		}
		return true
	}
	return false
}

func appendSigned[T signed](dst []byte, s []T) []byte {
	dst = slices.Grow(dst, 9+9*len(s)) // at once: a big batch would copy itself while growing
	dst = appendHead(dst, 0x80, uint64(len(s)))
	for _, v := range s {
		if v >= 0 {
			if v < 24 {
				dst = append(dst, byte(v))
			} else {
				dst = appendHead(dst, 0x00, uint64(v))
			}
		} else {
			dst = appendHead(dst, 0x20, ^uint64(int64(v)))
		}
	}
	return dst
}

func appendUnsigned[T unsigned](dst []byte, s []T) []byte {
	dst = slices.Grow(dst, 9+9*len(s))
	dst = appendHead(dst, 0x80, uint64(len(s)))
	for _, v := range s {
		dst = appendHead(dst, 0x00, uint64(v))
	}
	return dst
}

// appendHead appends a CBOR head: major type (in the top 3 bits of major) and argument.
func appendHead(dst []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(dst, major|byte(n))
	case n <= math.MaxUint8:
		return append(dst, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, major|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, major|27), n)
	}
}

// head reads a CBOR head: its major type (top 3 bits), argument and the rest of b.
func head(b []byte) (major byte, n uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, 0, nil, false
	}
	c := b[0]
	major, info := c&0xe0, c&0x1f
	switch {
	case info < 24:
		return major, uint64(info), b[1:], true
	case info == 24 && len(b) >= 2:
		return major, uint64(b[1]), b[2:], true
	case info == 25 && len(b) >= 3:
		return major, uint64(binary.BigEndian.Uint16(b[1:])), b[3:], true
	case info == 26 && len(b) >= 5:
		return major, uint64(binary.BigEndian.Uint32(b[1:])), b[5:], true
	case info == 27 && len(b) >= 9:
		return major, binary.BigEndian.Uint64(b[1:]), b[9:], true
	}
	return 0, 0, nil, false
}

func arrayHead(b []byte) (int, []byte, bool) {
	major, n, rest, ok := head(b)
	if !ok || major != 0x80 || n > MaxElements {
		return 0, nil, false
	}
	return int(n), rest, true
}

func grow[T any](p *[]T, n int) []T {
	if cap(*p) < n {
		*p = make([]T, n)
	}
	*p = (*p)[:n]
	return *p
}

func decodeSigned[T signed](b []byte, p *[]T, lo, hi int64) bool {
	n, b, ok := arrayHead(b)
	if !ok || len(b) < n {
		return false
	}
	s := grow(p, n)
	for i := range s {
		if len(b) > 0 && b[0] < 24 {
			s[i] = T(b[0])
			b = b[1:]
			continue
		}
		major, v, rest, ok := head(b)
		if !ok {
			return false
		}
		b = rest
		switch major {
		case 0x00:
			if v > uint64(hi) {
				return false
			}
			s[i] = T(v)
		case 0x20:
			if v > uint64(-(lo + 1)) {
				return false
			}
			s[i] = T(-1 - int64(v))
		default:
			return false
		}
	}
	return len(b) == 0
}

func decodeUnsigned[T unsigned](b []byte, p *[]T, hi uint64) bool {
	n, b, ok := arrayHead(b)
	if !ok || len(b) < n {
		return false
	}
	s := grow(p, n)
	for i := range s {
		major, v, rest, ok := head(b)
		if !ok || major != 0x00 || v > hi {
			return false
		}
		b = rest
		s[i] = T(v)
	}
	return len(b) == 0
}
