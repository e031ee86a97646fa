package batch

import (
	"math"
	"slices"
	"testing"

	"github.com/mpgo/mp/internal/wire"
)

// roundTrip checks that Append writes what the generic decoder reads, and that Decode
// reads what the generic encoder writes.
func roundTrip[T comparable](t *testing.T, in []T) {
	t.Helper()
	b, ok := Append(nil, in)
	if !ok {
		t.Fatalf("%T: no fast path", in)
	}
	var generic []T
	if err := wire.Unmarshal(b, &generic); err != nil || !slices.Equal(generic, in) {
		t.Fatalf("%T: generic decode of fast bytes = %v, %v; want %v", in, generic, err, in)
	}
	g, err := wire.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range [][]byte{b, g} {
		var out []T
		if !Decode(src, &out) {
			// Only floats may come in another form from the generic encoder.
			if _, isFloat := any(in).([]float64); !isFloat {
				t.Fatalf("%T: Decode refused %x", in, src)
			}
			continue
		}
		if !slices.Equal(out, in) {
			t.Fatalf("%T: Decode = %v, want %v", in, out, in)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	roundTrip(t, []int{0, 1, 23, 24, 255, 256, 65535, 65536, 1 << 32, math.MaxInt, -1, -24, -25, -256, -257, math.MinInt})
	roundTrip(t, []int8{0, 127, -128, -1})
	roundTrip(t, []int16{math.MaxInt16, math.MinInt16})
	roundTrip(t, []int32{math.MaxInt32, math.MinInt32, 7})
	roundTrip(t, []int64{math.MaxInt64, math.MinInt64})
	roundTrip(t, []uint64{0, math.MaxUint64})
	roundTrip(t, []uint32{math.MaxUint32})
	roundTrip(t, []uint16{math.MaxUint16})
	roundTrip(t, []uint{3})
	roundTrip(t, []float64{0, 1.5, -2.25, math.Inf(1), math.MaxFloat64})
	roundTrip(t, []float32{0, 1.5, -2.25})
	roundTrip(t, []bool{true, false, true})
	roundTrip(t, []int{})
}

func TestDecodeRefuses(t *testing.T) {
	var i8 []int8
	b, _ := Append(nil, []int{300})
	if Decode(b, &i8) {
		t.Fatal("300 decoded into int8")
	}
	var u []uint64
	b, _ = Append(nil, []int{-1})
	if Decode(b, &u) {
		t.Fatal("-1 decoded into uint64")
	}
	var ints []int
	b, _ = Append(nil, []int{1, 2, 3})
	for _, bad := range [][]byte{b[:len(b)-1], append(b, 0), {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x81, 0x60}} {
		if Decode(bad, &ints) {
			t.Fatalf("Decode accepted %x", bad)
		}
	}
	if _, ok := Append(nil, []uint8{1}); ok {
		t.Fatal("[]uint8 took the fast path")
	}
	var s []string
	if Decode([]byte{0x80}, &s) {
		t.Fatal("[]string took the fast path")
	}
}

func TestDecodeReuses(t *testing.T) {
	buf := make([]int, 10)
	sub := buf[2:5:5]
	b, _ := Append(nil, []int{7, 8, 9})
	if !Decode(b, &sub) || &sub[0] != &buf[2] || buf[4] != 9 {
		t.Fatalf("Decode did not decode in place: %v", buf)
	}
}

func BenchmarkAppendInts(b *testing.B) {
	s := make([]int, 125_000)
	for i := range s {
		s[i] = i * i
	}
	var dst []byte
	for b.Loop() {
		dst, _ = Append(dst[:0], s)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(s)), "ns/item")
}

func BenchmarkDecodeInts(b *testing.B) {
	s := make([]int, 125_000)
	for i := range s {
		s[i] = i * i
	}
	enc, _ := Append(nil, s)
	out := make([]int, len(s))
	for b.Loop() {
		Decode(enc, &out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(s)), "ns/item")
}
