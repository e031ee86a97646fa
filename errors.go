package mp

import (
	"fmt"
	"syscall"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/wire"
)

// Sentinel errors. Each keeps its identity for errors.Is after crossing a process
// boundary: an error that a child, a pool worker or the Manager returns arrives as a
// *RemoteError whose Is matches the sentinels the original matched.
var (
	ErrClosed        = errs.ErrClosed        // use of a closed Process, Conn, Pool, Queue or handle
	ErrEmpty         = errs.ErrEmpty         // TryGet on an empty queue
	ErrFull          = errs.ErrFull          // TryPut on a full queue
	ErrTimeout       = errs.ErrTimeout       // a deadline passed (also matches context.DeadlineExceeded where a ctx expired)
	ErrNotRegistered = errs.ErrNotRegistered // a Func that Register did not create
	ErrNoMain        = errs.ErrNoMain        // a child was started but mp.Main() was never called
	ErrOwnerDead     = errs.ErrOwnerDead     // a lock's holder died; the caller now holds it
	ErrWorkerLost    = errs.ErrWorkerLost    // a pool worker died while running the task
	ErrBrokenBarrier = errs.ErrBrokenBarrier // a Barrier was aborted or a party died
	ErrNotStarted    = errs.ErrNotStarted    // Wait, Kill or Terminate on a Process never started
	ErrStarted       = errs.ErrStarted       // Start called twice
	ErrNotOwner      = errs.ErrNotOwner      // release of a lock the caller does not hold
	ErrTooManyCalls  = errs.ErrTooManyCalls  // a BoundedSemaphore or JoinableQueue released too often
	ErrDaemonic      = errs.ErrDaemonic      // a daemon process tried to start a child
	ErrFrameTooLarge = wire.ErrFrameTooLarge // a message over the configured frame maximum
)

// RemoteError is an error returned by a function that ran in another process. Its Is
// matches the mp sentinels (and io.EOF, context.Canceled, context.DeadlineExceeded)
// that the original error matched; Message and Type describe the original.
type RemoteError = errs.RemoteError

// PanicError is a panic in another process, with the panic value and the stack of the
// goroutine that panicked.
type PanicError = errs.PanicError

// EncodeError reports a value the codec cannot encode, naming its Go type.
type EncodeError = wire.EncodeError

// DecodeError reports bytes that could not be decoded into the named Go type.
type DecodeError = wire.DecodeError

// ExitError reports a child that exited with a non-zero status or was killed by a
// signal without reporting an error of its own.
type ExitError struct {
	Pid    int
	Code   int            // Python's convention: the exit status, or -N for signal N
	Signal syscall.Signal // the signal that killed it, or 0
}

func (e *ExitError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("mp: process %d killed by signal %d (%v)", e.Pid, int(e.Signal), e.Signal)
	}
	return fmt.Sprintf("mp: process %d exited with status %d", e.Pid, e.Code)
}
