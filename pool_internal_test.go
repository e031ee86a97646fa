package mp

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

var poolBenchSquare = RegisterFunc("test.pool.internal.square", func(x int) int { return x * x })

// BenchmarkPoolWorkerBatch runs a worker's batch loop in this process: decode 125,000
// ints, call the function on each, encode the results.
func BenchmarkPoolWorkerBatch(b *testing.B) {
	e, err := lookupFunc(poolBenchSquare.name, poolBenchSquare)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]int, 125_000)
	for i := range items {
		items[i] = i
	}
	payload, _ := poolEncodeSlice(nil, items)
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	var flush atomic.Bool
	var word uint64
	out := &poolWorkerOut{f: devnull}
	for b.Loop() {
		run := &poolRun{seq: 1, flush: &flush, prog: &word, out: out}
		e.batch(context.Background(), run, payload)
		out.buf = out.buf[:0]
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/item")
}

func TestPoolBarLine(t *testing.T) {
	got := poolBarLine(50, 100, 2*time.Second, 10)
	if want := "[#####.....]  50% 50/100 25/s ETA 2s "; got != want {
		t.Fatalf("bar = %q, want %q", got, want)
	}
	if got := poolBarLine(0, 0, 0, 4); got != "[####] 100% 0/0 0/s ETA ? " {
		t.Fatalf("empty bar = %q", got)
	}
	// Not a terminal: no bar, the user's function (if any) is kept.
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if poolIsTerminal(w) {
		t.Fatal("a pipe is a terminal")
	}
}
