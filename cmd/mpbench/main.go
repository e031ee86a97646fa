// Command mpbench measures mp side by side with CPython's multiprocessing and with the
// bare OS mechanism (the "floor"), on the same machine, in the same run.
//
// Every scenario (see scenarios.go) is run three ways: the mp side (this library), the
// CPython side (cpython_bench.py, embedded, run with python3 and start method fork) and the
// floor (the same work done by the bare kernel mechanism, measured by this program; floor.go
// says what the floor is for each metric). Each figure is the median of -reps repetitions
// (at least 5); min and max go to the JSON. A side that cannot be measured (mp capability
// not built yet, no python3, no floor on this OS) is null, never a made-up number.
//
// Usage:
//
//	go run ./cmd/mpbench                    # full run, table on stdout
//	go run ./cmd/mpbench -quick             # lighter workloads, under 60 s on 2 cores
//	go run ./cmd/mpbench -only pipe_rtt_us,pipe_bytes_mb_per_s
//	go run ./cmd/mpbench -json              # one JSON array, one object per metric
//	go run ./cmd/mpbench -svg bench.svg     # also write a bar chart
//
// Ratio columns are oriented so that a value above 1 means mp is better (faster, more
// throughput, less memory): for a lower-is-better metric the ratio is other/mp, for a
// higher-is-better one mp/other.
package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/mpgo/mp"
)

func main() {
	mp.Main()
	if role := os.Getenv(floorChildEnv); role != "" {
		os.Exit(floorChildMain(role))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	json    bool
	md      bool
	quick   bool
	only    []string
	svg     string
	jsonOut string
	reps    int
	noPy    bool
	python  string
	workers int
	list    bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mpbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var only string
	fs.BoolVar(&o.json, "json", false, "print one JSON array instead of the table")
	fs.BoolVar(&o.md, "md", false, "print the table as Markdown")
	fs.BoolVar(&o.quick, "quick", false, "lighter workloads: the whole run in under 60 s on 2 cores")
	fs.StringVar(&only, "only", "", "comma-separated metric names to run (default: all)")
	fs.StringVar(&o.svg, "svg", "", "also write a bar chart to this SVG file")
	fs.StringVar(&o.jsonOut, "jsonfile", "", "also write the JSON array to this file")
	fs.IntVar(&o.reps, "reps", 5, "repetitions per side; the figure is their median (at least 5)")
	fs.BoolVar(&o.noPy, "nopython", false, "skip the CPython side")
	fs.StringVar(&o.python, "python", "python3", "the Python interpreter for the CPython side")
	fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "pool size for the pool scenarios, on every side")
	fs.BoolVar(&o.list, "list", false, "list the metrics and what each side measures, then exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mpbench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if o.reps < 5 {
		fmt.Fprintln(stderr, "mpbench: -reps must be at least 5")
		return 2
	}
	if o.workers < 1 {
		fmt.Fprintln(stderr, "mpbench: -workers must be at least 1")
		return 2
	}
	sel, err := selectScenarios(scenarios, only)
	if err != nil {
		fmt.Fprintf(stderr, "mpbench: %v\n", err)
		return 2
	}
	if o.list {
		for _, s := range sel {
			fmt.Fprintf(stdout, "%s (%s, %s is better)\n  work:  %s\n  floor: %s\n", s.name, s.unit, s.better, s.work, cmp.Or(s.floorWhat, "none"))
		}
		return 0
	}

	b := &bench{quick: o.quick, reps: o.reps, workers: o.workers, log: stderr}
	defer b.close()
	py := newPythonSide(o, stderr)
	defer py.close()

	load := loadAverage()
	start := time.Now()
	results := make([]result, 0, len(sel))
	for _, s := range sel {
		results = append(results, runScenario(b, py, s))
	}
	fmt.Fprintf(stderr, "mpbench: done in %.1fs\n", time.Since(start).Seconds())

	m := describeMachine(py.version)
	m.Load = load
	cmdline := commandLine(args)
	if o.json {
		if err := writeJSON(stdout, results); err != nil {
			fmt.Fprintf(stderr, "mpbench: %v\n", err)
			return 1
		}
	} else {
		writeTable(stdout, results, m, cmdline, o.md, b.notes)
	}
	if o.jsonOut != "" {
		var buf bytes.Buffer
		err := writeJSON(&buf, results)
		if err == nil {
			err = os.WriteFile(o.jsonOut, buf.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "mpbench: write JSON: %v\n", err)
			return 1
		}
	}
	if o.svg != "" {
		if err := os.WriteFile(o.svg, svgChart(results, m, cmdline, time.Now()), 0o644); err != nil {
			fmt.Fprintf(stderr, "mpbench: write chart: %v\n", err)
			return 1
		}
	}
	return 0
}

// selectScenarios keeps the scenarios named in only (all when only is empty), in table order.
func selectScenarios(all []scenario, only string) ([]scenario, error) {
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for n := range strings.SplitSeq(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []scenario
	for _, s := range all {
		if want[s.name] {
			out = append(out, s)
			delete(want, s.name)
		}
	}
	if len(want) > 0 {
		unknown := make([]string, 0, len(want))
		for n := range want {
			unknown = append(unknown, n)
		}
		slices.Sort(unknown)
		return nil, fmt.Errorf("unknown metric(s) %s (try -list)", strings.Join(unknown, ", "))
	}
	return out, nil
}

// runScenario measures the three sides of s, one after the other, so they see the same machine.
func runScenario(b *bench, py *pythonSide, s scenario) result {
	r := result{Name: s.name, Unit: s.unit, Better: s.better, errs: map[string]string{}}
	fmt.Fprintf(b.log, "mpbench: %-28s", s.name)
	side := func(label string, f sideFunc) *stats {
		if f == nil {
			fmt.Fprintf(b.log, " %s:-", label)
			return nil
		}
		st, err := b.measure(f)
		if err != nil {
			r.errs[label] = err.Error()
			fmt.Fprintf(b.log, " %s:error", label)
			return nil
		}
		fmt.Fprintf(b.log, " %s:%s", label, formatValue(st.Median))
		return st
	}
	r.MP = side("mp", s.mp)
	r.CPython = func() *stats {
		st, err := py.measure(context.Background(), b, s.name)
		switch {
		case err != nil:
			r.errs["cpython"] = err.Error()
			fmt.Fprint(b.log, " cpython:error")
		case st == nil:
			fmt.Fprint(b.log, " cpython:-")
		default:
			fmt.Fprintf(b.log, " cpython:%s", formatValue(st.Median))
		}
		return st
	}()
	r.Floor = side("floor", s.floor)
	fmt.Fprintln(b.log)
	for _, k := range []string{"mp", "cpython", "floor"} {
		if e, ok := r.errs[k]; ok {
			fmt.Fprintf(b.log, "mpbench:   %s %s: %s\n", s.name, k, e)
		}
	}
	return r
}

// commandLine is how the run was asked for, as a user would type it.
func commandLine(args []string) string {
	parts := []string{"go run ./cmd/mpbench"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
