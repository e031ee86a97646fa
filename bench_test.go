package mp_test

import (
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/wire"
)

// reportMedian reports the median of per-iteration durations, which is what the closing
// notes and cmd/mpbench quote (ns/op is the mean).
func reportMedian(b *testing.B, d []time.Duration, unit string, scale time.Duration) {
	slices.Sort(d)
	if len(d) > 0 {
		b.ReportMetric(float64(d[len(d)/2])/float64(scale), "median-"+unit)
	}
}

func BenchmarkProcessStartWait(b *testing.B) {
	d := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t := time.Now()
		p := mp.NewProcess(tNoop, struct{}{})
		if err := p.Start(); err != nil {
			b.Fatal(err)
		}
		if err := p.Wait(b.Context()); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t))
	}
	reportMedian(b, d, "ms", time.Millisecond)
}

func BenchmarkPipeRoundTrip(b *testing.B) {
	parent, child, err := mp.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	p := mp.NewProcess(tEcho, child)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	child.Close()
	defer func() { parent.Close(); p.Wait(b.Context()) }()
	msg := []any{int64(42), nil, "hello"}
	var got any
	d := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t := time.Now()
		if err := parent.Send(msg); err != nil {
			b.Fatal(err)
		}
		if err := parent.Recv(&got); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t))
	}
	reportMedian(b, d, "us", time.Microsecond)
}

// rawSock carries a bare socket to a child, for the floor: no framing, no codec.
type rawSock struct{ f *wire.File }

func (r *rawSock) WireFiles() []*wire.File      { return []*wire.File{r.f} }
func (r *rawSock) MarshalCBOR() ([]byte, error) { return wire.Marshal(r.f.ID) }
func (r *rawSock) UnmarshalCBOR(b []byte) error {
	var id uint64
	if err := wire.Unmarshal(b, &id); err != nil {
		return err
	}
	f, err := wire.Lookup(id)
	r.f = &wire.File{ID: id, F: f}
	return err
}

var tRawEcho = mp.RegisterErr("test.rawecho", func(r *rawSock) (struct{}, error) {
	buf := make([]byte, 64)
	for {
		n, err := r.f.F.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return struct{}{}, nil
			}
			return struct{}{}, err
		}
		if _, err := r.f.F.Write(buf[:n]); err != nil {
			return struct{}{}, err
		}
	}
})

// BenchmarkSocketpairRoundTrip is the floor for BenchmarkPipeRoundTrip: the same
// ping-pong of a 16-byte message through a bare unix socketpair to a child.
func BenchmarkSocketpairRoundTrip(b *testing.B) {
	fds, err := socketpairForBench()
	if err != nil {
		b.Fatal(err)
	}
	mine, theirs := fds[0], fds[1]
	p := mp.NewProcess(tRawEcho, &rawSock{f: wire.NewFile(theirs)})
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	theirs.Close()
	defer func() { mine.Close(); p.Wait(b.Context()) }()
	msg := make([]byte, 16)
	buf := make([]byte, 64)
	d := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t := time.Now()
		if _, err := mine.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(mine, buf[:len(msg)]); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t))
	}
	reportMedian(b, d, "us", time.Microsecond)
}

func socketpairForBench() ([2]*os.File, error) {
	a, b, err := mp.RawSocketpairForTest()
	return [2]*os.File{a, b}, err
}
