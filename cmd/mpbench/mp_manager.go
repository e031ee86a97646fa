package main

// mp sides that need the Manager. A nil side is not measurable yet: null in the table.
// Fill one in as a sideFunc (see bench.go) when the Manager lands on main.
var (
	mpManagerDict sideFunc
)
