package main

// mp sides that need Lock and Value. A nil side is not measurable yet: null in the table.
// Fill one in as a sideFunc (see bench.go) when Lock and Value lands on main.
var (
	mpLockUncontended sideFunc
	mpLockContended   sideFunc
)
