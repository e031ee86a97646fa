package mp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mpgo/mp/internal/batch"
	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/ring"
	"github.com/mpgo/mp/internal/shm"
	"github.com/mpgo/mp/internal/wire"
)

// The pool protocol, on a worker's control socket after the start message. Every batch
// carries a sequence number; a worker runs batches in the order it receives them, and
// streams each batch's results (in item order) before it ends the batch.
const (
	// parent -> worker: seq u64 | len(fn) u16 | fn | CBOR array of the items
	kindPoolTask = kindPool + iota
	// parent -> worker: seq u64. Stop that batch, cancel its context.
	kindPoolCancel
	// worker -> parent: seq u64 | pos u32 | n u32 | last u8 | CBOR array of n results for
	// the items from pos. last ends the batch.
	kindPoolResults
	// worker -> parent: seq u64 | pos u32 | CBOR errs.Wire: item pos failed.
	kindPoolItemErr
	// worker -> parent: seq u64 | pos u32 | CBOR errs.Wire: items pos.. all failed; ends the batch.
	kindPoolBatchErr
)

const (
	poolWorkerFn     = "mp.poolworker"
	poolResultsHdr   = 8 + 4 + 4 + 1
	poolErrHdr       = 8 + 4
	poolPosDecoding  = 0xFFFFFFFF
	poolFlushEvery   = 20 * time.Millisecond // a running batch sends its finished results this often
	poolWorkerOutCap = 4 << 20
	poolWriteAt      = 32 << 10 // results this big are written at once, not batched with later ones
)

// poolWorkerArg is a worker's start argument.
type poolWorkerArg struct {
	Init     string `cbor:"1,keyasint,omitempty"` // initializer's registered name
	InitArg  []byte `cbor:"2,keyasint,omitempty"`
	Progress uint64 `cbor:"3,keyasint,omitempty"` // file id of the shared progress word, 0 if none
	MemLimit int64  `cbor:"4,keyasint,omitempty"` // bytes, 0 if none
	Tasks    uint64 `cbor:"5,keyasint,omitempty"` // file id of the ring of frames to the worker, 0: the socket
	Results  uint64 `cbor:"6,keyasint,omitempty"` // file id of the ring of frames from the worker
}

// poolBatchFunc runs one batch in a worker: it decodes the items, calls the function on
// each and appends result frames to run.out. It is made by register for every function.
type poolBatchFunc func(ctx context.Context, run *poolRun, items []byte)

func init() {
	registry[poolWorkerFn] = &entry{name: poolWorkerFn, source: "package mp", serve: poolServe}
}

// poolRun is the state of the batch a worker is running.
type poolRun struct {
	seq   uint64
	stop  atomic.Bool  // the parent cancelled the batch
	flush *atomic.Bool // set every poolFlushEvery: send the results so far
	prog  *uint64      // shared with the parent: (seq<<32 | pos) of the running item
	out   *poolWorkerOut
}

// at publishes the running position. A plain store: the word is aligned, and the reader
// is another process, which sees either the old or the new value.
func (r *poolRun) at(pos uint32) {
	*r.prog = uint64(uint32(r.seq))<<32 | uint64(pos)
}

// newPoolBatch returns the typed batch runner of a registered function. fn is the
// function as registered: when it is a plain func(A) R, items call it directly.
func newPoolBatch[A, R any](call func(context.Context, A) (R, error), fn any) poolBatchFunc {
	plain, _ := fn.(func(A) R)
	// Buffers reused from batch to batch: a worker runs one batch at a time.
	var items []A
	var results []R
	return func(ctx context.Context, run *poolRun, payload []byte) {
		run.at(poolPosDecoding)
		if err := poolDecodeSlice(payload, &items); err != nil {
			run.out.batchErr(run.seq, 0, fmt.Errorf("mp: pool worker: decode items: %w", err))
			return
		}
		if cap(results) < len(items) {
			results = make([]R, 0, len(items)) // at once, not by doubling
		}
		b := poolBatch[A, R]{run: run, call: call, plain: plain, items: items, results: results[:0]}
		for b.next < len(items) && !b.stopped {
			b.span(ctx)
		}
		if !b.stopped {
			poolAppendResults(run.out, run.seq, b.from, b.results, true)
		}
		if cap(items) > poolReuseMax {
			items = nil
		}
		results = b.results
		if cap(results) > poolReuseMax {
			results = nil
		}
	}
}

// poolReuseMax is the largest batch buffer a worker keeps between batches.
const poolReuseMax = 1 << 20

