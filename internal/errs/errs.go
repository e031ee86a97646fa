// Package errs holds mp's sentinel errors and the wire form that lets an error cross a
// process boundary and keep its identity: an error from a child, a worker or the Manager
// is rebuilt as a *RemoteError (or *PanicError) whose Is matches the sentinel it wrapped.
package errs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
)

// A sentinel is an error with a stable code that survives the wire.
type sentinel struct{ code, msg string }

func (e *sentinel) Error() string { return e.msg }

// Code returns the wire code of a sentinel error.
func (e *sentinel) Code() string { return e.code }

var (
	byCode = map[string]error{}
	mu     sync.RWMutex
)

// New defines a sentinel with a wire code. Codes must be unique; a duplicate panics.
func New(code, msg string) error {
	e := &sentinel{code: code, msg: msg}
	Define(code, e)
	return e
}

// Define gives an existing error value (io.EOF, context.Canceled, a user's sentinel) a
// wire code, so errors.Is matches it after it crossed a process boundary.
func Define(code string, err error) {
	mu.Lock()
	defer mu.Unlock()
	if old, dup := byCode[code]; dup && old != err {
		panic(fmt.Sprintf("mp: error code %q defined twice", code))
	}
	byCode[code] = err
}

// Sentinels of package mp. Each one a caller branches on.
var (
	ErrClosed        = New("closed", "mp: use of a closed object")
	ErrEmpty         = New("empty", "mp: queue is empty")
	ErrFull          = New("full", "mp: queue is full")
	ErrTimeout       = New("timeout", "mp: timed out")
	ErrNotRegistered = New("not_registered", "mp: function is not registered")
	ErrNoMain        = New("no_main", "mp: mp.Main() was not called first in main or TestMain")
	ErrOwnerDead     = New("owner_dead", "mp: the previous owner died while holding it")
	ErrWorkerLost    = New("worker_lost", "mp: worker process died while running the task")
	ErrBrokenBarrier = New("broken_barrier", "mp: barrier is broken")
	ErrNotStarted    = New("not_started", "mp: process was not started")
	ErrStarted       = New("started", "mp: process was already started")
	ErrNotOwner      = New("not_owner", "mp: release of a lock not held by the caller")
	ErrTooManyCalls  = New("too_many_releases", "mp: released too many times")
	ErrDaemonic      = New("daemonic", "mp: a daemon process cannot have children")
)

func init() {
	Define("canceled", context.Canceled)
	Define("deadline_exceeded", context.DeadlineExceeded)
	Define("eof", io.EOF)
	Define("unexpected_eof", io.ErrUnexpectedEOF)
	Define("unsupported", errors.ErrUnsupported)
}

// Lookup returns the error defined for a wire code.
func Lookup(code string) (error, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := byCode[code]
	return e, ok
}

// codesOf returns the codes of every defined error that err matches with errors.Is.
func codesOf(err error) []string {
	mu.RLock()
	defer mu.RUnlock()
	var codes []string
	for code, s := range byCode {
		if errors.Is(err, s) {
			codes = append(codes, code)
		}
	}
	return codes
}

// RemoteError is an error that happened in another process (a child, a pool worker, the
// Manager). Is matches the mp sentinels (and io.EOF, context errors, and codes given
// with Define) that the original error matched.
type RemoteError struct {
	Codes   []string // wire codes of the sentinels the original matched
	Type    string   // Go type of the original error
	Message string   // the original's Error()
	Pid     int      // process it happened in, 0 if unknown
}

func (e *RemoteError) Error() string { return e.Message }

// Is reports whether the original error matched target.
func (e *RemoteError) Is(target error) bool {
	for _, c := range e.Codes {
		if s, ok := Lookup(c); ok && s == target {
			return true
		}
	}
	return false
}

// PanicError is a panic in another process: its value, printed, and the goroutine stack.
type PanicError struct {
	Value string
	Stack string
	Pid   int
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("mp: panic in process %d: %s", e.Pid, e.Value)
}

// Wire is the encoded form of an error.
type Wire struct {
	Panic   bool     `cbor:"1,keyasint,omitempty"`
	Codes   []string `cbor:"2,keyasint,omitempty"`
	Type    string   `cbor:"3,keyasint,omitempty"`
	Message string   `cbor:"4,keyasint,omitempty"`
	Stack   string   `cbor:"5,keyasint,omitempty"`
	Pid     int      `cbor:"6,keyasint,omitempty"`
}

// Encode turns err into its wire form (nil for nil).
func Encode(err error, pid int) *Wire {
	if err == nil {
		return nil
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return &Wire{Panic: true, Message: pe.Value, Stack: pe.Stack, Pid: pe.Pid}
	}
	var re *RemoteError
	if errors.As(err, &re) && re.Message == err.Error() {
		w := &Wire{Codes: re.Codes, Type: re.Type, Message: re.Message, Pid: re.Pid}
		return w
	}
	return &Wire{Codes: codesOf(err), Type: reflect.TypeOf(err).String(), Message: err.Error(), Pid: pid}
}

// Decode rebuilds an error from its wire form (nil for nil).
func Decode(w *Wire) error {
	if w == nil {
		return nil
	}
	if w.Panic {
		return &PanicError{Value: w.Message, Stack: w.Stack, Pid: w.Pid}
	}
	return &RemoteError{Codes: w.Codes, Type: w.Type, Message: w.Message, Pid: w.Pid}
}
