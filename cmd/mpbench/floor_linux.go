package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/shm"
)

// ---- process start

const noopCSource = `#include <unistd.h>
int main(int argc, char **argv) { (void)argv; if (argc > 1) write(1, "x", 1); return 0; }
`

// noopBinary is the no-op that the process-start floors fork+exec.
type noopBinary struct {
	path string
	env  []string
	what string
}

// floorNoop builds the static C no-op once per run, or falls back to this binary as a Go no-op.
func floorNoop(b *bench) (*noopBinary, error) {
	v, err := b.cached("floor-noop", func() (any, error) {
		if gcc, err := exec.LookPath("gcc"); err == nil {
			dir, err := os.MkdirTemp("", "mpbench-noop-")
			if err != nil {
				return nil, err
			}
			b.onClose(func() { os.RemoveAll(dir) })
			src, bin := filepath.Join(dir, "noop.c"), filepath.Join(dir, "noop")
			if err := os.WriteFile(src, []byte(noopCSource), 0o644); err != nil {
				return nil, err
			}
			out, err := exec.Command(gcc, "-static", "-O2", "-o", bin, src).CombinedOutput()
			if err == nil {
				b.notef("process-start floors: a static C no-op (gcc -static)")
				return &noopBinary{path: bin, env: []string{}, what: "static C no-op"}, nil
			}
			fmt.Fprintf(b.log, "mpbench: gcc -static failed, using a Go no-op for the floor: %v\n%s", err, out)
		}
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		b.notef("process-start floors: a Go no-op (this binary re-executed; no gcc -static here)")
		return &noopBinary{path: exe, env: append(os.Environ(), floorChildEnv+"=noop"), what: "Go no-op"}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*noopBinary), nil
}

// forkExecNoop starts the no-op with stdout on fd out (-1: inherit), writing a byte if mark.
func forkExecNoop(nb *noopBinary, out int, mark bool) (int, error) {
	argv := []string{nb.path}
	if mark {
		argv = append(argv, "x")
	}
	stdout := uintptr(1)
	if out >= 0 {
		stdout = uintptr(out)
	}
	return syscall.ForkExec(nb.path, argv, &syscall.ProcAttr{Env: nb.env, Files: []uintptr{0, stdout, 2}})
}

func wait4(pid int) error {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if !ws.Exited() || ws.ExitStatus() != 0 {
			return fmt.Errorf("no-op child ended with status %v", ws)
		}
		return nil
	}
}

func floorProcessStart(b *bench) (float64, error) {
	nb, err := floorNoop(b)
	if err != nil {
		return 0, err
	}
	if _, err := b.cached("go-noop-start", func() (any, error) { return goNoopStart(b) }); err != nil {
		return 0, err
	}
	k := b.n(20, 10)
	t := time.Now()
	for range k {
		pid, err := forkExecNoop(nb, -1, false)
		if err != nil {
			return 0, err
		}
		if err := wait4(pid); err != nil {
			return 0, err
		}
	}
	return perOp(time.Since(t), k, time.Millisecond), nil
}

// goNoopStart measures, once per run, fork+exec+wait4 of this Go binary as a no-op: what
// any design that starts a child by re-executing a Go program pays at least. It goes into
// the notes, not the table.
func goNoopStart(b *bench) (any, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	nb := &noopBinary{path: exe, env: append(os.Environ(), floorChildEnv+"=noop")}
	k := b.n(20, 10)
	t := time.Now()
	for range k {
		pid, err := forkExecNoop(nb, -1, false)
		if err != nil {
			return nil, err
		}
		if err := wait4(pid); err != nil {
			return nil, err
		}
	}
	ms := perOp(time.Since(t), k, time.Millisecond)
	b.notef("for reference, fork+exec+wait of this Go binary as a no-op: %s ms (mean of %d)", formatValue(ms), k)
	return ms, nil
}

