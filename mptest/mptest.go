// Package mptest helps test programs that use mp: a TestMain that runs mp.Main first and
// fails the test binary when it leaks child processes, goroutines or file descriptors.
//
//	func TestMain(m *testing.M) { mptest.Main(m) }
package mptest

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// Main runs mp.Main, then the tests, then checks for leaks, and exits. In a child
// process started by mp it never returns from mp.Main.
func Main(m *testing.M) {
	mp.Main()
	// Children of a -race test binary would each sleep 1 s at exit (the race runtime's
	// default atexit_sleep_ms); races are still reported without it.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	before := Snapshot()
	code := m.Run()
	if code == 0 {
		if err := before.Check(5 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "mptest: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// A State records what a process holds: open descriptors and goroutines.
type State struct {
	fds        []string
	goroutines int
}

// Snapshot records the current state.
func Snapshot() State {
	return State{fds: openFDs(), goroutines: len(goroutineStacks())}
}

// Check waits up to timeout for this process to hold no more than it did at the
// snapshot: no child processes still running, no goroutines beyond those mp keeps for the
// life of the process, no new open descriptors. It returns what leaked.
func (s State) Check(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := s.leaks()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s State) leaks() error {
	var problems []string
	if kids := mp.ActiveChildren(); len(kids) > 0 {
		pids := make([]string, len(kids))
		for i, k := range kids {
			pids[i] = strconv.Itoa(k.Pid())
		}
		problems = append(problems, fmt.Sprintf("%d child processes still running: %s", len(kids), strings.Join(pids, " ")))
	}
	if kids := livingChildren(); len(kids) > 0 {
		problems = append(problems, fmt.Sprintf("child processes not reaped: %v", kids))
	}
	var extra []string
	for _, g := range goroutineStacks() {
		if !expectedGoroutine(g) {
			extra = append(extra, g)
		}
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%d goroutines leaked:\n%s", len(extra), strings.Join(extra, "\n\n")))
	}
	if now := openFDs(); s.fds != nil && len(now) > len(s.fds) {
		var added []string
		for _, fd := range now {
			if !slices.Contains(s.fds, fd) {
				added = append(added, fd+" -> "+fdTarget(fd))
			}
		}
		if len(added) > 0 {
			problems = append(problems, fmt.Sprintf("file descriptors leaked: %s", strings.Join(added, ", ")))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("leaks after the tests:\n%s", strings.Join(problems, "\n"))
}

func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Split(strings.TrimSpace(string(buf)), "\n\n")
}

// expectedGoroutine reports goroutines that live for the whole process: this one, the
// testing framework's, the runtime's, and mp's spawner threads.
func expectedGoroutine(stack string) bool {
	for _, s := range []string{
		"mptest.goroutineStacks", "testing.(*M).", "testing.runTests", "testing.tRunner",
		"runtime.goexit0", "os/signal.signal_recv", "os/signal.loop",
		"github.com/mpgo/mp.spawner", "runtime.ensureSigM", "created by runtime.gc",
		"runtime/trace.Start", "testing.(*F)",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
