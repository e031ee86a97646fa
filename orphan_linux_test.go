package mp_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

// tOrphaner starts two grandchildren that would sleep for a minute, reports their pids
// and then waits to be killed.
var tOrphaner = mp.RegisterErr("test.orphaner", func(c *mp.Conn) (struct{}, error) {
	var pids []int
	for range 2 {
		p := mp.NewProcess(tSleep, time.Minute)
		if err := p.Start(); err != nil {
			return struct{}{}, err
		}
		pids = append(pids, p.Pid())
	}
	if err := c.Send(pids); err != nil {
		return struct{}{}, err
	}
	time.Sleep(time.Minute)
	return struct{}{}, nil
})

func TestNoOrphansAfterParentSIGKILL(t *testing.T) {
	a, b, err := mp.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p := mp.NewProcess(tOrphaner, b)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	var pids []int
	if err := a.Recv(&pids); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !processRunning(pid) {
			t.Fatalf("grandchild %d is not running before the kill", pid)
		}
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Wait(t.Context())
	killed := time.Now()
	for _, pid := range pids {
		for processRunning(pid) {
			if time.Since(killed) > 5*time.Second {
				t.Fatalf("grandchild %d still running %v after its parent was SIGKILLed", pid, time.Since(killed))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Logf("grandchildren gone %v after the parent's SIGKILL", time.Since(killed))
}

// processRunning reports whether pid exists and is not a zombie.
func processRunning(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
