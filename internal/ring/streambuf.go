package ring

// SetStreamBuffer makes Get read a message that streams through the ring (one bigger than
// a quarter of the ring) into alloc(n) (whose capacity must be at least n) instead of a
// new slice: a reader that is done with each message before its next Get can reuse one
// buffer. Such a message is still handed over as owned. Call it before any Get, from the
// one goroutine that reads the ring.
func (r *Ring) SetStreamBuffer(alloc func(n int) []byte) { r.alloc = alloc }
