package main

// mp sides that need Pipe. A nil side is not measurable yet: null in the table.
// Fill one in as a sideFunc (see bench.go) when Pipe lands on main.
var (
	mpPipeRTT   sideFunc
	mpPipeBytes sideFunc
)