func floorPoolStart(b *bench) (float64, error) {
	nb, err := floorNoop(b)
	if err != nil {
		return 0, err
	}
	k := b.n(10, 5)
	var d time.Duration
	for range k {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return 0, err
		}
		t := time.Now()
		pids := make([]int, 0, b.workers)
		for range b.workers {
			pid, err := forkExecNoop(nb, p[1], true)
			if err != nil {
				unix.Close(p[0])
				unix.Close(p[1])
				for _, pid := range pids {
					wait4(pid)
				}
				return 0, err
			}
			pids = append(pids, pid)
		}
		unix.Close(p[1])
		var one [1]byte
		_, rerr := readFull(p[0], one[:])
		for _, pid := range pids {
			if err := wait4(pid); err != nil && rerr == nil {
				rerr = err
			}
		}
		d += time.Since(t)
		unix.Close(p[0])
		if rerr != nil {
			return 0, rerr
		}
	}
	return perOp(d, k, time.Millisecond), nil
}

// ---- socketpairs and floor children

// childWatch waits for a child in the background, so that spinning loops can stop when it dies.
type childWatch struct {
	cmd    *exec.Cmd
	exited atomic.Bool
	done   chan struct{}
	err    error
}

func watchChild(cmd *exec.Cmd) *childWatch {
	w := &childWatch{cmd: cmd, done: make(chan struct{})}
	go func() {
		w.err = cmd.Wait()
		w.exited.Store(true)
		close(w.done)
	}()
	return w
}

func (w *childWatch) wait() error {
	<-w.done
	return w.err
}

// floorProc is a floor child with a socketpair end as its fd 3.
type floorProc struct {
	cmd *exec.Cmd
	fd  int // the parent's end
}

// startFloorChild re-executes this binary in role with args; files become fds 3, 4, ...
func startFloorChild(role string, args []string, files ...*os.File) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), floorChildEnv+"="+role)
	cmd.ExtraFiles = files
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start floor child %s: %w", role, err)
	}
	return cmd, nil
}

// startSocketChild starts a floor child connected to the parent by a stream socketpair.
func startSocketChild(role string, args ...string) (*floorProc, error) {
	return startSocketWith(func(f *os.File) (*exec.Cmd, error) { return startFloorChild(role, args, f) })
}

// startSocketProgram starts the program at path with a socketpair end as its fd 3.
func startSocketProgram(path string) (*floorProc, error) {
	return startSocketWith(func(f *os.File) (*exec.Cmd, error) {
		cmd := exec.Command(path)
		cmd.ExtraFiles = []*os.File{f}
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		return cmd, cmd.Start()
	})
}

func startSocketWith(start func(*os.File) (*exec.Cmd, error)) (*floorProc, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	cf := os.NewFile(uintptr(fds[1]), "floor-child-end")
	cmd, err := start(cf)
	cf.Close()
	if err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return &floorProc{cmd: cmd, fd: fds[0]}, nil
}

// close closes the parent's end (the child sees EOF and exits) and waits for the child.
func (p *floorProc) close() error {
	unix.Close(p.fd)
	return p.cmd.Wait()
}

func readFull(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, errors.New("unexpected EOF")
		}
		n += m
	}
	return n, nil
}