// poolBatch is the state of one batch in a worker.
type poolBatch[A, R any] struct {
	run     *poolRun
	call    func(context.Context, A) (R, error)
	plain   func(A) R // set for a function registered with RegisterFunc
	items   []A
	results []R // results of the items from position from
	from    int
	next    int // the next item to run
	stopped bool
}

// span runs items from b.next until the end of the batch, a cancellation, or a panic,
// which fails the item that raised it: a defer per span rather than per item.
func (b *poolBatch[A, R]) span(ctx context.Context) {
	run := b.run
	defer func() {
		if x := recover(); x != nil {
			b.failed(b.next, &PanicError{Value: fmt.Sprint(x), Stack: string(debug.Stack()), Pid: os.Getpid()})
			b.next++
		}
	}()
	items, results := b.items, b.results
	for i := b.next; i < len(items); i++ {
		b.next = i
		if run.stop.Load() {
			b.results = results
			if len(results) > 0 {
				poolAppendResults(run.out, run.seq, b.from, results, false)
			}
			run.out.batchErr(run.seq, i, context.Canceled)
			b.stopped = true
			return
		}
		if run.flush.Load() {
			run.flush.Store(false)
			if len(results) > 0 {
				poolAppendResults(run.out, run.seq, b.from, results, false)
				results, b.from = results[:0], i
				run.out.write()
			}
		}
		run.at(uint32(i))
		b.results = results // current, should the item panic
		if b.plain != nil {
			results = append(results, b.plain(items[i]))
			continue
		}
		r, err := b.call(ctx, items[i])
		if err != nil {
			b.failed(i, err)
			results = b.results
			continue
		}
		results = append(results, r)
	}
	b.results = results
	b.next = len(items)
}

// failed sends the results so far, then item i's error.
func (b *poolBatch[A, R]) failed(i int, err error) {
	if len(b.results) > 0 {
		poolAppendResults(b.run.out, b.run.seq, b.from, b.results, false)
		b.results = b.results[:0]
	}
	b.run.out.itemErr(b.run.seq, i, err)
	b.from = i + 1
}

// poolAppendResults appends a results frame; results the codec refuses fail one by one.
func poolAppendResults[R any](out *poolWorkerOut, seq uint64, pos int, results []R, last bool) {
	start := len(out.buf)
	out.buf = append(out.buf, make([]byte, wire.HeaderSize+poolResultsHdr)...)
	var err error
	if len(results) == 0 {
		out.buf = append(out.buf, 0x80) // the empty array, whatever R is
	} else {
		out.buf, err = poolEncodeSlice(out.buf, results)
	}
	if err == nil {
		h := out.buf[start:]
		wire.PutHeader(h, kindPoolResults, len(out.buf)-start-wire.HeaderSize)
		h = h[wire.HeaderSize:]
		binary.LittleEndian.PutUint64(h, seq)
		binary.LittleEndian.PutUint32(h[8:], uint32(pos))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(results)))
		h[16] = poolBool(last)
		return
	}
	out.buf = out.buf[:start]
	if len(results) == 1 {
		out.itemErr(seq, pos, fmt.Errorf("mp: result: %w", err))
		if last {
			poolAppendResults(out, seq, pos+1, results[:0], true)
		}
		return
	}
	for i := range results {
		poolAppendResults(out, seq, pos+i, results[i:i+1], last && i == len(results)-1)
	}
}

// poolEncodeSlice appends the CBOR array of s: by hand for scalars, else by the codec.
func poolEncodeSlice[T any](dst []byte, s []T) ([]byte, error) {
	if out, ok := batch.Append(dst, s); ok {
		return out, nil
	}
	return wire.AppendMarshal(dst, s)
}

// poolDecodeSlice decodes a CBOR array into *dst, reusing its backing array.
func poolDecodeSlice[T any](b []byte, dst *[]T) error {
	if batch.Decode(b, dst) {
		return nil
	}
	return wire.Unmarshal(b, dst)
}

