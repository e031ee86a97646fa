package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// rssMiB reads VmRSS of process pid from /proc, in MiB.
func rssMiB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest) // "1234 kB"
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("odd VmRSS line %q", sc.Text())
			}
			kb, err := strconv.ParseFloat(fields[0], 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
