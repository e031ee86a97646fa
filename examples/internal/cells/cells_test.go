package cells

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

// capture runs a cell with this process's standard output, which its children inherit,
// sent to a file, and returns what was printed.
func capture(t *testing.T, cell func()) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdout
	os.Stdout = f
	defer func() { os.Stdout = saved }()
	cell()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A pattern line matches a printed line exactly, except that PID matches a process id.
func matchLines(t *testing.T, got string, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("printed %d lines, want %d:\n%s", len(lines), len(want), got)
	}
	for i, w := range want {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(w), "PID", `[0-9]+`) + "$"
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Fatalf("line %d = %q, want %q; all:\n%s", i+1, lines[i], w, got)
		}
	}
}

func TestHelloBob(t *testing.T) {
	matchLines(t, capture(t, HelloBob), "hello bob")
}

func TestProcessIDs(t *testing.T) {
	out := capture(t, ProcessIDs)
	matchLines(t, out,
		"main line", "module name: cells", "parent process: PID", "process id: PID",
		"function f", "module name: cells", "parent process: PID", "process id: PID",
		"hello bob")
	lines := strings.Split(out, "\n")
	// The child's parent is the main line's process.
	if strings.TrimPrefix(lines[3], "process id: ") != strings.TrimPrefix(lines[6], "parent process: ") {
		t.Fatalf("child's parent is not the main process:\n%s", out)
	}
	if lines[3] == lines[7] {
		t.Fatalf("child runs in the main process:\n%s", out)
	}
}

func TestPipe(t *testing.T) {
	matchLines(t, capture(t, Pipe), "[42 <nil> hello]")
}

func TestQueues(t *testing.T) {
	matchLines(t, capture(t, Queues), "[42 <nil> hello]")
}
