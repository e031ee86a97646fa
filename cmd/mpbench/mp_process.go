package main

// mp sides that need Process. A nil side is not measurable yet: null in the table.
// Fill one in as a sideFunc (see bench.go) when Process lands on main.
var (
	mpProcessStart  sideFunc
	mpIdleWorkerRSS sideFunc
)
