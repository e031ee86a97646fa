package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/shm"
)

// floorChildMain runs this process as a floor child in role and returns its exit code.
// Its fd 3 is the socketpair end or shared segment the parent passed.
func floorChildMain(role string) int {
	var err error
	switch role {
	case "noop":
		if len(os.Args) > 1 {
			os.Stdout.Write([]byte{'x'})
		}
	case "echo":
		err = floorEcho()
	case "sink":
		err = floorSink()
	case "square":
		err = floorSquareChild()
	case "cpu":
		err = floorCPUChild()
	case "idle":
		err = floorIdleChild()
	case "ring":
		err = floorRingChild()
	case "lockinc":
		err = floorLockChild()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mpbench floor child %s: %v\n", role, err)
		return 1
	}
	return 0
}

const floorFD = 3

func intArg(i int) (int, error) {
	if len(os.Args) <= i {
		return 0, fmt.Errorf("missing argument %d", i)
	}
	return strconv.Atoi(os.Args[i])
}

// floorEcho writes back whatever it reads, until EOF.
func floorEcho() error {
	buf := make([]byte, 64<<10)
	for {
		n, err := readSome(floorFD, buf)
		if err != nil || n == 0 {
			return err
		}
		if err := writeAll(floorFD, buf[:n]); err != nil {
			return err
		}
	}
}

// floorSink reads its argument's worth of bytes, answers one byte, and again, until EOF.
func floorSink() error {
	total, err := intArg(1)
	if err != nil {
		return err
	}
	buf := make([]byte, MiB)
	for {
		for got := 0; got < total; {
			n, err := readSome(floorFD, buf[:min(len(buf), total-got)])
			if err != nil || n == 0 {
				return err
			}
			got += n
		}
		if err := writeAll(floorFD, []byte{'k'}); err != nil {
			return err
		}
	}
}

// floorSquareChild reads 8-byte words and writes back their squares, until EOF.
func floorSquareChild() error {
	buf := make([]byte, 64<<10)
	have := 0
	for {
		n, err := readSome(floorFD, buf[have:])
		if err != nil || n == 0 {
			return err
		}
		have += n
		whole := have &^ 7
		for i := 0; i < whole; i += 8 {
			x := binary.LittleEndian.Uint64(buf[i:])
			binary.LittleEndian.PutUint64(buf[i:], x*x)
		}
		if err := writeAll(floorFD, buf[:whole]); err != nil {
			return err
		}
		have = copy(buf, buf[whole:have])
	}
}

// floorCPUChild runs cpuBurn(n) for every 8-byte n it reads and answers the 8-byte result.
func floorCPUChild() error {
	var task [8]byte
	for {
		if _, err := readFull(floorFD, task[:]); err != nil {
			return nil // EOF: done
		}
		binary.LittleEndian.PutUint64(task[:], cpuBurn(int(binary.LittleEndian.Uint64(task[:]))))
		if err := writeAll(floorFD, task[:]); err != nil {
			return err
		}
	}
}

// floorIdleChild says it is up, then blocks in read until EOF.
func floorIdleChild() error {
	if err := writeAll(floorFD, []byte{'u'}); err != nil {
		return err
	}
	var one [1]byte
	readSome(floorFD, one[:])
	return nil
}

// floorRingChild consumes n messages of size bytes from the ring in the segment at fd 3.
func floorRingChild() error {
	n, err := intArg(1)
	if err != nil {
		return err
	}
	size, err := intArg(2)
	if err != nil {
		return err
	}
	slots, err := intArg(3)
	if err != nil {
		return err
	}
	seg, err := shm.Map(os.NewFile(floorFD, "ring"))
	if err != nil {
		return err
	}
	defer seg.Close()
	mem := seg.Bytes()
	head, tail := u64At(mem, ringHead), u64At(mem, ringTail)
	ready, done := u32At(mem, ringReady), u32At(mem, ringDone)
	out := make([]byte, size)
	ready.Store(1)
	shm.Wake((*uint32)(unsafe.Pointer(ready)), 1)
	var t, hcache, sum uint64
	for range n {
		if t == hcache {
			spinWait(func() bool { hcache = head.Load(); return hcache != t })
		}
		slot := mem[ringData+int(t%uint64(slots))*size:][:size]
		if size > 8 {
			copy(out, slot)
			sum += binary.LittleEndian.Uint64(out)
		} else {
			sum += binary.LittleEndian.Uint64(slot)
		}
		t++
		tail.Store(t)
	}
	if want := uint64(n) * uint64(n-1) / 2; sum != want {
		return fmt.Errorf("ring: sum of sequence numbers %d, want %d", sum, want)
	}
	done.Store(1)
	return nil
}

// floorLockChild increments the shared counter n times under the futex mutex.
func floorLockChild() error {
	n, err := intArg(1)
	if err != nil {
		return err
	}
	seg, err := shm.Map(os.NewFile(floorFD, "lock"))
	if err != nil {
		return err
	}
	defer seg.Close()
	mem := seg.Bytes()
	lock, count := u32At(mem, lockWord), (*uint64)(unsafe.Pointer(&mem[lockCount]))
	ready, done, start := u32At(mem, lockReady), u32At(mem, lockDone), u32At(mem, lockGo)
	ready.Add(1)
	shm.Wake((*uint32)(unsafe.Pointer(ready)), 1)
	for start.Load() == 0 {
		shm.Wait((*uint32)(unsafe.Pointer(start)), 0, 100*time.Millisecond)
	}
	for range n {
		futexLock(lock)
		*count++ // plain increment: the lock is what makes it safe
		futexUnlock(lock)
	}
	done.Add(1)
	shm.Wake((*uint32)(unsafe.Pointer(done)), 1)
	return nil
}

// readSome is one read(2), retried on EINTR; 0 means EOF.
func readSome(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}
