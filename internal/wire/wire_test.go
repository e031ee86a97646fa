package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRoundTrip(t *testing.T) {
	type inner struct {
		A int
		B []string
	}
	for _, v := range []any{
		0, -1, math.MaxInt64, 3.1415927, "hello", []byte{}, []byte{1, 2}, true, nil,
		[]any{int64(42), nil, "hello"}, map[any]any{int64(1): "1", "2": int64(2), 0.25: nil},
		inner{A: 7, B: []string{"x"}},
	} {
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", v, err)
		}
		var got any
		if err := Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%#v): %v", v, err)
		}
	}
}

func TestEncodeErrorNamesType(t *testing.T) {
	for _, v := range []any{make(chan int), func() {}, map[string]any{"k": make(chan bool)}} {
		_, err := Marshal(v)
		var ee *EncodeError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "chan") && !strings.Contains(err.Error(), "func") {
			t.Errorf("Marshal(%T) = %v", v, err)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	// Deep nesting beyond the limit.
	deep := bytes.Repeat([]byte{0x81}, MaxNestedLevels+10)
	deep = append(deep, 0x00)
	var v any
	if err := Unmarshal(deep, &v); err == nil {
		t.Error("nesting beyond the limit decoded")
	}
	// An array that claims 2^32 elements but has none.
	if err := Unmarshal([]byte{0x9b, 0, 0, 0, 1, 0, 0, 0, 0}, &v); err == nil {
		t.Error("huge claimed array decoded")
	}
	// Indefinite-length items are refused.
	if err := Unmarshal([]byte{0x9f, 0x01, 0xff}, &v); err == nil {
		t.Error("indefinite-length array decoded")
	}
	// Wrong type.
	var n int
	b, _ := Marshal("text")
	var de *DecodeError
	if err := Unmarshal(b, &n); !errors.As(err, &de) || !strings.Contains(err.Error(), "*int") {
		t.Errorf("string into *int = %v", err)
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	payloads := [][]byte{{}, []byte("abc"), bytes.Repeat([]byte{7}, 3<<20)}
	for _, p := range payloads {
		if err := WriteFrame(&buf, KindRaw, p, 0); err != nil {
			t.Fatal(err)
		}
	}
	r := iotest.HalfReader(&buf) // short reads must not matter
	for _, p := range payloads {
		kind, got, err := ReadFrame(r, 4<<20, nil)
		if err != nil || kind != KindRaw || !bytes.Equal(got, p) {
			t.Fatalf("ReadFrame = %d, %d bytes, %v", kind, len(got), err)
		}
	}
	if _, _, err := ReadFrame(r, 0, nil); err != io.EOF {
		t.Fatalf("ReadFrame at the end = %v, want io.EOF", err)
	}
}

func TestFrameHostile(t *testing.T) {
	// A header that claims 4 GiB - 1: refused before anything is allocated.
	h := []byte{0xff, 0xff, 0xff, 0xff, KindCBOR}
	if _, _, err := ReadFrame(bytes.NewReader(h), 1<<20, nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized = %v", err)
	}
	// A header within the cap but a stream that ends early: only what arrived is held.
	var trunc [HeaderSize]byte
	binary.LittleEndian.PutUint32(trunc[:], 512<<20)
	trunc[4] = KindRaw
	data := append(trunc[:], bytes.Repeat([]byte{1}, 100)...)
	if _, _, err := ReadFrame(bytes.NewReader(data), DefaultMaxFrame, nil); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated = %v", err)
	}
	// A stream that ends inside the header.
	if _, _, err := ReadFrame(bytes.NewReader([]byte{1, 0}), 0, nil); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated header = %v", err)
	}
	if err := WriteFrame(io.Discard, KindRaw, make([]byte, 100), 10); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized write = %v", err)
	}
}

func TestTruncatedFrameAllocatesWhatArrived(t *testing.T) {
	var h [HeaderSize]byte
	binary.LittleEndian.PutUint32(h[:], 900<<20)
	var ms1, ms2 runtimeMemStats
	readMem(&ms1)
	ReadFrame(bytes.NewReader(append(h[:], 1, 2, 3)), DefaultMaxFrame, nil)
	readMem(&ms2)
	if grew := ms2.TotalAlloc - ms1.TotalAlloc; grew > 16<<20 {
		t.Fatalf("a truncated frame claiming 900 MiB allocated %d MiB", grew>>20)
	}
}

// FuzzFrame feeds arbitrary bytes to the frame reader and the decoder: they must return
// an error or a value, never panic, hang or allocate the size a header claims.
func FuzzFrame(f *testing.F) {
	good, _ := Marshal([]any{int64(42), nil, "hello"})
	f.Add(AppendFrame(nil, KindCBOR, good))
	f.Add(AppendFrame(nil, KindRaw, []byte("raw bytes")))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, KindCBOR})
	f.Add([]byte{5, 0, 0, 0, KindCBOR, 0x9b, 0, 0, 0})
	f.Add(AppendFrame(nil, KindCBOR, bytes.Repeat([]byte{0x81}, 100)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			kind, payload, err := ReadFrame(r, 1<<20, nil)
			if err != nil {
				return
			}
			if len(payload) > len(data) {
				t.Fatalf("payload of %d bytes from %d bytes of input", len(payload), len(data))
			}
			if kind == KindCBOR {
				var v any
				if Unmarshal(payload, &v) == nil {
					// What decodes must encode again.
					if _, err := Marshal(v); err != nil {
						t.Fatalf("decoded %#v does not re-encode: %v", v, err)
					}
				}
			}
		}
	})
}

func TestAppendMarshalInPlace(t *testing.T) {
	dst := make([]byte, 3, 256)
	copy(dst, "abc")
	b, err := AppendMarshal(dst, []any{int64(1), "x"})
	if err != nil || string(b[:3]) != "abc" || &b[0] != &dst[0] {
		t.Fatalf("AppendMarshal = %q, %v (same array: %v)", b, err, &b[0] == &dst[0])
	}
	var got []any
	if err := Unmarshal(b[3:], &got); err != nil || len(got) != 2 {
		t.Fatalf("Unmarshal = %v, %v", got, err)
	}
	if allocs := testing.AllocsPerRun(100, func() { AppendMarshal(dst[:0], int64(7)) }); allocs > 1 {
		t.Errorf("AppendMarshal of an int into a roomy buffer: %v allocations", allocs)
	}
	if b, err := AppendMarshal(dst, make(chan int)); err == nil || len(b) != 3 {
		t.Fatalf("failed AppendMarshal returned %q, %v", b, err)
	}
}