func writeAll(fd int, buf []byte) error {
	for len(buf) > 0 {
		m, err := unix.Write(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		buf = buf[m:]
	}
	return nil
}

// ---- round trips

// floorPingPong times k round trips of a size-byte message to an echoing child.
func floorPingPong(k, size int) (time.Duration, error) {
	p, err := startSocketChild("echo")
	if err != nil {
		return 0, err
	}
	msg, buf := make([]byte, size), make([]byte, size)
	run := func(k int) error {
		for range k {
			if err := writeAll(p.fd, msg); err != nil {
				return err
			}
			if _, err := readFull(p.fd, buf); err != nil {
				return err
			}
		}
		return nil
	}
	err = run(100) // warm up: the child is running and its pages are in
	t := time.Now()
	if err == nil {
		err = run(k)
	}
	d := time.Since(t)
	if cerr := p.close(); err == nil {
		err = cerr
	}
	return d, err
}

func floorPipeRTT(b *bench) (float64, error) {
	k := b.n(5000, 1000)
	d, err := floorPingPong(k, 32)
	return perOp(d, k, time.Microsecond), err
}

func floorApplyLatency(b *bench) (float64, error) {
	k := b.n(2000, 500)
	d, err := floorPingPong(k, 32)
	return perOp(d, k, time.Microsecond), err
}

func floorManagerDict(b *bench) (float64, error) {
	k := b.n(4000, 1000)
	d, err := floorPingPong(k, 32)
	return perOp(d, k, time.Microsecond), err
}

// ---- bulk bytes

func floorPipeBytes(b *bench) (float64, error) {
	n := b.n(500, 100)
	p, err := startSocketChild("sink", strconv.Itoa(n*MiB))
	if err != nil {
		return 0, err
	}
	buf := make([]byte, MiB)
	for i := range buf {
		buf[i] = byte(i)
	}
	var ack [1]byte
	t := time.Now()
	for i := 0; i < n && err == nil; i++ {
		err = writeAll(p.fd, buf)
	}
	if err == nil {
		_, err = readFull(p.fd, ack[:])
	}
	d := time.Since(t)
	if cerr := p.close(); err == nil {
		err = cerr
	}
	return mbPerS(n, d), err
}

// ---- pool work: squares over socketpairs

// floorSquare sends n ints, as 8-byte words in chunks of chunk items (one write each), to
// b.workers "square" children round-robin, and reads every square back.
func floorSquare(b *bench, n, chunk int) (time.Duration, error) {
	data := make([]byte, 8*n)
	for i := range n {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(i))
	}
	back := make([]byte, 8*n)
	procs := make([]*floorProc, 0, b.workers)
	defer func() {
		for _, p := range procs {
			p.close()
		}
	}()
	for range b.workers {
		p, err := startSocketChild("square")
		if err != nil {
			return 0, err
		}
		procs = append(procs, p)
	}
	nchunks := (n + chunk - 1) / chunk
	want := make([]int, len(procs)) // bytes each worker sends back
	for c := range nchunks {
		want[c%len(procs)] += 8 * (min(n, (c+1)*chunk) - c*chunk)
	}
	errc := make(chan error, 2*len(procs))
	t := time.Now()
	for w, p := range procs {
		go func() {
			for c := w; c < nchunks; c += len(procs) {
				if err := writeAll(p.fd, data[8*c*chunk:8*min(n, (c+1)*chunk)]); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		go func() {
			// Results land in arrival order; a real pool would scatter them, which the
			// floor does not charge for.
			off := 0
			for _, c := range want[:w] {
				off += c
			}
			_, err := readFull(p.fd, back[off:off+want[w]])
			errc <- err
		}()
	}
	var err error
	for range 2 * len(procs) {
		if e := <-errc; e != nil && err == nil {
			err = e
		}
	}
	d := time.Since(t)
	if err == nil && binary.LittleEndian.Uint64(back[8*(n-1):]) == 0 && n > 1 {
		err = errors.New("square workers returned zeros")
	}
	return d, err
}

func floorApplyAsync(b *bench) (float64, error) {
	n := b.n(20000, 5000)
	d, err := floorSquare(b, n, 1)
	return rate(n, d), err
}

func floorMap(b *bench) (float64, error) {
	n := b.n(1_000_000, 200_000)
	d, err := floorSquare(b, n, mapChunksize(n, b.workers))
	return rate(n, d), err
}

// ---- CPU scaling

func floorCPUScaling(b *bench) (float64, error) {
	n := b.burnN()
	var procs []*floorProc
	defer func() {
		for _, p := range procs {
			p.close()
		}
	}()
	for range 2 {
		p, err := startSocketChild("cpu")
		if err != nil {
			return 0, err
		}
		procs = append(procs, p)
	}
	// tasks runs 8 tasks spread over the first w processes (8/w each, handed out at once:
	// with equal tasks that is what a pool's scheduler ends up doing).
	tasks := func(w int) (time.Duration, error) {
		var task [8]byte
		binary.LittleEndian.PutUint64(task[:], uint64(n))
		t := time.Now()
		for i := range 8 {
			if err := writeAll(procs[i%w].fd, task[:]); err != nil {
				return 0, err
			}
		}
		for i := range 8 {
			if _, err := readFull(procs[i%w].fd, task[:]); err != nil {
				return 0, err
			}
		}
		return time.Since(t), nil
	}
	t1, err := tasks(1)
	if err != nil {
		return 0, err
	}
	t2, err := tasks(2)
	if err != nil {
		return 0, err
	}
	return float64(t1) / float64(t2), nil
}

// ---- shared-memory ring

// The ring's layout in its segment: the producer's head, the consumer's tail and the
// consumer's "done" word each on their own cache line, slots from ringData on.
const (
	ringHead  = 0
	ringTail  = 64
	ringReady = 128
	ringDone  = 192
	ringData  = 4096
)

func u64At(mem []byte, off int) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&mem[off])) }
func u32At(mem []byte, off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&mem[off])) }

