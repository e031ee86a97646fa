package mp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/mpgo/mp/internal/wire"
)

// Process runs a registered function in a child process: the same binary, re-executed,
// whose mp.Main() finds the function by name and runs it with the decoded argument. It is
// Python's multiprocessing.Process: Start, then Wait (join).
//
// A Process is safe for concurrent use. Its methods other than Start and Close may be
// called from any goroutine at any time; Kill and Terminate are safe to call twice.
type Process struct {
	name   string
	daemon bool
	fnName string
	handle any
	encode func() ([]byte, []*wire.File, error)
	stdout io.Writer
	stderr io.Writer

	mu      sync.Mutex
	started bool
	closed  bool
	cmd     *exec.Cmd
	ctrl    *os.File
	pid     int
	done    chan struct{}

	// Set once done is closed.
	err      error
	exitCode int
}

// ProcessOption configures a Process.
type ProcessOption func(*Process) error

// WithName sets the process name (default "Process-N", as in Python).
func WithName(name string) ProcessOption {
	return func(p *Process) error {
		if name == "" {
			return errors.New("mp: WithName: empty name")
		}
		p.name = name
		return nil
	}
}

// WithDaemon marks the process as a daemon: like Python's, it may not start children of
// its own. Every child of mp, daemon or not, dies with its parent.
func WithDaemon(daemon bool) ProcessOption {
	return func(p *Process) error { p.daemon = daemon; return nil }
}

// WithStdout sends the child's standard output to w instead of this process's.
func WithStdout(w io.Writer) ProcessOption {
	return func(p *Process) error {
		if w == nil {
			return errors.New("mp: WithStdout: nil writer")
		}
		p.stdout = w
		return nil
	}
}

// WithStderr sends the child's standard error to w instead of this process's.
func WithStderr(w io.Writer) ProcessOption {
	return func(p *Process) error {
		if w == nil {
			return errors.New("mp: WithStderr: nil writer")
		}
		p.stderr = w
		return nil
	}
}

var processCounter atomic.Int64

// NewProcess describes a run of fn(arg) in a child process; Start starts it. The
// argument is encoded when Start is called. Handles that carry OS resources (Pipe ends,
// shared memory, locks, queues) may be anywhere inside arg: they travel to the child.
func NewProcess[A, R any](fn *Func[A, R], arg A, opts ...ProcessOption) *Process {
	p := &Process{
		name:   childName(processCounter.Add(1)),
		stdout: os.Stdout,
		stderr: os.Stderr,
		done:   make(chan struct{}),
	}
	if fn != nil {
		p.fnName, p.handle = fn.name, fn
	}
	p.encode = func() ([]byte, []*wire.File, error) {
		b, err := wire.Marshal(arg)
		if err != nil {
			return nil, nil, err
		}
		return b, wire.Collect(arg), nil
	}
	for _, o := range opts {
		if err := o(p); err != nil {
			p.encode = func() ([]byte, []*wire.File, error) { return nil, nil, err }
			break
		}
	}
	return p
}

// Name returns the process name.
func (p *Process) Name() string { return p.name }

// Daemon reports whether the process is a daemon.
func (p *Process) Daemon() bool { return p.daemon }

// Start starts the child. It fails, starting nothing, when mp.Main() was not called
// (ErrNoMain), the function is not registered (ErrNotRegistered), the argument cannot be
// encoded (*EncodeError), the process was started before (ErrStarted) or closed.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("mp: start %s: %w", p.name, ErrClosed)
	}
	if p.started {
		return fmt.Errorf("mp: start %s: %w", p.name, ErrStarted)
	}
	if !mainCalled.Load() {
		return fmt.Errorf("mp: start %s: %w", p.name, ErrNoMain)
	}
	if current.Daemon {
		return fmt.Errorf("mp: start %s: %w", p.name, ErrDaemonic)
	}
	if _, err := lookupFunc(p.fnName, p.handle); err != nil {
		return fmt.Errorf("mp: start %s: %w", p.name, err)
	}
	arg, files, err := p.encode()
	if err != nil {
		return fmt.Errorf("mp: start %s: argument of %q: %w", p.name, p.fnName, err)
	}
	c, err := startChild(childSpec{
		fn: p.fnName, arg: arg, files: files, name: p.name, daemon: p.daemon,
		stdout: p.stdout, stderr: p.stderr,
	})
	if err != nil {
		return fmt.Errorf("mp: start %s: %w", p.name, err)
	}
	p.started = true
	p.cmd, p.ctrl, p.pid = c.cmd, c.ctrl, c.cmd.Process.Pid
	children.add(p)
	go p.reap()
	return nil
}

