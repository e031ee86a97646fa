// Package psync holds mp's cross-process synchronisation algorithms. Each works on words
// in a shared mapping (see internal/shm), so goroutines of any process that maps the same
// memory synchronise with each other through futexes.
//
// # The mutex word
//
// A mutex is one uint32: 0 when free, otherwise the holder's pid, with the top bit set
// when some waiter may be asleep on it. Acquire is one CAS (0 -> pid) when uncontended;
// Release is one CAS (pid -> 0) when nobody waits, no syscall either way. Contended
// acquirers spin briefly, then sleep on the word with a bounded futex timeout (PollEvery);
// each time a sleep times out they check whether the recorded holder is still alive, and
// if not take the word over and report errs.ErrOwnerDead (the lock IS held then).
//
// Owner death is detected by pid: kill(pid, 0) == ESRCH, or a zombie in /proc/PID/stat.
// A pid reused by a new process before the check looks alive: recovery then waits for
// that process to exit. Pids fit in 31 bits on Linux (pid_max <= 2^22).
package psync

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/shm"
)

// WaitersBit is set in a mutex word while a waiter may be asleep on it.
const WaitersBit = 1 << 31

// PollEvery bounds every futex sleep, so a waiter notices a dead owner (and a ctx
// cancellation that raced its wake-up) within this much time.
const PollEvery = 50 * time.Millisecond

// Pid is this process's id, as recorded in the words it owns.
var Pid = uint32(os.Getpid())

// ErrNotHeld is returned by Unlock of a free mutex.
var ErrNotHeld = errs.ErrNotOwner

// TryLock takes a free mutex. It does not recover a word held by a dead process.
func TryLock(w *uint32) bool {
	return atomic.CompareAndSwapUint32(w, 0, Pid)
}

// Lock takes the mutex, waiting as long as ctx allows. It returns nil, or
// errs.ErrOwnerDead with the mutex held when its previous holder died holding it, or
// ctx.Err() with the mutex not held.
func Lock(ctx context.Context, w *uint32) error {
	if atomic.CompareAndSwapUint32(w, 0, Pid) {
		return nil
	}
	return lockSlow(ctx, w)
}

func lockSlow(ctx context.Context, w *uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Brief adaptive spin: most critical sections are short.
	for i := range 40 {
		v := atomic.LoadUint32(w)
		if v == 0 && atomic.CompareAndSwapUint32(w, 0, Pid) {
			return nil
		}
		if i >= 30 {
			runtime.Gosched()
		}
	}
	w8 := NewWaker(ctx, w)
	defer w8.Stop()
	for {
		v := atomic.LoadUint32(w)
		if v == 0 {
			// We may not be the only waiter: keep the bit so Unlock wakes the next one.
			if atomic.CompareAndSwapUint32(w, 0, Pid|WaitersBit) {
				return nil
			}
			continue
		}
		if v&WaitersBit == 0 && !atomic.CompareAndSwapUint32(w, v, v|WaitersBit) {
			continue
		}
		err := Sleep(ctx, w, v|WaitersBit)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if errors.Is(err, shm.ErrTimeout) {
			cur := atomic.LoadUint32(w)
			owner := cur &^ WaitersBit
			if cur != 0 && owner != Pid && !Alive(owner) &&
				atomic.CompareAndSwapUint32(w, cur, Pid|WaitersBit) {
				return errs.ErrOwnerDead
			}
		} else if err != nil {
			return err
		}
	}
}

// Unlock frees the mutex, whoever holds it, and wakes one waiter if there may be one.
// It returns ErrNotHeld if the mutex is free.
func Unlock(w *uint32) error {
	if atomic.CompareAndSwapUint32(w, Pid, 0) {
		return nil
	}
	for {
		v := atomic.LoadUint32(w)
		if v == 0 {
			return ErrNotHeld
		}
		if atomic.CompareAndSwapUint32(w, v, 0) {
			if v&WaitersBit != 0 {
				shm.Wake(w, 1)
			}
			return nil
		}
	}
}

// Owner returns the pid holding the mutex, 0 if free.
func Owner(w *uint32) uint32 { return atomic.LoadUint32(w) &^ WaitersBit }

// Sleep waits on *w while it equals val, for at most PollEvery and never past ctx's
// deadline. It returns nil on a wake (or a changed word), shm.ErrTimeout after a slice.
func Sleep(ctx context.Context, w *uint32, val uint32) error {
	d := PollEvery
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			if left <= 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				return context.DeadlineExceeded
			}
			d = left
		}
	}
	return shm.Wait(w, val, d)
}

// A Waker wakes every sleeper on a word when ctx is done, so a cancelled waiter does not
// sleep out its slice. Other sleepers on the word wake spuriously and sleep again.
type Waker struct{ stop func() bool }

// NewWaker arranges the wake-up; Stop it when done waiting.
func NewWaker(ctx context.Context, w *uint32) Waker {
	if ctx.Done() == nil {
		return Waker{}
	}
	return Waker{stop: context.AfterFunc(ctx, func() { shm.Wake(w, 1<<30) })}
}

// Stop cancels the wake-up.
func (k Waker) Stop() {
	if k.stop != nil {
		k.stop()
	}
}
