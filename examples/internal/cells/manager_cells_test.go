package cells

import "testing"

func TestManager(t *testing.T) {
	matchLines(t, capture(t, Manager), "map[1:1 2:2 0.25:<nil>]", "[9 8 7 6 5 4 3 2 1 0]")
}

func TestManagerRemote(t *testing.T) {
	matchLines(t, capture(t, ManagerRemote), "map[0:0 1:1 2:4 3:9 4:16]")
}
