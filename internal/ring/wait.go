package ring

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mpgo/mp/internal/shm"
)

// Waiting is a short spin (another process on another CPU usually answers within a
// fraction of a microsecond) and then a futex sleep. Sleeps are bounded by tick, after
// which the waiter re-checks its peers: a dead lock holder is taken over, an abandoned
// message repaired.
const (
	spinIters = 4000
	tick      = 50 * time.Millisecond
)

// wait returns nil once cond() is true, or ctx's error. seq is the futex word the other
// side bumps and wakes after changing what cond reads; waiters counts the sleepers so the
// other side wakes only when someone sleeps. onTick runs after each sleep that timed out.
func wait(ctx context.Context, seq, waiters *uint32, cond func() bool, onTick func()) error {
	for i := range spinIters {
		if cond() {
			return nil
		}
		if i&255 == 255 {
			runtime.Gosched()
		}
	}
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		s := atomic.LoadUint32(seq)
		atomic.AddUint32(waiters, 1)
		if cond() {
			atomic.AddUint32(waiters, ^uint32(0))
			return nil
		}
		if err := checkCtx(ctx); err != nil {
			atomic.AddUint32(waiters, ^uint32(0))
			return err
		}
		if stop == nil && ctx != nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, func() { wakeWord(seq, 1<<30) })
		}
		err := shm.Wait(seq, s, tick)
		atomic.AddUint32(waiters, ^uint32(0))
		if err != nil && err != shm.ErrTimeout {
			return err
		}
		if err == shm.ErrTimeout && onTick != nil {
			onTick()
		}
	}
}

// wakeWord bumps a futex word and wakes up to n sleepers on it.
func wakeWord(seq *uint32, n int) {
	atomic.AddUint32(seq, 1)
	shm.Wake(seq, n)
}

// notify wakes up to n sleepers on seq if there are any.
func notify(seq, waiters *uint32, n int) {
	if atomic.LoadUint32(waiters) != 0 {
		wakeWord(seq, n)
	}
}

// A lock is a mutex in shared memory whose word is its holder's pid, so a waiter can
// tell a holder that died and take the lock over.
type lock struct {
	owner   uint32 // pid of the holder, 0 when free
	seq     uint32 // bumped on release
	waiters uint32
}

func (l *lock) tryLock(pid uint32) bool {
	return atomic.LoadUint32(&l.owner) == 0 && atomic.CompareAndSwapUint32(&l.owner, 0, pid)
}

func (l *lock) unlock() {
	atomic.StoreUint32(&l.owner, 0)
	notify(&l.seq, &l.waiters, 1)
}

func (l *lock) wakeAll() { wakeWord(&l.seq, 1<<30) }

// reap takes the lock over from a holder that died. It reports whether it did.
func (l *lock) reap(pid uint32) bool {
	o := atomic.LoadUint32(&l.owner)
	return o != 0 && o != pid && !alive(int(o)) && atomic.CompareAndSwapUint32(&l.owner, o, pid)
}

// acquire takes the lock, waiting for it unless block is false (then it spins a little
// and reports false).
func (l *lock) acquire(ctx context.Context, pid uint32, block bool) (bool, error) {
	if l.tryLock(pid) {
		return true, nil
	}
	if !block {
		for i := range spinIters {
			if l.tryLock(pid) {
				return true, nil
			}
			if i&255 == 255 {
				runtime.Gosched()
			}
		}
		return false, nil
	}
	reaped := false
	err := wait(ctx, &l.seq, &l.waiters,
		func() bool { return reaped || l.tryLock(pid) },
		func() { reaped = l.reap(pid) })
	return err == nil, err
}
