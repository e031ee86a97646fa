package mptest

import (
	"os"
	"strconv"
	"strings"
)

func openFDs() []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var fds []string
	for _, e := range ents {
		// Skip the descriptor ReadDir itself had open, and the runtime's poller, which it
		// opens for good on first use.
		if t := fdTarget(e.Name()); t != "" && t != "anon_inode:[eventpoll]" && t != "anon_inode:[eventfd]" {
			fds = append(fds, e.Name())
		}
	}
	return fds
}

func fdTarget(fd string) string {
	t, _ := os.Readlink("/proc/self/fd/" + fd)
	return t
}

// livingChildren lists the pids of this process's children that are not zombies.
func livingChildren() []int {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == self {
			kids = append(kids, pid)
		}
	}
	return kids
}
