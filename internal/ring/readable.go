package ring

import "context"

// Readable reports whether the ring holds something to take (a message, or a chunk the
// next Get skips) or is closed.
func (r *Ring) Readable() bool { return !r.empty() || r.Closed() }

// WaitReadable waits, spinning briefly and then sleeping on the ring's futex, until
// Readable is true, or returns ctx's error.
func (r *Ring) WaitReadable(ctx context.Context) error {
	if r.Readable() {
		return nil
	}
	return wait(ctx, &r.h.dataSeq, &r.h.dataWaiters, r.Readable, nil)
}
