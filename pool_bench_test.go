package mp_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

var tBenchSpin = mp.RegisterFunc("test.pool.spin", func(n int) int {
	x := 0
	for i := range n {
		x += i ^ (x >> 3)
	}
	return x
})

// BenchmarkPoolStart: NewPool with 2 workers, the first result, Close and Wait.
func BenchmarkPoolStart(b *testing.B) {
	ctx := b.Context()
	for b.Loop() {
		p, err := mp.NewPool(mp.WithWorkers(2))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mp.Apply(ctx, p, tSquare, 2); err != nil {
			b.Fatal(err)
		}
		p.Close()
		if err := p.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/start")
}

// BenchmarkPoolApply: one Apply at a time, a round trip to a worker.
func BenchmarkPoolApply(b *testing.B) {
	p := benchPool(b, 2)
	ctx := b.Context()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := mp.Apply(ctx, p, tSquare, 3); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1000, "median-us/apply")
}

// BenchmarkPoolApplyAsync: b.N ApplyAsync, then every Get.
func BenchmarkPoolApplyAsync(b *testing.B) {
	p := benchPool(b, 2)
	ctx := b.Context()
	rs := make([]*mp.AsyncResult[int], 0, 1<<16)
	b.ResetTimer()
	for i := 0; i < b.N; {
		rs = rs[:0]
		for ; i < b.N && len(rs) < cap(rs); i++ {
			rs = append(rs, mp.ApplyAsync(p, tSquare, i))
		}
		for _, r := range rs {
			if _, err := r.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

const benchItems = 1_000_000

// BenchmarkPoolMap: Map of a trivial function over 1M ints on 2 workers.
func BenchmarkPoolMap(b *testing.B) {
	p := benchPool(b, 2)
	ctx := b.Context()
	items := seq(benchItems)
	for b.Loop() {
		got, err := mp.Map(ctx, p, tSquare, items)
		if err != nil || got[999] != 999*999 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkPoolImapUnordered: ImapUnordered over 1M ints, 2 workers, chunks of 125,000 (Map's default).
func BenchmarkPoolImapUnordered(b *testing.B) {
	p := benchPool(b, 2)
	ctx := b.Context()
	items := seq(benchItems)
	for b.Loop() {
		n := 0
		for _, err := range mp.ImapUnordered(ctx, p, tSquare, slices.Values(items), mp.WithChunkSize(125_000)) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchItems {
			b.Fatalf("%d results", n)
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkPoolScaling: a CPU-bound map on a pool of 2 against a pool of 1.
func BenchmarkPoolScaling(b *testing.B) {
	ctx := b.Context()
	items := make([]int, 64)
	for i := range items {
		items[i] = 2_000_000
	}
	timeMap := func(workers int) time.Duration {
		p := benchPool(b, workers)
		defer p.Terminate()
		mp.Map(ctx, p, tBenchSpin, items[:workers]) // warm up
		start := time.Now()
		if _, err := mp.Map(ctx, p, tBenchSpin, items); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var one, two time.Duration
	for b.Loop() {
		one += timeMap(1)
		two += timeMap(2)
	}
	b.ReportMetric(float64(one)/float64(two), "x")
}

// BenchmarkPoolIdleRSS reports an idle worker's resident memory.
func BenchmarkPoolIdleRSS(b *testing.B) {
	var rss float64
	for b.Loop() {
		p := benchPool(b, 2)
		mp.Map(b.Context(), p, tSquare, []int{1, 2, 3, 4})
		time.Sleep(200 * time.Millisecond)
		for _, pid := range p.Pids() {
			rss = max(rss, vmRSS(pid))
		}
		p.Terminate()
	}
	b.ReportMetric(rss, "MiB/worker")
}

func vmRSS(pid int) float64 {
	s, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(s)) {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(rest)[0])
			return float64(kb) / 1024
		}
	}
	return 0
}

func benchPool(b *testing.B, workers int) *mp.Pool {
	b.Helper()
	p, err := mp.NewPool(mp.WithWorkers(workers))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Terminate() })
	return p
}
