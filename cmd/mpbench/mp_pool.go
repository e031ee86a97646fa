package main

// mp sides that need Pool. A nil side is not measurable yet: null in the table.
// Fill one in as a sideFunc (see bench.go) when Pool lands on main.
var (
	mpPoolStart     sideFunc
	mpApplyLatency  sideFunc
	mpApplyAsync    sideFunc
	mpMap           sideFunc
	mpImapUnordered sideFunc
	mpCPUScaling    sideFunc
)
