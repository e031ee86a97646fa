package mp

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// envChild marks a re-executed child; its value is the protocol version.
const (
	envChild        = "MP_CHILD"
	protocolVersion = "mp1"
	ctrlFD          = 3 // the child's end of its control socket
	firstFileFD     = 4 // handles' files follow, in the order of startMsg.Files
)

// Frame kinds on a child's control socket.
const (
	kindStart  = wire.KindUser + iota // parent -> child: startMsg
	kindResult                        // child -> parent: resultMsg
	kindPool                          // pool protocol frames start here
)

// maxCtrlFrame caps frames on the control socket.
const maxCtrlFrame = wire.DefaultMaxFrame

type startMsg struct {
	Version    string   `cbor:"1,keyasint"`
	Fn         string   `cbor:"2,keyasint"`
	Arg        []byte   `cbor:"3,keyasint"`
	Files      []uint64 `cbor:"4,keyasint,omitempty"`
	Name       string   `cbor:"5,keyasint"`
	Daemon     bool     `cbor:"6,keyasint,omitempty"`
	ParentName string   `cbor:"7,keyasint"`
	ParentPid  int      `cbor:"8,keyasint"`
}

type resultMsg struct {
	Err *errs.Wire `cbor:"1,keyasint,omitempty"`
}

// Main must be the first statement of main, and of TestMain in every package whose
// tests start processes. In the parent it returns at once. In a child started by this
// package it runs the requested function and exits: 0 on success, 1 when the function
// returned an error or panicked (the error reaches the parent), 2 when the start
// message itself was bad.
func Main() {
	if os.Getenv(envChild) == "" {
		mainCalled.Store(true)
		return
	}
	mainCalled.Store(true)
	os.Unsetenv(envChild)
	os.Exit(runChild())
}

func runChild() int {
	ctrl, err := childControl(ctrlFD)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mp: child: %v\n", err)
		return 2
	}
	kind, payload, err := wire.ReadFrame(ctrl, maxCtrlFrame, nil)
	var msg startMsg
	if err == nil && kind != kindStart {
		err = fmt.Errorf("unexpected frame kind %d", kind)
	}
	if err == nil {
		err = wire.Unmarshal(payload, &msg)
	}
	if err == nil && msg.Version != protocolVersion {
		err = fmt.Errorf("protocol %q, this binary speaks %q", msg.Version, protocolVersion)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mp: child: bad start message: %v\n", err)
		return 2
	}
	for i, id := range msg.Files {
		wire.Install(id, os.NewFile(uintptr(firstFileFD+i), fmt.Sprintf("mp-file-%d", i)))
	}
	current = ProcessInfo{Name: msg.Name, Daemon: msg.Daemon}
	parent = &ProcessInfo{Name: msg.ParentName, Pid: msg.ParentPid}

	e, err := lookupFunc(msg.Fn, nil)
	if err != nil {
		writeResult(ctrl, err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if e.serve != nil {
		// A service (a pool worker) owns the control socket from here on.
		err = callSafely(func() error { return e.serve(ctx, ctrl, msg.Arg) })
		if err != nil {
			writeResult(ctrl, err)
			return 1
		}
		return 0
	}
	// The parent never writes after the start message: EOF means it is gone.
	go func() {
		io.Copy(io.Discard, ctrl)
		os.Exit(1)
	}()
	err = callSafely(func() error { _, err := e.invoke(ctx, msg.Arg); return err })
	writeResult(ctrl, err)
	if err != nil {
		return 1
	}
	return 0
}

// callSafely runs fn, turning a panic into a *PanicError with the panicking stack.
func callSafely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: fmt.Sprint(r), Stack: string(debug.Stack()), Pid: os.Getpid()}
		}
	}()
	return fn()
}

func writeResult(w io.Writer, err error) {
	b, merr := wire.Marshal(resultMsg{Err: errs.Encode(err, os.Getpid())})
	if merr != nil {
		b, _ = wire.Marshal(resultMsg{Err: errs.Encode(fmt.Errorf("%s (%v)", err, merr), os.Getpid())})
	}
	wire.WriteFrame(w, kindResult, b, maxCtrlFrame)
}

// readResult reads the child's result frame; false when the child exited without one.
func readResult(r io.Reader) (resultMsg, bool) {
	var res resultMsg
	kind, payload, err := wire.ReadFrame(r, maxCtrlFrame, nil)
	if err != nil || kind != kindResult {
		return res, false
	}
	if err := wire.Unmarshal(payload, &res); err != nil {
		res.Err = errs.Encode(fmt.Errorf("mp: undecodable result from child: %w", err), 0)
	}
	return res, true
}

func decodeRemote(w *errs.Wire) error { return errs.Decode(w) }
