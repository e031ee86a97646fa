package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) {
	mp.Main()
	if role := os.Getenv(floorChildEnv); role != "" {
		os.Exit(floorChildMain(role))
	}
	mptest.Main(m) // the tests, then a check for leaked children, goroutines and fds
}

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{5, 5, 9, 1, 5}, 5, 1, 9},
	} {
		s, err := newStats(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if s.Median != tc.med || s.Min != tc.min || s.Max != tc.max {
			t.Errorf("newStats(%v) = median %v min %v max %v, want %v %v %v", tc.in, s.Median, s.Min, s.Max, tc.med, tc.min, tc.max)
		}
	}
	if _, err := newStats(nil); err == nil {
		t.Error("newStats(nil) succeeded")
	}
}

func TestRatioOrientation(t *testing.T) {
	st := func(v float64) *stats { return &stats{Median: v} }
	// Lower is better: mp at 2 us against 20 us is 10x better.
	if x, ok := ratio("lower", st(2), st(20)); !ok || x != 10 {
		t.Errorf("lower: got %v %v, want 10", x, ok)
	}
	// Higher is better: mp at 50M/s against 5M/s is 10x better.
	if x, ok := ratio("higher", st(50), st(5)); !ok || x != 10 {
		t.Errorf("higher: got %v %v, want 10", x, ok)
	}
	if _, ok := ratio("lower", nil, st(1)); ok {
		t.Error("ratio with a missing mp side is defined")
	}
	if _, ok := ratio("lower", st(1), nil); ok {
		t.Error("ratio with a missing other side is defined")
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{
		0.0123: "0.0123", 1.7: "1.70", 27: "27.0", 216: "216", 5600: "5600",
		22000: "22.0k", 237000: "237k", 5.6e6: "5.60M", 2.1e9: "2.10G",
	} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	got, err := selectScenarios(scenarios, "pipe_rtt_us, process_start_ms")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.name)
	}
	if want := []string{"process_start_ms", "pipe_rtt_us"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v (table order)", names, want)
	}
	if _, err := selectScenarios(scenarios, "pipe_rtt_us,nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown metric: err = %v", err)
	}
	if all, _ := selectScenarios(scenarios, ""); len(all) != len(scenarios) {
		t.Errorf("empty -only selected %d of %d", len(all), len(scenarios))
	}
}

// The issue's 15 metrics in its order, and issue 7's 8-client Manager figure: the table,
// the CPython script and the README agree on them.
var issueMetrics = []string{
	"process_start_ms", "pool_start_ms", "apply_latency_us", "apply_async_tasks_per_s",
	"map_items_per_s", "imap_unordered_items_per_s", "cpu_scaling_x", "queue_small_msgs_per_s",
	"queue_1mib_mb_per_s", "pipe_rtt_us", "pipe_bytes_mb_per_s", "lock_uncontended_ns",
	"lock_contended_ops_per_s", "manager_dict_op_us", "manager_8clients_ops_per_s", "idle_worker_rss_mib",
}

func TestTableCoversEveryMetric(t *testing.T) {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
		if s.better != "lower" && s.better != "higher" {
			t.Errorf("%s: better = %q", s.name, s.better)
		}
		if s.unit == "" || s.work == "" {
			t.Errorf("%s: unit or work missing", s.name)
		}
		if s.floor != nil && s.floorWhat == "" {
			t.Errorf("%s: a floor without a description", s.name)
		}
	}
	if !slices.Equal(names, issueMetrics) {
		t.Errorf("table metrics\n%v\nwant\n%v", names, issueMetrics)
	}
	// Every metric is a function of cpython_bench.py, listed in its METRICS.
	src := string(cpythonScript)
	i := strings.Index(src, "METRICS = [")
	if i < 0 {
		t.Fatal("cpython_bench.py has no METRICS list")
	}
	listed := regexp.MustCompile(`\w+`).FindAllString(src[i+len("METRICS = ["):strings.Index(src[i:], "]")+i], -1)
	if !slices.Equal(listed, issueMetrics) {
		t.Errorf("cpython_bench.py METRICS\n%v\nwant\n%v", listed, issueMetrics)
	}
	for _, n := range issueMetrics {
		if !strings.Contains(src, "\ndef "+n+"(c):") {
			t.Errorf("cpython_bench.py has no def %s(c)", n)
		}
	}
}

