package cells

import (
	"slices"
	"strings"
	"testing"
)

func TestLock(t *testing.T) {
	out := capture(t, Lock)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	slices.Sort(lines)
	want := []string{}
	for i := range 10 {
		want = append(want, "hello world "+string(rune('0'+i)))
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("printed:\n%s", out)
	}
}

func TestSharedMemory(t *testing.T) {
	matchLines(t, capture(t, SharedMemory), "3.1415927", "[0 -1 -2 -3 -4 -5 -6 -7 -8 -9]")
}
