package main

import (
	"io"
	"testing"
)

// BenchmarkMP and BenchmarkFloor run each side of each scenario (quick workloads) once
// per iteration and report the metric in its own unit, so that a change can be compared
// with benchstat:
//
//	go test ./cmd/mpbench -run '^$' -bench 'MP/pipe' -count 10 > old.txt
//	(change) ... > new.txt; benchstat old.txt new.txt
func BenchmarkMP(b *testing.B)    { benchSides(b, func(s scenario) sideFunc { return s.mp }) }
func BenchmarkFloor(b *testing.B) { benchSides(b, func(s scenario) sideFunc { return s.floor }) }

func benchSides(b *testing.B, side func(scenario) sideFunc) {
	cfg := &bench{quick: true, reps: 1, workers: 2, log: io.Discard}
	b.Cleanup(cfg.close)
	for _, s := range scenarios {
		f := side(s)
		if f == nil {
			continue
		}
		b.Run(s.name, func(b *testing.B) {
			sum := 0.0
			for range b.N {
				v, err := f(cfg)
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			b.ReportMetric(sum/float64(b.N), s.unit)
		})
	}
}
