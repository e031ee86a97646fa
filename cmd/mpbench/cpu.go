package main

import "time"

// cpuBurn is the CPU-bound task of cpu_scaling_x: n rounds of xorshift64, the same loop as
// cpu_burn in cpython_bench.py. Each side calibrates n for itself so that one task takes
// about the same time on its own runtime (~50 ms; 20 ms with -quick): the metric is a ratio
// of times, so only the task's duration, not its speed, has to match.
func cpuBurn(n int) uint64 {
	x := uint64(88172645463325252)
	var s uint64
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		s += x
	}
	return s
}

// burnSink keeps calibrateBurn's calls from being optimised away (without it the
// compiler drops most of the loop and the calibrated tasks run several times too long).
var burnSink uint64

// calibrateBurn returns the n for which cpuBurn(n) takes about target.
func calibrateBurn(target time.Duration) int {
	n := 1 << 16
	for {
		t := time.Now()
		burnSink += cpuBurn(n)
		d := time.Since(t)
		if d > 20*time.Millisecond {
			return max(1, int(float64(n)*float64(target)/float64(d)))
		}
		n *= 2
	}
}

// burnTarget is the duration of one cpu_scaling_x task.
func (b *bench) burnTarget() time.Duration { return b.d(50*time.Millisecond, 20*time.Millisecond) }
