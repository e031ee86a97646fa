package cells

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFirstPool(t *testing.T) {
	matchLines(t, capture(t, FirstPool), "[1 4 9]")
}

func TestPoolCell(t *testing.T) {
	start := time.Now()
	out := capture(t, Pool)
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the Pool cell took %v: Terminate waited for the sleeping task", d)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 15 {
		t.Fatalf("printed %d lines, want 15:\n%s", len(lines), out)
	}
	if lines[0] != "[0 1 4 9 16 25 36 49 64 81]" {
		t.Fatalf("map printed %q", lines[0])
	}
	unordered := slices.Clone(lines[1:11])
	slices.SortFunc(unordered, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	if want := []string{"0", "1", "4", "9", "16", "25", "36", "49", "64", "81"}; !slices.Equal(unordered, want) {
		t.Fatalf("imap_unordered printed %v", lines[1:11])
	}
	matchLines(t, strings.Join(lines[11:], "\n"),
		"400", "PID", "[PID PID PID PID]", "We lacked patience and got a multiprocessing.TimeoutError")
}
