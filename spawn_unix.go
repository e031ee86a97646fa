//go:build unix

package mp

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/mpgo/mp/internal/wire"
)

// startChild re-executes this binary as a child running spec.fn. The child's end of a
// socketpair becomes its fd 3; the handles' files follow from fd 4.
func startChild(spec childSpec) (*child, error) {
	fds, err := socketpair()
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, err
	}
	ctrl := os.NewFile(uintptr(fds[0]), "mp-ctrl")
	childEnd := os.NewFile(uintptr(fds[1]), "mp-ctrl-child")
	defer childEnd.Close()

	exe, err := selfExecutable()
	if err != nil {
		ctrl.Close()
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{os.Args[0]}
	cmd.Env = append(os.Environ(), envChild+"="+protocolVersion)
	cmd.Stdout, cmd.Stderr = spec.stdout, spec.stderr
	cmd.ExtraFiles = make([]*os.File, 0, 1+len(spec.files))
	cmd.ExtraFiles = append(cmd.ExtraFiles, childEnd)
	ids := make([]uint64, len(spec.files))
	for i, f := range spec.files {
		cmd.ExtraFiles = append(cmd.ExtraFiles, f.F)
		ids[i] = f.ID
	}
	cmd.SysProcAttr = childSysProcAttr()
	if err := spawn(cmd); err != nil {
		ctrl.Close()
		return nil, err
	}
	msg, err := wire.Marshal(startMsg{
		Version: protocolVersion, Fn: spec.fn, Arg: spec.arg, Files: ids,
		Name: spec.name, Daemon: spec.daemon,
		ParentName: current.Name, ParentPid: os.Getpid(),
	})
	if err == nil {
		err = wire.WriteFrame(ctrl, kindStart, msg, maxCtrlFrame)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		ctrl.Close()
		return nil, fmt.Errorf("send start message: %w", err)
	}
	return &child{cmd: cmd, ctrl: ctrl}, nil
}

// childControl opens the child's end of its control socket.
func childControl(fd int) (*os.File, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("control socket: %w (was this process started by mp?)", err)
	}
	return os.NewFile(uintptr(fd), "mp-ctrl"), nil
}

// Children are forked from threads that never exit: Linux's parent-death signal fires
// when the forking thread exits, not the process (golang/go#27505).
const spawnThreads = 4

var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		for range spawnThreads {
			go spawner()
		}
	})
	r := spawnReq{cmd: cmd, done: make(chan error, 1)}
	spawnReqs <- r
	return <-r.done
}

func spawner() {
	runtime.LockOSThread() // never unlocked: this thread lives as long as the process
	for r := range spawnReqs {
		r.done <- r.cmd.Start()
	}
}