func poolBool(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// poolWorkerOut buffers a worker's outgoing frames.
type poolWorkerOut struct {
	f    *os.File
	ring *ring.Ring // when set, frames go through it, not f
	ctx  context.Context
	buf  []byte
	err  error
}

// poolWorkerRings maps a worker's rings from their file ids.
func poolWorkerRings(tasks, results uint64) (rx, tx *ring.Ring, err error) {
	open := func(id uint64) (*ring.Ring, error) {
		f, err := wire.Lookup(id)
		if err != nil {
			return nil, err
		}
		return ring.Open(f)
	}
	if rx, err = open(tasks); err != nil {
		return nil, nil, err
	}
	if tx, err = open(results); err != nil {
		rx.Release()
		return nil, nil, err
	}
	return rx, tx, nil
}

func (o *poolWorkerOut) errFrame(kind byte, seq uint64, pos int, err error) {
	b, merr := wire.Marshal(errs.Encode(err, os.Getpid()))
	if merr != nil {
		b, _ = wire.Marshal(errs.Encode(errors.New(err.Error()), os.Getpid()))
	}
	start := len(o.buf)
	o.buf = append(o.buf, make([]byte, wire.HeaderSize+poolErrHdr)...)
	o.buf = append(o.buf, b...)
	h := o.buf[start:]
	wire.PutHeader(h, kind, len(o.buf)-start-wire.HeaderSize)
	binary.LittleEndian.PutUint64(h[wire.HeaderSize:], seq)
	binary.LittleEndian.PutUint32(h[wire.HeaderSize+8:], uint32(pos))
}

func (o *poolWorkerOut) itemErr(seq uint64, pos int, err error) {
	o.errFrame(kindPoolItemErr, seq, pos, err)
}

func (o *poolWorkerOut) batchErr(seq uint64, pos int, err error) {
	o.errFrame(kindPoolBatchErr, seq, pos, err)
}

func (o *poolWorkerOut) write() {
	if len(o.buf) == 0 || o.err != nil {
		return
	}
	if o.ring != nil {
		o.err = poolEachFrame(o.buf, func(kind byte, payload []byte) error {
			return o.ring.Put(o.ctx, kind, payload, true)
		})
	} else {
		_, o.err = o.f.Write(o.buf)
	}
	if cap(o.buf) > poolWorkerOutCap {
		o.buf = nil
	} else {
		o.buf = o.buf[:0]
	}
}

type poolWorkerTask struct {
	seq     uint64
	fn      string
	payload []byte
}

// poolServe is a pool worker's life: set limits, run the initializer, then run batches
// until the parent closes the control socket.
func poolServe(ctx context.Context, ctrl *os.File, argBytes []byte) error {
	var arg poolWorkerArg
	if err := wire.Unmarshal(argBytes, &arg); err != nil {
		return fmt.Errorf("mp: pool worker: start argument: %w", err)
	}
	var progWord uint64
	prog := &progWord
	if arg.Progress != 0 {
		f, err := wire.Lookup(arg.Progress)
		if err != nil {
			return fmt.Errorf("mp: pool worker: %w", err)
		}
		seg, err := shm.Map(f)
		if err != nil {
			return fmt.Errorf("mp: pool worker: map progress word: %w", err)
		}
		prog = (*uint64)(unsafe.Pointer(&seg.Bytes()[0]))
	}
	if arg.MemLimit > 0 {
		if err := poolSetMemLimit(arg.MemLimit); err != nil {
			return fmt.Errorf("mp: pool worker: memory limit: %w", err)
		}
	}
	if arg.Init != "" {
		e, err := lookupFunc(arg.Init, nil)
		if err == nil {
			err = callSafely(func() error { _, err := e.invoke(ctx, arg.InitArg); return err })
		}
		if err != nil {
			return fmt.Errorf("mp: pool initializer %q: %w", arg.Init, err)
		}
	}

	var (
		mu        sync.Mutex
		current   *poolRun
		cancelled = map[uint64]func(){}
	)
	tasks := make(chan poolWorkerTask, 256)
	// parseTask decodes a task frame's payload, which it keeps.
	parseTask := func(payload []byte) (poolWorkerTask, bool) {
		if len(payload) < 10 {
			return poolWorkerTask{}, false
		}
		seq := binary.LittleEndian.Uint64(payload)
		n := int(binary.LittleEndian.Uint16(payload[8:]))
		if len(payload) < 10+n {
			return poolWorkerTask{}, false
		}
		return poolWorkerTask{seq: seq, fn: string(payload[10 : 10+n]), payload: payload[10+n:]}, true
	}
	// dispatch applies one frame from the parent; false on a protocol error.
	dispatch := func(kind byte, payload []byte) bool {
		switch kind {
		case kindPoolTask:
			t, ok := parseTask(payload)
			if !ok {
				return false
			}
			tasks <- t
		case kindPoolCancel:
			if len(payload) < 8 {
				return false
			}
			seq := binary.LittleEndian.Uint64(payload)
			mu.Lock()
			if current != nil && current.seq == seq {
				current.stop.Store(true)
				if c := cancelled[seq]; c != nil {
					c()
				}
			} else if current == nil || seq > current.seq {
				cancelled[seq] = nil
			}
			mu.Unlock()
		}
		return true
	}
	out := &poolWorkerOut{f: ctrl}
	// next returns the next task, flushing the results first if it must wait for one.
	next := func() (t poolWorkerTask, ok bool) {
		select {
		case t, ok = <-tasks:
		default:
			out.write()
			t, ok = <-tasks
		}
		return t, ok
	}
	if arg.Tasks != 0 {
		rx, tx, err := poolWorkerRings(arg.Tasks, arg.Results)
		if err != nil {
			return fmt.Errorf("mp: pool worker: %w", err)
		}
		// Tasks come through the ring, which this goroutine reads itself: no hand-off.
		// The socket carries the parent's cancellations; its end of stream means the
		// parent is gone.
		rctx, rcancel := context.WithCancel(ctx)
		defer rcancel()
		go func() {
			defer rcancel()
			r := bufio.NewReaderSize(ctrl, 4096)
			for {
				kind, payload, err := wire.ReadFrame(r, maxCtrlFrame, nil)
				if err != nil || kind == kindPoolTask || !dispatch(kind, payload) {
					return
				}
			}
		}()
		out.ring, out.ctx = tx, rctx
		var buf []byte // the running task's frame: a worker runs one task at a time
		rx.SetStreamBuffer(func(n int) []byte {
			if cap(buf) < n {
				buf = make([]byte, 0, n)
			}
			return buf[:0]
		})
		next = func() (poolWorkerTask, bool) {
			var t poolWorkerTask
			okTask := false
			consume := func(kind byte, p []byte, owned bool) error {
				if !owned {
					if cap(buf) > poolReuseMax {
						buf = nil
					}
					buf = append(buf[:0], p...)
					p = buf
				}
				if kind == kindPoolCancel {
					dispatch(kind, p)
					return nil
				}
				if kind == kindPoolTask {
					t, okTask = parseTask(p)
					if !okTask {
						return errors.New("mp: pool worker: bad task frame")
					}
				}
				return nil
			}
			for !okTask {
				err := rx.Get(nil, false, consume)
				if errors.Is(err, ring.ErrEmpty) {
					out.write()
					if out.err != nil {
						return t, false
					}
					err = rx.Get(rctx, true, consume)
				}
				if err != nil {
					return t, false
				}
			}
			return t, true
		}
	} else {
		go func() {
			defer close(tasks)
			r := bufio.NewReaderSize(ctrl, 64<<10)
			for {
				kind, payload, err := wire.ReadFrame(r, maxCtrlFrame, nil)
				if err != nil || !dispatch(kind, payload) {
					return
				}
			}
		}()
	}

	var flush atomic.Bool
	tick := time.NewTicker(poolFlushEvery)
	defer tick.Stop()
	go func() {
		for range tick.C {
			flush.Store(true)
		}
	}()

	fns := map[string]poolBatchFunc{}
	for {
		var t poolWorkerTask
		var ok bool
		if len(out.buf) >= poolWriteAt {
			out.write() // big results go now: the parent is waiting to send more work
		}
		t, ok = next()
		if !ok || out.err != nil {
			out.write()
			return nil
		}
		run := &poolRun{seq: t.seq, flush: &flush, prog: prog, out: out}
		batch, found := fns[t.fn]
		if !found {
			e, err := lookupFunc(t.fn, nil)
			if err == nil && e.batch == nil {
				err = fmt.Errorf("mp: %q cannot run in a pool", t.fn)
			}
			if err != nil {
				out.batchErr(t.seq, 0, err)
				continue
			}
			batch = e.batch
			fns[t.fn] = batch
		}
		bctx, cancel := context.WithCancel(ctx)
		mu.Lock()
		_, stop := cancelled[t.seq]
		for s := range cancelled {
			if s <= t.seq {
				delete(cancelled, s)
			}
		}
		current = run
		cancelled[t.seq] = cancel
		mu.Unlock()
		if stop {
			out.batchErr(t.seq, 0, context.Canceled)
		} else {
			flush.Store(false)
			batch(bctx, run, t.payload)
		}
		mu.Lock()
		current = nil
		delete(cancelled, t.seq)
		mu.Unlock()
		cancel()
	}
}
