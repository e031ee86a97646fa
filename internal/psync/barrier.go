package psync

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/shm"
)

// BarrierSlots is how many waiting parties' pids a barrier records for owner-death checks.
const BarrierSlots = 120

// Barrier lets Parties parties meet. Each generation ends exactly once, by the last
// arrival (Gen++) or by a break (Gen++, BrokenGen = the generation broken). Guard
// protects the rest; Gen is the word waiters sleep on.
type Barrier struct {
	Guard     uint32
	Gen       uint32
	Parties   uint32
	Count     uint32
	Broken    uint32
	BrokenGen uint32
	HasBroken uint32
	_         uint32
	Pids      [BarrierSlots]uint32
}

func (b *Barrier) guard()   { _ = Lock(context.Background(), &b.Guard) }
func (b *Barrier) unguard() { _ = Unlock(&b.Guard) }

// Wait arrives at the barrier and waits for the others. It returns the arrival index
// (0 for the first), or errs.ErrBrokenBarrier if the barrier is or becomes broken: by
// Abort, Reset, a waiting party that died, or a party whose ctx ended (that party gets
// an error matching both ErrBrokenBarrier and ctx.Err()).
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	b.guard()
	if b.Broken != 0 {
		b.unguard()
		return 0, errs.ErrBrokenBarrier
	}
	g := b.Gen
	idx := b.Count
	b.Count++
	if idx < BarrierSlots {
		b.Pids[idx] = Pid
	}
	if b.Count >= b.Parties {
		b.Count = 0
		atomic.AddUint32(&b.Gen, 1)
		b.unguard()
		shm.Wake(&b.Gen, 1<<30)
		return int(idx), nil
	}
	b.unguard()
	wk := NewWaker(ctx, &b.Gen)
	defer wk.Stop()
	for {
		err := Sleep(ctx, &b.Gen, g)
		b.guard()
		if atomic.LoadUint32(&b.Gen) != g {
			broken := b.HasBroken != 0 && b.BrokenGen == g
			b.unguard()
			if broken {
				return int(idx), errs.ErrBrokenBarrier
			}
			return int(idx), nil
		}
		if cerr := ctx.Err(); cerr != nil {
			b.breakLocked()
			b.unguard()
			return int(idx), fmt.Errorf("%w: %w", errs.ErrBrokenBarrier, cerr)
		}
		if errors.Is(err, shm.ErrTimeout) {
			for i := range min(b.Count, BarrierSlots) {
				if p := b.Pids[i]; p != Pid && !Alive(p) {
					b.breakLocked()
					b.unguard()
					return int(idx), errs.ErrBrokenBarrier
				}
			}
		}
		b.unguard()
	}
}

func (b *Barrier) breakLocked() {
	b.Broken = 1
	b.BrokenGen = b.Gen
	b.HasBroken = 1
	b.Count = 0
	atomic.AddUint32(&b.Gen, 1)
	shm.Wake(&b.Gen, 1<<30)
}

// Abort breaks the barrier: waiters and later arrivals get ErrBrokenBarrier until Reset.
func (b *Barrier) Abort() {
	b.guard()
	b.breakLocked()
	b.unguard()
}

// Reset returns the barrier to its empty state; parties waiting now get ErrBrokenBarrier.
func (b *Barrier) Reset() {
	b.guard()
	if b.Count > 0 {
		b.breakLocked()
	}
	b.Broken = 0
	b.unguard()
}

// NWaiting returns how many parties wait now.
func (b *Barrier) NWaiting() int {
	b.guard()
	defer b.unguard()
	return int(b.Count)
}

// IsBroken reports whether the barrier is broken.
func (b *Barrier) IsBroken() bool {
	b.guard()
	defer b.unguard()
	return b.Broken != 0
}
