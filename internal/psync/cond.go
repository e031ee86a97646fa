package psync

import (
	"context"

	"github.com/mpgo/mp/internal/shm"
)

// CondCancelSlots is how many cancelled waits a condition remembers, so a later Notify
// does not spend a wake-up on a waiter that left.
const CondCancelSlots = 30

// Cond is a condition variable's waiting room, with tickets as in the Go runtime's
// notifyList: each waiter takes the next ticket (Enter), and Notify(n) moves Woken past
// the next n tickets still waiting, so exactly the n longest waiters wake and a waiter that
// comes later cannot take their turn. Guard protects the fields; Seq changes on every
// Notify and is the word waiters sleep on.
type Cond struct {
	Guard     uint32
	Seq       uint32
	Enter     uint32
	Woken     uint32
	NCanceled uint32
	Canceled  [CondCancelSlots]uint32
	_         uint32
}

func (c *Cond) guard()   { _ = Lock(context.Background(), &c.Guard) }
func (c *Cond) unguard() { _ = Unlock(&c.Guard) }

// Register takes a ticket; call it before releasing the user's lock.
func (c *Cond) Register() uint32 {
	c.guard()
	t := c.Enter
	c.Enter++
	c.unguard()
	return t
}

// Await sleeps until a Notify reaches ticket t (nil) or ctx is done (ctx.Err()). A
// notification that arrives with the cancellation wins.
func (c *Cond) Await(ctx context.Context, t uint32) error {
	wk := NewWaker(ctx, &c.Seq)
	defer wk.Stop()
	for {
		c.guard()
		if int32(c.Woken-t) > 0 {
			c.unguard()
			return nil
		}
		if err := ctx.Err(); err != nil {
			if t == c.Enter-1 {
				c.Enter--
			} else if c.NCanceled < CondCancelSlots {
				c.Canceled[c.NCanceled] = t
				c.NCanceled++
			}
			c.unguard()
			return err
		}
		seq := c.Seq
		c.unguard()
		_ = Sleep(ctx, &c.Seq, seq)
	}
}

// cancelledLocked reports whether ticket t left, forgetting it.
func (c *Cond) cancelledLocked(t uint32) bool {
	for i := range c.NCanceled {
		if c.Canceled[i] == t {
			c.NCanceled--
			c.Canceled[i] = c.Canceled[c.NCanceled]
			return true
		}
	}
	return false
}

// Notify wakes up to n waiters (all of them for n < 0) and returns how many it woke.
func (c *Cond) Notify(n int) int {
	c.guard()
	woke := 0
	for (n < 0 || woke < n) && c.Woken != c.Enter {
		if !c.cancelledLocked(c.Woken) {
			woke++
		}
		c.Woken++
	}
	if woke > 0 {
		c.Seq++
	}
	c.unguard()
	if woke > 0 {
		shm.Wake(&c.Seq, 1<<30)
	}
	return woke
}