// spinWait calls cond until it is true, yielding the CPU now and then so that a busy machine
// (or one CPU) still makes progress.
func spinWait(cond func() bool) {
	for i := 1; !cond(); i++ {
		if i%1024 == 0 {
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
}

// floorRing moves n messages of size bytes (8 or more) through an SPSC ring of slots
// slots to a consumer child, and times it from the first put until the consumer is done.
func floorRing(n, size, slots int) (time.Duration, error) {
	seg, err := shm.Create("mpbench-ring", ringData+size*slots)
	if err != nil {
		return 0, err
	}
	defer seg.Close()
	mem := seg.Bytes()
	cmd, err := startFloorChild("ring", []string{strconv.Itoa(n), strconv.Itoa(size), strconv.Itoa(slots)}, seg.File())
	if err != nil {
		return 0, err
	}
	w := watchChild(cmd)
	head, tail := u64At(mem, ringHead), u64At(mem, ringTail)
	ready, done := u32At(mem, ringReady), u32At(mem, ringDone)
	for ready.Load() == 0 && !w.exited.Load() {
		shm.Wait((*uint32)(unsafe.Pointer(ready)), 0, 10*time.Millisecond)
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	t := time.Now()
	var h, tcache uint64
	for i := range n {
		if h-tcache >= uint64(slots) {
			spinWait(func() bool { tcache = tail.Load(); return h-tcache < uint64(slots) || w.exited.Load() })
			if w.exited.Load() {
				break
			}
		}
		slot := mem[ringData+int(h%uint64(slots))*size:][:size]
		if size > 8 {
			copy(slot, payload)
		}
		binary.LittleEndian.PutUint64(slot, uint64(i))
		h++
		head.Store(h)
	}
	spinWait(func() bool { return done.Load() != 0 || w.exited.Load() })
	d := time.Since(t)
	if err := w.wait(); err != nil {
		return 0, fmt.Errorf("ring consumer: %w", err)
	}
	if done.Load() == 0 {
		return 0, errors.New("ring consumer exited early")
	}
	return d, nil
}

func floorQueueSmall(b *bench) (float64, error) {
	n := b.n(200_000, 50_000)
	d, err := floorRing(n, 64, 1024)
	return rate(n, d), err
}

func floorQueue1MiB(b *bench) (float64, error) {
	n := b.n(200, 50)
	d, err := floorRing(n, MiB, 4)
	return mbPerS(n, d), err
}

// ---- locks

func floorLockUncontended(b *bench) (float64, error) {
	k := b.n(10_000_000, 2_000_000)
	var w atomic.Uint32
	t := time.Now()
	for range k {
		for !w.CompareAndSwap(0, 1) {
		}
		w.Store(0)
	}
	return perOp(time.Since(t), k, time.Nanosecond), nil
}

// futexLock and futexUnlock are the classic three-state futex mutex (0 free, 1 locked,
// 2 locked with waiters) with a short spin before sleeping.
func futexLock(w *atomic.Uint32) {
	if w.CompareAndSwap(0, 1) {
		return
	}
	for range 100 {
		if w.Load() == 0 && w.CompareAndSwap(0, 1) {
			return
		}
	}
	for w.Swap(2) != 0 {
		shm.Wait((*uint32)(unsafe.Pointer(w)), 2, -1)
	}
}

func futexUnlock(w *atomic.Uint32) {
	if w.Add(^uint32(0)) != 0 {
		w.Store(0)
		shm.Wake((*uint32)(unsafe.Pointer(w)), 1)
	}
}

// The lock segment: lock word, counter, start and the two children's ready/done counts.
const (
	lockWord  = 0
	lockCount = 64
	lockGo    = 128
	lockReady = 192
	lockDone  = 256
	lockSize  = 4096
)

func floorLockContended(b *bench) (float64, error) {
	n := b.n(200_000, 50_000)
	seg, err := shm.Create("mpbench-lock", lockSize)
	if err != nil {
		return 0, err
	}
	defer seg.Close()
	mem := seg.Bytes()
	var kids []*childWatch
	defer func() {
		for _, k := range kids {
			k.cmd.Process.Kill()
			k.wait()
		}
	}()
	for range 2 {
		c, err := startFloorChild("lockinc", []string{strconv.Itoa(n)}, seg.File())
		if err != nil {
			return 0, err
		}
		kids = append(kids, watchChild(c))
	}
	ready, done, start := u32At(mem, lockReady), u32At(mem, lockDone), u32At(mem, lockGo)
	// A child that exited without counting itself in w died: stop waiting for it.
	dead := func(counted uint32) bool {
		var exited uint32
		for _, k := range kids {
			if k.exited.Load() {
				exited++
			}
		}
		return exited > counted
	}
	waitCount := func(w *atomic.Uint32, want uint32) {
		for v := w.Load(); v < want && !dead(v); v = w.Load() {
			shm.Wait((*uint32)(unsafe.Pointer(w)), v, 10*time.Millisecond)
		}
	}
	waitCount(ready, 2)
	t := time.Now()
	start.Store(1)
	shm.Wake((*uint32)(unsafe.Pointer(start)), 2)
	waitCount(done, 2)
	d := time.Since(t)
	for _, k := range kids {
		if err := k.wait(); err != nil {
			return 0, fmt.Errorf("lock child: %w", err)
		}
	}
	kids = nil
	if got := u64At(mem, lockCount).Load(); got != uint64(2*n) {
		return 0, fmt.Errorf("lost updates: counter %d, want %d", got, 2*n)
	}
	return rate(2*n, d), nil
}

// ---- idle RSS

// idleGoSource is the trivial Go program whose RSS is the idle-worker floor: it says it
// is up on fd 3, then blocks reading it.
const idleGoSource = `package main

import "os"

func main() {
	f := os.NewFile(3, "parent")
	f.Write([]byte{'u'})
	var b [1]byte
	f.Read(b[:])
}
`

// floorIdleBinary builds idleGoSource once per run with the go command, or, without one,
// falls back to this binary in its "idle" role (larger: it links mp and more).
func floorIdleBinary(b *bench) (string, error) {
	v, err := b.cached("floor-idle", func() (any, error) {
		if gocmd, err := exec.LookPath("go"); err == nil {
			dir, err := os.MkdirTemp("", "mpbench-idle-")
			if err != nil {
				return nil, err
			}
			b.onClose(func() { os.RemoveAll(dir) })
			src, bin := filepath.Join(dir, "idle.go"), filepath.Join(dir, "idle")
			if err := os.WriteFile(src, []byte(idleGoSource), 0o644); err != nil {
				return nil, err
			}
			cmd := exec.Command(gocmd, "build", "-o", bin, src)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GO111MODULE=off", "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			if err == nil {
				b.notef("idle_worker_rss_mib floor: a trivial Go program (built with %s)", runtime.Version())
				return bin, nil
			}
			fmt.Fprintf(b.log, "mpbench: building the idle Go program failed, using this binary: %v\n%s", err, out)
		}
		b.notef("idle_worker_rss_mib floor: this binary blocked in read (no go command to build a trivial one)")
		return "", nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func floorIdleRSS(b *bench) (float64, error) {
	bin, err := floorIdleBinary(b)
	if err != nil {
		return 0, err
	}
	var p *floorProc
	if bin == "" {
		p, err = startSocketChild("idle")
	} else {
		p, err = startSocketProgram(bin)
	}
	if err != nil {
		return 0, err
	}
	// The child answers once it is up, then blocks in read until EOF.
	var one [1]byte
	if _, err := readFull(p.fd, one[:]); err != nil {
		p.close()
		return 0, err
	}
	time.Sleep(200 * time.Millisecond)
	rss, err := rssMiB(p.cmd.Process.Pid)
	if cerr := p.close(); err == nil {
		err = cerr
	}
	return rss, err
}