// reap waits for the child's result and exit, then closes done.
func (p *Process) reap() {
	res, gotResult := readResult(p.ctrl)
	waitErr := p.cmd.Wait()
	p.ctrl.Close()
	code, sig := exitStatus(p.cmd.ProcessState)
	var err error
	switch {
	case gotResult && res.Err != nil:
		err = fmt.Errorf("mp: process %s (pid %d): %w", p.name, p.pid, decodeRemote(res.Err))
	case sig != 0 || code != 0:
		err = &ExitError{Pid: p.pid, Code: code, Signal: sig}
	case waitErr != nil && p.cmd.ProcessState == nil:
		err = fmt.Errorf("mp: wait for %s: %w", p.name, waitErr)
	}
	p.mu.Lock()
	p.err, p.exitCode = err, code
	p.mu.Unlock()
	children.remove(p)
	close(p.done)
}

func exitStatus(st *os.ProcessState) (code int, sig syscall.Signal) {
	if st == nil {
		return -1, 0
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal()), ws.Signal()
	}
	return st.ExitCode(), 0
}

// Wait waits for the process to exit (Python's join) and returns why it failed: nil
// after a clean exit; the function's own error as a *RemoteError, a panic as a
// *PanicError (both wrapped with the process name); an *ExitError for a non-zero exit or
// a signal. When ctx ends first, Wait returns ctx.Err() and the process keeps running:
// a ctx deadline is the join timeout.
func (p *Process) Wait(ctx context.Context) error {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return fmt.Errorf("mp: wait %s: %w", p.name, ErrNotStarted)
	}
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel closed when the process has exited and its status is known
// (Python's sentinel). It is never closed for a process that was not started.
func (p *Process) Done() <-chan struct{} { return p.done }

// Pid returns the child's process id, or 0 before Start.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// ExitCode returns the exit code and true once the process has exited: 0 on success,
// the exit status otherwise, and -N when signal N killed it (Python's convention). While
// the process runs, or before Start, it returns 0, false.
func (p *Process) ExitCode() (int, bool) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.exitCode, true
	default:
		return 0, false
	}
}

// Alive reports whether the process was started and has not exited.
func (p *Process) Alive() bool {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Terminate sends SIGTERM (Python's terminate). On an exited process it does nothing.
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM) }

// Kill sends SIGKILL (Python's kill). On an exited process it does nothing.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

func (p *Process) signal(sig os.Signal) error {
	p.mu.Lock()
	started, cmd := p.started, p.cmd
	p.mu.Unlock()
	if !started {
		return fmt.Errorf("mp: signal %s: %w", p.name, ErrNotStarted)
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("mp: signal %s: %w", p.name, err)
	}
	return nil
}

// Close releases the Process. It fails while the process is still running; it is
// idempotent afterwards. A closed Process cannot be started.
func (p *Process) Close() error {
	if p.Alive() {
		return fmt.Errorf("mp: close %s: process %d is still running", p.name, p.Pid())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// childSpec is what startChild needs to start one child.
type childSpec struct {
	fn     string
	arg    []byte
	files  []*wire.File
	name   string
	daemon bool
	stdout io.Writer
	stderr io.Writer
}

type child struct {
	cmd  *exec.Cmd
	ctrl *os.File // the parent's end of the control socket
}

// ProcessInfo describes a process: this one (CurrentProcess) or its parent.
type ProcessInfo struct {
	Name   string // "MainProcess" for the program's first process
	Pid    int
	Daemon bool
}

var current = ProcessInfo{Name: "MainProcess"}
var parent *ProcessInfo

// CurrentProcess describes the calling process.
func CurrentProcess() ProcessInfo {
	c := current
	c.Pid = os.Getpid()
	return c
}

// ParentProcess describes the process that started this one; false in the main process.
func ParentProcess() (ProcessInfo, bool) {
	if parent == nil {
		return ProcessInfo{}, false
	}
	return *parent, true
}

func childName(n int64) string {
	if current.Name == "MainProcess" {
		return fmt.Sprintf("Process-%d", n)
	}
	return fmt.Sprintf("%s:%d", current.Name, n)
}

// CPUCount returns the number of CPUs this process may run on.
func CPUCount() int { return runtime.NumCPU() }

// childSet is the set of children started and not yet exited. It is package state
// because ActiveChildren is, by definition, about the whole process.
type childSet struct {
	mu  sync.Mutex
	set map[*Process]struct{}
}

var children = childSet{set: map[*Process]struct{}{}}

func (s *childSet) add(p *Process)    { s.mu.Lock(); s.set[p] = struct{}{}; s.mu.Unlock() }
func (s *childSet) remove(p *Process) { s.mu.Lock(); delete(s.set, p); s.mu.Unlock() }

// ActiveChildren returns the processes this process started that have not exited.
func ActiveChildren() []*Process {
	children.mu.Lock()
	defer children.mu.Unlock()
	out := make([]*Process, 0, len(children.set))
	for p := range children.set {
		out = append(out, p)
	}
	return out
}
