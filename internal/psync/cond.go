package psync

import (
	"context"

	"github.com/mpgo/mp/internal/shm"
)

// Cond is a condition variable's waiting room. Notify hands out tokens, at most one per
// registered sleeper; a sleeper returns from Await when it takes a token. Guard protects
// Sleepers and Tokens; Seq changes on every Notify and is the word sleepers wait on.
type Cond struct {
	Guard    uint32
	Seq      uint32
	Sleepers uint32
	Tokens   uint32
}

func (c *Cond) guard()   { _ = Lock(context.Background(), &c.Guard) }
func (c *Cond) unguard() { _ = Unlock(&c.Guard) }

// Register counts the caller as a sleeper; call it before releasing the user's lock.
func (c *Cond) Register() uint32 {
	c.guard()
	c.Sleepers++
	s := c.Seq
	c.unguard()
	return s
}

// Await sleeps until a Notify gives the caller a token (nil) or ctx is done (ctx.Err()).
// A token that arrives with the cancellation wins.
func (c *Cond) Await(ctx context.Context, seq uint32) error {
	wk := NewWaker(ctx, &c.Seq)
	defer wk.Stop()
	for {
		c.guard()
		if c.Tokens > 0 {
			c.Tokens--
			c.Sleepers--
			c.unguard()
			return nil
		}
		if err := ctx.Err(); err != nil {
			c.Sleepers--
			c.unguard()
			return err
		}
		seq = c.Seq
		c.unguard()
		_ = Sleep(ctx, &c.Seq, seq)
	}
}

// Notify wakes up to n sleepers (all of them for n < 0) and returns how many it woke.
func (c *Cond) Notify(n int) int {
	c.guard()
	k := int(c.Sleepers - c.Tokens)
	if n >= 0 && n < k {
		k = n
	}
	if k <= 0 {
		c.unguard()
		return 0
	}
	c.Tokens += uint32(k)
	c.Seq++
	c.unguard()
	shm.Wake(&c.Seq, k)
	return k
}
