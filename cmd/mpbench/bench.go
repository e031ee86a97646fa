package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// MiB is the payload size of the bulk scenarios; MB in a unit means 10^6 bytes.
const (
	MiB = 1 << 20
	MB  = 1e6
)

// A sideFunc measures one repetition of a scenario and returns it in the scenario's unit.
// It sets up and tears down what it needs (children, pools, segments) itself, outside the
// timed part, and leaves nothing running.
type sideFunc func(b *bench) (float64, error)

// bench is the configuration every side sees.
type bench struct {
	quick   bool
	tiny    bool // tests: a tenth of the quick workloads, to check that the sides work
	reps    int
	workers int
	log     io.Writer

	cleanups []func()
	cache    map[string]any
	notes    []string
}

// cached returns the value make made for key the first time in this run.
func (b *bench) cached(key string, make func() (any, error)) (any, error) {
	if v, ok := b.cache[key]; ok {
		return v, nil
	}
	v, err := make()
	if err != nil {
		return nil, err
	}
	if b.cache == nil {
		b.cache = map[string]any{}
	}
	b.cache[key] = v
	return v, nil
}

// notef records a remark about how the run measured something; it is printed with the table.
func (b *bench) notef(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// burnN is the cpuBurn size calibrated once per run for this program (mp and floor sides).
func (b *bench) burnN() int {
	v, _ := b.cached("burn-n", func() (any, error) { return calibrateBurn(b.burnTarget()), nil })
	return v.(int)
}

// mapChunksize is Python's Pool.map default chunk size, used on every side.
func mapChunksize(n, workers int) int {
	cs := n / (workers * 4)
	if n%(workers*4) != 0 {
		cs++
	}
	return max(1, cs)
}

// n picks the full or the quick workload size.
func (b *bench) n(full, quick int) int {
	if b.tiny {
		return max(1, quick/10)
	}
	if b.quick {
		return quick
	}
	return full
}

// d picks the full or the quick duration.
func (b *bench) d(full, quick time.Duration) time.Duration {
	if b.tiny {
		return quick / 10
	}
	if b.quick {
		return quick
	}
	return full
}

// onClose registers f to run when the whole benchmark ends (temporary files).
func (b *bench) onClose(f func()) { b.cleanups = append(b.cleanups, f) }

func (b *bench) close() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
}

// measure runs f b.reps times.
func (b *bench) measure(f sideFunc) (*stats, error) {
	samples := make([]float64, 0, b.reps)
	for range b.reps {
		v, err := f(b)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("mpbench: bad sample %v", v)
		}
		samples = append(samples, v)
	}
	return newStats(samples)
}

// stats summarise the repetitions of one side.
type stats struct {
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Samples []float64 `json:"samples"`
}

func newStats(samples []float64) (*stats, error) {
	if len(samples) == 0 {
		return nil, errors.New("mpbench: no samples")
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &stats{Median: med, Min: s[0], Max: s[len(s)-1], Samples: samples}, nil
}

// result is one row of the table.
type result struct {
	Name    string
	Unit    string
	Better  string // "lower" or "higher"
	MP      *stats
	CPython *stats
	Floor   *stats
	errs    map[string]string
}

// ratio compares mp with another side, oriented so that >1 means mp is better.
// ok is false when either side is missing or zero.
func ratio(better string, mp, other *stats) (float64, bool) {
	if mp == nil || other == nil || mp.Median <= 0 || other.Median <= 0 {
		return 0, false
	}
	if better == "lower" {
		return other.Median / mp.Median, true
	}
	return mp.Median / other.Median, true
}

// perOp turns a duration for n operations into the per-operation figure in unit
// (one of time.Nanosecond, time.Microsecond, time.Millisecond).
func perOp(d time.Duration, n int, unit time.Duration) float64 {
	return float64(d) / float64(n) / float64(unit)
}

// rate is n per second.
func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// mbPerS is the bandwidth of n MiB-sized chunks moved in d, in MB/s (10^6 bytes).
func mbPerS(n int, d time.Duration) float64 { return float64(n) * MiB / MB / d.Seconds() }
