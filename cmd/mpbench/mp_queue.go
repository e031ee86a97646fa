package main

// mp sides that need Queue. A nil side is not measurable yet: null in the table.
// Fill one in as a sideFunc (see bench.go) when Queue lands on main.
var (
	mpQueueSmall sideFunc
	mpQueue1MiB  sideFunc
)