func sampleResults() []result {
	return []result{
		{Name: "pipe_rtt_us", Unit: "us", Better: "lower", MP: &stats{Median: 4, Min: 3, Max: 5, Samples: []float64{3, 4, 5}},
			CPython: &stats{Median: 40, Min: 30, Max: 50, Samples: []float64{30, 40, 50}}, errs: map[string]string{}},
		{Name: "pool_start_ms", Unit: "ms", Better: "lower", CPython: &stats{Median: 6, Min: 6, Max: 6, Samples: []float64{6}},
			Floor: &stats{Median: 0.5, Min: 0.5, Max: 0.5, Samples: []float64{0.5}}, errs: map[string]string{"mp": "boom"}},
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if len(got) != 2 {
		t.Fatalf("%d objects, want 2", len(got))
	}
	for _, k := range []string{"name", "unit", "mp", "cpython", "floor", "better"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("no %q in %v", k, got[0])
		}
	}
	if got[0]["mp"] != 4.0 || got[0]["floor"] != nil || got[0]["mp_vs_cpython"] != 10.0 {
		t.Errorf("first object: %v", got[0])
	}
	if got[1]["mp"] != nil || got[1]["better"] != "lower" {
		t.Errorf("second object: %v", got[1])
	}
	if mn := got[0]["min"].(map[string]any); mn["mp"] != 3.0 || mn["cpython"] != 30.0 {
		t.Errorf("min: %v", mn)
	}
}

func TestTableAndSVG(t *testing.T) {
	m := machine{CPU: "Test CPU <1>", Cores: 2, OS: "linux/amd64", Go: "go1.26"}
	var buf bytes.Buffer
	writeTable(&buf, sampleResults(), m, "go run ./cmd/mpbench -quick", false, []string{"a note"})
	out := buf.String()
	for _, want := range []string{"Test CPU <1>, 2 cores", "go run ./cmd/mpbench -quick", "10.0x", "error", "a note", "boom", ">1 means mp is better"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	svg := svgChart(sampleResults(), m, "go run ./cmd/mpbench -svg x.svg", time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC))
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"2025-01-02 03:04 UTC", "Test CPU &lt;1&gt;", "go run ./cmd/mpbench -svg x.svg", "pipe_rtt_us", "n/a"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-reps", "3"}, {"-only", "nope"}, {"-workers", "0"}, {"extra"}} {
		if code := run(args, io.Discard, io.Discard); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"-list"}, &out, io.Discard); code != 0 || strings.Count(out.String(), "floor:") != len(scenarios) {
		t.Errorf("-list: code %d\n%s", code, out.String())
	}
}

// TestSides runs every side that exists once, with the quick workloads: each must produce a
// sane number and leave nothing behind (the floors check their own results: squares, ring
// sequence sums, lost lock updates).
func TestSides(t *testing.T) {
	b := &bench{quick: true, tiny: true, reps: 1, workers: 2, log: io.Discard}
	t.Cleanup(b.close)
	seen := map[uintptr]bool{} // a floor shared by two scenarios runs once
	for _, s := range scenarios {
		for side, f := range map[string]sideFunc{"mp": s.mp, "floor": s.floor} {
			if f == nil || seen[reflect.ValueOf(f).Pointer()] {
				continue
			}
			seen[reflect.ValueOf(f).Pointer()] = true
			t.Run(s.name+"/"+side, func(t *testing.T) {
				v, err := f(b)
				if err != nil {
					t.Fatal(err)
				}
				if !(v > 0) {
					t.Fatalf("got %v", v)
				}
			})
		}
	}
}

// TestRunOnly runs the program on one cheap metric without Python and checks the JSON.
func TestRunOnly(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-quick", "-nopython", "-json", "-only", "lock_uncontended_ns"}, &out, &errOut); code != 0 {
		t.Fatalf("code %d: %s", code, errOut.String())
	}
	var got []jsonResult
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "lock_uncontended_ns" || got[0].CPython != nil || len(got[0].Samples["floor"]) != 5 {
		t.Errorf("got %+v", got)
	}
}

// TestCPythonSide runs the embedded script on a cheap metric through the same path as the
// program, and checks that a missing interpreter gives a null column, not an error.
func TestCPythonSide(t *testing.T) {
	b := &bench{quick: true, reps: 5, workers: 2, log: io.Discard}
	var warn bytes.Buffer
	missing := newPythonSide(options{python: "no-such-python-mpbench"}, &warn)
	if st, err := missing.measure(t.Context(), b, "pipe_rtt_us"); st != nil || err != nil || !strings.Contains(warn.String(), "CPython column is null") {
		t.Errorf("without python: %v, %v, warning %q", st, err, warn.String())
	}
	py := newPythonSide(options{python: "python3"}, io.Discard)
	t.Cleanup(py.close)
	if py.python == "" {
		t.Skip("no python3 on this machine: the CPython side is null here (checked above)")
	}
	st, err := py.measure(t.Context(), b, "lock_uncontended_ns")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Samples) != 5 || !(st.Min > 0) || st.Min > st.Median || st.Median > st.Max {
		t.Errorf("samples %v, stats %+v", st.Samples, st)
	}
	if _, err := py.measure(t.Context(), b, "no_such_metric"); err == nil {
		t.Error("an unknown metric gave no error")
	}
}
