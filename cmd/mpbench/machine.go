package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machine describes where a run happened; the table and the chart carry it.
type machine struct {
	CPU    string
	Cores  int
	OS     string // GOOS/GOARCH and kernel release
	Go     string
	Python string // "" when the CPython side did not run
	Load   string // 1-minute load average when the run started: other work on the machine skews it
}

// loadAverage is the 1-minute load average, "" where /proc/loadavg does not exist.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

func describeMachine(python string) machine {
	m := machine{CPU: cpuModel(), Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), Python: python}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", Linux " + strings.TrimSpace(string(rel))
	}
	return m
}

func (m machine) String() string {
	s := fmt.Sprintf("%s, %d cores, %s, %s", m.CPU, m.Cores, m.OS, m.Go)
	if m.Python != "" {
		s += ", CPython " + m.Python
	}
	if m.Load != "" {
		s += ", load " + m.Load + " at start"
	}
	return s
}

// cpuModel is the "model name" of /proc/cpuinfo, or the architecture where there is none.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
