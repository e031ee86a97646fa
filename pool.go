package mp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"syscall"
	"time"

	"github.com/mpgo/mp/internal/errs"
	"github.com/mpgo/mp/internal/sched"
	"github.com/mpgo/mp/internal/wire"
)

// Pool is a set of worker processes that run registered functions on many items:
// Python's multiprocessing.Pool. Map, Imap, ImapUnordered, Apply, ApplyAsync and MapAsync
// hand it work; Close, Terminate and Wait end it.
//
// Workers are started by NewPool and reused across calls. A worker that dies while running
// an item (killed, crashed, out of memory) fails that item alone with ErrWorkerLost and is
// replaced; every other item still runs. Items are sent in batches (chunks); a worker
// streams results as it goes and reports which item it is running, so a loss re-runs the
// unfinished items of its batch rather than failing them.
//
// Functions take one argument: Python's starmap is Map over a struct of the arguments.
// Scalar items and results (ints, floats, bools) travel in a hand-written CBOR fast path;
// everything else goes through mp's codec, one array per batch.
//
// A Pool is safe for concurrent use by many goroutines of the process that created it. It
// cannot be passed to another process (encoding one is an error), and a pool worker cannot
// start a pool of its own (ErrDaemonic). Its zero value is not usable: make one with
// NewPool. A Pool that is no longer needed must be closed (Close then Wait) or terminated,
// or its workers live as long as this process. Callbacks (OnResult, OnError, WithProgress)
// run on the pool's goroutines: they must return quickly and must not call Terminate or
// Wait.
type Pool struct {
	cfg       poolConfig
	transport poolTransport

	mu      sync.Mutex
	cond    sync.Cond
	queue   sched.Queue[poolJob]
	state   poolState
	broken  error // set when workers cannot be started or initialized: all work fails with it
	workers map[*poolWorker]struct{}
	live    int // workers started and not yet reaped
	nextSeq uint64
	nameSeq int

	goroutines sync.WaitGroup
	done       chan struct{} // closed once closed or terminated and every worker is reaped
	doneOnce   sync.Once
}

type poolState int

const (
	poolOpen poolState = iota
	poolClosing
	poolTerminated
)

type poolConfig struct {
	workers     int
	initFn      string
	initHandle  any
	initArg     func() ([]byte, []*wire.File, error)
	maxTasks    int
	taskTimeout time.Duration
	memLimit    int64
	retries     int
	logger      *slog.Logger
	stdout      io.Writer
	stderr      io.Writer
}

// PoolOption configures a Pool.
type PoolOption func(*poolConfig) error

// WithWorkers sets the number of worker processes (default CPUCount()). It must be at least 1.
func WithWorkers(n int) PoolOption {
	return func(c *poolConfig) error {
		if n < 1 {
			return fmt.Errorf("mp: WithWorkers(%d): a pool needs at least one worker", n)
		}
		c.workers = n
		return nil
	}
}

// WithInitializer runs fn(arg) once in each worker when it starts, before any task
// (Python's initializer/initargs). The argument may carry handles (Pipe ends, shared
// memory): they travel to every worker. If the initializer fails in a worker, the pool is
// broken: pending and later tasks fail with that error.
func WithInitializer[A, R any](fn *Func[A, R], arg A) PoolOption {
	return func(c *poolConfig) error {
		if fn == nil {
			return fmt.Errorf("mp: WithInitializer: %w: nil function", ErrNotRegistered)
		}
		c.initFn, c.initHandle = fn.name, fn
		c.initArg = func() ([]byte, []*wire.File, error) {
			b, err := wire.Marshal(arg)
			if err != nil {
				return nil, nil, err
			}
			return b, wire.Collect(arg), nil
		}
		return nil
	}
}

// WithMaxTasksPerWorker replaces a worker after it has run n tasks (Python's
// maxtasksperchild). A task is one batch: one Apply, or one chunk of a Map.
func WithMaxTasksPerWorker(n int) PoolOption {
	return func(c *poolConfig) error {
		if n < 1 {
			return fmt.Errorf("mp: WithMaxTasksPerWorker(%d): must be at least 1", n)
		}
		c.maxTasks = n
		return nil
	}
}

// WithTaskTimeout is a hard limit on how long one item may run. An item that overruns
// fails with ErrTimeout; its worker is killed and replaced, and the other items it held
// run elsewhere.
func WithTaskTimeout(d time.Duration) PoolOption {
	return func(c *poolConfig) error {
		if d <= 0 {
			return fmt.Errorf("mp: WithTaskTimeout(%v): must be positive", d)
		}
		c.taskTimeout = d
		return nil
	}
}

// WithMemoryLimit limits the memory each worker may allocate to n bytes beyond what it
// holds once started (Linux: RLIMIT_DATA, which counts the Go heap). A task that exceeds it
// kills its worker: the task fails with ErrWorkerLost, the worker is replaced. Other
// systems: NewPool fails with errors.ErrUnsupported.
func WithMemoryLimit(n int64) PoolOption {
	return func(c *poolConfig) error {
		if n <= 0 {
			return fmt.Errorf("mp: WithMemoryLimit(%d): must be positive", n)
		}
		if err := poolSetMemLimitSupported(); err != nil {
			return fmt.Errorf("mp: WithMemoryLimit: %w", err)
		}
		c.memLimit = n
		return nil
	}
}

// WithRetries runs an item again, up to n times, when its worker is lost while running
// it. Timeouts are not retried.
func WithRetries(n int) PoolOption {
	return func(c *poolConfig) error {
		if n < 0 {
			return fmt.Errorf("mp: WithRetries(%d): must not be negative", n)
		}
		c.retries = n
		return nil
	}
}

// WithLogger logs the pool's life (workers started, lost, replaced) to l. Default: nothing.
func WithLogger(l *slog.Logger) PoolOption {
	return func(c *poolConfig) error {
		if l == nil {
			return errors.New("mp: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithPoolStdout and WithPoolStderr send the workers' output to w instead of this process's.
func WithPoolStdout(w io.Writer) PoolOption {
	return func(c *poolConfig) error {
		if w == nil {
			return errors.New("mp: WithPoolStdout: nil writer")
		}
		c.stdout = w
		return nil
	}
}

// WithPoolStderr: see WithPoolStdout.
func WithPoolStderr(w io.Writer) PoolOption {
	return func(c *poolConfig) error {
		if w == nil {
			return errors.New("mp: WithPoolStderr: nil writer")
		}
		c.stderr = w
		return nil
	}
}

// NewPool starts a pool of worker processes (Python's Pool(processes)). It fails, starting
// nothing, on a bad option, an unregistered initializer, an initializer argument the codec
// cannot encode, or when mp.Main() was not called.
func NewPool(opts ...PoolOption) (*Pool, error) {
	cfg := poolConfig{workers: CPUCount(), stdout: os.Stdout, stderr: os.Stderr}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return newPool(cfg, poolLocal{})
}

func newPool(cfg poolConfig, tr poolTransport) (*Pool, error) {
	if !mainCalled.Load() {
		return nil, fmt.Errorf("mp: new pool: %w", ErrNoMain)
	}
	if current.Daemon {
		return nil, fmt.Errorf("mp: new pool: %w", ErrDaemonic)
	}
	if cfg.initFn != "" {
		if _, err := lookupFunc(cfg.initFn, cfg.initHandle); err != nil {
			return nil, fmt.Errorf("mp: new pool: initializer: %w", err)
		}
		if _, _, err := cfg.initArg(); err != nil {
			return nil, fmt.Errorf("mp: new pool: initializer argument: %w", err)
		}
	}
	p := &Pool{cfg: cfg, transport: tr, workers: map[*poolWorker]struct{}{}, done: make(chan struct{})}
	p.cond.L = &p.mu
	// Workers start in parallel: most of a start is the child's exec and runtime start.
	errc := make(chan error, cfg.workers)
	for range cfg.workers {
		go func() { errc <- p.startWorker() }()
	}
	var startErr error
	for range cfg.workers {
		if err := <-errc; err != nil && startErr == nil {
			startErr = err
		}
	}
	if startErr != nil {
		p.Terminate()
		return nil, fmt.Errorf("mp: new pool: %w", startErr)
	}
	if cfg.taskTimeout > 0 {
		p.goroutines.Add(1)
		go p.watchTimeouts()
	}
	return p, nil
}

// Workers returns the number of worker processes the pool keeps running.
func (p *Pool) Workers() int { return p.cfg.workers }

// Pids returns the process ids of the pool's live workers.
func (p *Pool) Pids() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, 0, len(p.workers))
	for w := range p.workers {
		out = append(out, w.pid)
	}
	return out
}

// MarshalCBOR refuses to encode a Pool: it belongs to the process that created it.
func (p *Pool) MarshalCBOR() ([]byte, error) {
	return nil, errors.New("mp: a Pool cannot be passed to another process; it is used only by the process that created it")
}

// Close stops the pool from taking new work (which then fails with ErrClosed). Work
// already submitted runs to completion; then the workers exit. Close does not wait: Wait
// does. Close is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.state == poolOpen {
		p.state = poolClosing
	}
	p.cond.Broadcast()
	p.checkDoneLocked()
	p.mu.Unlock()
	return nil
}

// Terminate stops the workers now (SIGKILL) and waits until they are gone. Pending and
// running tasks fail with ErrClosed. Terminate is idempotent.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	var dropped []*sched.Task[poolJob]
	var ws []*poolWorker
	if p.state != poolTerminated {
		p.state = poolTerminated
		dropped = p.queue.Remove(func(*sched.Task[poolJob]) bool { return true })
		for w := range p.workers {
			ws = append(ws, w)
		}
	}
	p.cond.Broadcast()
	p.checkDoneLocked()
	p.mu.Unlock()
	for _, t := range dropped {
		t.Job.fail(t.Lo, t.Hi, poolClosedErr)
	}
	for _, w := range ws {
		w.conn.kill()
	}
	<-p.done
	p.goroutines.Wait()
	return nil
}

var poolClosedErr = fmt.Errorf("mp: pool terminated: %w", ErrClosed)

// Wait waits until the pool's workers have exited after Close or Terminate (Python's
// join). Called before either, it fails at once. When ctx ends first it returns ctx.Err()
// and the pool carries on.
func (p *Pool) Wait(ctx context.Context) error {
	p.mu.Lock()
	open := p.state == poolOpen
	p.mu.Unlock()
	if open {
		return errors.New("mp: pool Wait before Close or Terminate")
	}
	select {
	case <-p.done:
		p.goroutines.Wait()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkDoneLocked closes done once the pool is ending and no worker is left.
func (p *Pool) checkDoneLocked() {
	if p.state != poolOpen && p.live == 0 {
		p.doneOnce.Do(func() { close(p.done) })
	}
}

// submit queues tasks, or says why it cannot.
func (p *Pool) submit(tasks []*sched.Task[poolJob]) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usableLocked(); err != nil {
		return err
	}
	if len(tasks) == 1 && p.queue.Len() == 0 {
		// An idle worker takes the task from the caller: no hand-off to its sender. The
		// one that finished last: it may still be spinning for work, while the others
		// sleep (spinning workers would take the CPUs the caller needs).
		var best *poolWorker
		for w := range p.workers {
			if w.idleLocked() && (best == nil || w.lastEnd.After(best.lastEnd)) {
				best = w
			}
		}
		if w := best; w != nil {
			seq := w.assignLocked(tasks[0])
			w.sending = true
			p.mu.Unlock()
			w.sendTasks(nil, tasks, []uint64{seq})
			p.mu.Lock()
			w.sending = false
			if p.queue.Len() > 0 || p.state != poolOpen {
				p.cond.Broadcast() // its sender may have waited on the hand-off
			}
			return nil
		}
	}
	p.queue.Push(tasks...)
	p.cond.Broadcast()
	return nil
}

func (p *Pool) usableLocked() error {
	switch {
	case p.state == poolTerminated:
		return poolClosedErr
	case p.state == poolClosing:
		return fmt.Errorf("mp: pool closed: %w", ErrClosed)
	case p.broken != nil:
		return p.broken
	}
	return nil
}

// check reports whether the pool can take work for fn.
func (p *Pool) check(name string, handle any) error {
	if p == nil {
		return errors.New("mp: nil Pool")
	}
	if _, err := lookupFunc(name, handle); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.usableLocked()
}

// cancelJob drops a job's queued tasks and stops its running ones: the worker cancels the
// task's context and skips the rest of its batch; with kill, workers running it are killed
// and replaced.
func (p *Pool) cancelJob(j poolJob, kill bool) {
	p.mu.Lock()
	p.queue.Remove(func(t *sched.Task[poolJob]) bool { return t.Job == j })
	type cancel struct {
		w   *poolWorker
		seq uint64
	}
	var cs []cancel
	var kills []*poolWorker
	for w := range p.workers {
		for i, f := range w.inflight {
			if f.Task.Job != j || w.dead {
				continue
			}
			if kill && i == 0 {
				w.killedFor = j
				kills = append(kills, w)
			}
			cs = append(cs, cancel{w, w.seqs[i]})
		}
	}
	p.mu.Unlock()
	for _, c := range cs {
		var b [wire.HeaderSize + 8]byte
		wire.PutHeader(b[:], kindPoolCancel, 8)
		binary.LittleEndian.PutUint64(b[wire.HeaderSize:], c.seq)
		c.w.conn.send(b[:])
	}
	for _, w := range kills {
		w.conn.kill()
	}
}

func (p *Pool) logf(msg string, args ...any) {
	if p.cfg.logger != nil {
		p.cfg.logger.Info(msg, args...)
	}
}

// WorkerLostError is the error of an item whose worker died while running it. It
// matches ErrWorkerLost with errors.Is.
type WorkerLostError struct {
	Pid    int
	Code   int            // exit status, or -N for signal N
	Signal syscall.Signal // the signal that killed it, or 0
}

func (e *WorkerLostError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("mp: worker process %d died while running the task: killed by signal %d (%v)", e.Pid, int(e.Signal), e.Signal)
	}
	return fmt.Sprintf("mp: worker process %d died while running the task: exit status %d", e.Pid, e.Code)
}

// Is matches ErrWorkerLost.
func (e *WorkerLostError) Is(target error) bool { return target == ErrWorkerLost }

// poolWorker is the parent's side of one worker.
type poolWorker struct {
	p    *Pool
	conn poolConn
	pid  int

	// Guarded by p.mu.
	inflight  []sched.Inflight[poolJob] // sent, in send order
	seqs      []uint64                  // full sequence numbers of inflight
	items     int                       // items in inflight
	sent      int                       // tasks sent, for maxTasks
	dead      bool                      // its receiver saw it go
	closing   bool                      // no more work will be sent
	sending   bool                      // tasks assigned to it are being sent: no one else may assign
	timedOut  bool                      // killed by the timeout watch
	killedFor poolJob                   // killed to cancel this job
	lastWord  sched.Progress
	lastSeen  time.Time
	sentAt    []time.Time   // when each inflight task was sent
	lastEnd   time.Time     // when the last task ended
	service   time.Duration // moving average of a task's time in the worker
}

// poolFastTask is the task time under which a worker pipelines small tasks deeply.
const poolFastTask = 200 * time.Microsecond

// mayTakeLocked reports whether w may take another task of n items now.
func (w *poolWorker) mayTakeLocked(n int) bool {
	if len(w.inflight) == 0 {
		return true
	}
	for o := range w.p.workers {
		if o != w && len(o.inflight) == 0 && !o.dead && !o.closing &&
			(w.p.cfg.maxTasks == 0 || o.sent < w.p.cfg.maxTasks) {
			return false // an idle worker takes it
		}
	}
	return sched.Admit(len(w.inflight), w.items, n, w.service < poolFastTask)
}

// endedLocked records the time the head task took.
func (w *poolWorker) endedLocked(now time.Time) {
	start := w.sentAt[0]
	if w.lastEnd.After(start) {
		start = w.lastEnd
	}
	w.lastEnd = now
	w.service = (w.service + now.Sub(start)) / 2
}

func (p *Pool) startWorker() error {
	p.mu.Lock()
	p.nameSeq++
	name := fmt.Sprintf("PoolWorker-%d", p.nameSeq)
	p.mu.Unlock()
	spec := poolWorkerSpec{name: name, arg: poolWorkerArg{MemLimit: p.cfg.memLimit}, stdout: p.cfg.stdout, stderr: p.cfg.stderr}
	if p.cfg.initFn != "" {
		b, files, err := p.cfg.initArg()
		if err != nil {
			return fmt.Errorf("initializer argument: %w", err)
		}
		spec.arg.Init, spec.arg.InitArg, spec.files = p.cfg.initFn, b, files
	}
	conn, err := p.transport.start(spec)
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	w := &poolWorker{p: p, conn: conn, pid: conn.pid(), service: 10 * time.Millisecond}
	p.mu.Lock()
	p.workers[w] = struct{}{}
	p.live++
	p.goroutines.Add(2)
	p.cond.Broadcast()
	terminated := p.state == poolTerminated
	p.mu.Unlock()
	if terminated {
		conn.kill() // Terminate ran while it started: its receiver settles it
	}
	p.logf("mp: pool worker started", "pid", w.pid, "name", name)
	go w.sendLoop()
	go w.recvLoop()
	return nil
}

// sendLoop hands the worker tasks from the queue as it has room for them.
func (w *poolWorker) sendLoop() {
	p := w.p
	defer p.goroutines.Done()
	var (
		buf   []byte
		batch []int // indexes into w.inflight of this round's tasks
	)
	for {
		p.mu.Lock()
		for {
			if w.dead || w.closing || p.state == poolTerminated {
				p.mu.Unlock()
				return
			}
			maxed := p.cfg.maxTasks > 0 && w.sent >= p.cfg.maxTasks
			if w.sending {
				p.cond.Wait() // a caller is handing it a task directly
				continue
			}
			if len(w.inflight) == 0 && (maxed || p.state == poolClosing && p.queue.Len() == 0) {
				w.closing = true
				p.mu.Unlock()
				w.conn.closeSend()
				return
			}
			if !maxed && p.queue.Len() > 0 && w.mayTakeLocked(1) {
				break
			}
			p.cond.Wait()
		}
		batch = batch[:0]
		for p.queue.Len() > 0 && (p.cfg.maxTasks == 0 || w.sent < p.cfg.maxTasks) {
			t, _ := p.queue.Pop()
			if t.Job.cancelled() {
				continue
			}
			if !w.mayTakeLocked(t.Len()) {
				p.queue.PushFront(t)
				break
			}
			w.assignLocked(t)
			batch = append(batch, len(w.inflight)-1)
		}
		tasks := make([]*sched.Task[poolJob], len(batch))
		seqs := make([]uint64, len(batch))
		for i, k := range batch {
			tasks[i], seqs[i] = w.inflight[k].Task, w.seqs[k]
		}
		w.sending = true
		p.mu.Unlock()

		var ok bool
		buf, ok = w.sendTasks(buf, tasks, seqs)
		p.mu.Lock()
		w.sending = false
		p.mu.Unlock()
		if !ok {
			return
		}
	}
}

// assignLocked makes t the worker's next task and returns its sequence number. The
// caller then sends it (and any other tasks it assigned) with w.sending set, so that the
// worker receives its tasks in the order of inflight.
func (w *poolWorker) assignLocked(t *sched.Task[poolJob]) uint64 {
	p := w.p
	p.nextSeq++
	w.sentAt = append(w.sentAt, time.Now())
	w.inflight = append(w.inflight, sched.Inflight[poolJob]{Task: t, Seq: uint32(p.nextSeq)})
	w.seqs = append(w.seqs, p.nextSeq)
	w.items += t.Len()
	w.sent++
	return p.nextSeq
}

// idleLocked reports whether w runs nothing and may be handed a task directly.
func (w *poolWorker) idleLocked() bool {
	return !w.dead && !w.closing && !w.sending && len(w.inflight) == 0 &&
		(w.p.cfg.maxTasks == 0 || w.sent < w.p.cfg.maxTasks)
}

// sendTasks encodes tasks and sends them; false when the worker is gone (its receiver
// requeues its tasks). buf is reused from call to call.
func (w *poolWorker) sendTasks(buf []byte, tasks []*sched.Task[poolJob], seqs []uint64) ([]byte, bool) {
	var (
		bad  []*sched.Task[poolJob]
		errs []error
	)
	buf = buf[:0]
	for i, t := range tasks {
		start := len(buf)
		name := t.Job.fnName()
		buf = append(buf, make([]byte, wire.HeaderSize+10)...)
		buf = append(buf, name...)
		binary.LittleEndian.PutUint64(buf[start+wire.HeaderSize:], seqs[i])
		binary.LittleEndian.PutUint16(buf[start+wire.HeaderSize+8:], uint16(len(name)))
		var err error
		buf, err = t.Job.encode(buf, t.Lo, t.Hi)
		if err != nil {
			buf = buf[:start]
			bad, errs = append(bad, t), append(errs, err)
			continue
		}
		wire.PutHeader(buf[start:], kindPoolTask, len(buf)-start-wire.HeaderSize)
	}
	if len(bad) > 0 && !w.dropUnsent(bad, errs) {
		return buf, false
	}
	if len(buf) > 0 {
		if err := w.conn.send(buf); err != nil {
			return buf, false
		}
	}
	if cap(buf) > 4<<20 {
		buf = nil
	}
	return buf, true
}

// dropUnsent takes tasks that could not be encoded back out of inflight. A task of one
// item fails with the encoding error; a bigger one is split so each item is tried alone.
// False when the worker is gone (its receiver has requeued everything).
func (w *poolWorker) dropUnsent(bad []*sched.Task[poolJob], errs []error) bool {
	p := w.p
	var fails []int
	p.mu.Lock()
	if w.dead {
		p.mu.Unlock()
		return false
	}
	for i, t := range bad {
		for k := len(w.inflight) - 1; k >= 0; k-- {
			if w.inflight[k].Task == t {
				w.inflight = append(w.inflight[:k], w.inflight[k+1:]...)
				w.seqs = append(w.seqs[:k], w.seqs[k+1:]...)
				w.sentAt = append(w.sentAt[:k], w.sentAt[k+1:]...)
				w.items -= t.Len()
				w.sent--
				break
			}
		}
		if t.Len() == 1 {
			fails = append(fails, i)
			continue
		}
		var singles []*sched.Task[poolJob]
		for k := t.Lo; k < t.Hi; k++ {
			singles = append(singles, &sched.Task[poolJob]{Job: t.Job, Lo: k, Hi: k + 1, Attempt: t.Attempt, Suspect: true})
		}
		p.queue.PushFront(singles...)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, i := range fails {
		bad[i].Job.fail(bad[i].Lo, bad[i].Hi, fmt.Errorf("mp: item %d: %w", bad[i].Lo, errs[i]))
	}
	return true
}

// recvLoop reads the worker's results until it goes, then settles its tasks.
func (w *poolWorker) recvLoop() {
	p := w.p
	defer p.goroutines.Done()
	var serviceErr error
	for {
		kind, payload, err := w.conn.recv()
		if err != nil {
			break
		}
		if kind == kindResult {
			// The worker's service failed (its initializer): it exits next.
			if res, ok := poolDecodeResult(payload); ok {
				serviceErr = res
			}
			continue
		}
		if !w.handle(kind, payload) {
			w.conn.kill()
			break
		}
	}
	w.lost(serviceErr)
}

func poolDecodeResult(payload []byte) (error, bool) {
	var res resultMsg
	if err := wire.Unmarshal(payload, &res); err != nil || res.Err == nil {
		return nil, false
	}
	return decodeRemote(res.Err), true
}

// handle applies one frame from the worker; false on a protocol error.
func (w *poolWorker) handle(kind byte, b []byte) bool {
	p := w.p
	if len(b) < poolErrHdr {
		return false
	}
	seq := binary.LittleEndian.Uint64(b)
	pos := int(binary.LittleEndian.Uint32(b[8:]))
	p.mu.Lock()
	if len(w.inflight) == 0 || w.seqs[0] != seq {
		p.mu.Unlock()
		return false
	}
	t := w.inflight[0].Task
	p.mu.Unlock()
	if pos > t.Len() {
		return false
	}
	end := false
	done := pos
	switch kind {
	case kindPoolResults:
		if len(b) < poolResultsHdr {
			return false
		}
		n := int(binary.LittleEndian.Uint32(b[12:]))
		end = b[16] != 0
		if pos+n > t.Len() {
			return false
		}
		if n > 0 {
			t.Job.deliver(t.Lo+pos, n, b[poolResultsHdr:])
		}
		done = pos + n
	case kindPoolItemErr, kindPoolBatchErr:
		var ew errs.Wire
		err := wire.Unmarshal(b[poolErrHdr:], &ew)
		var ierr error
		if err != nil {
			ierr = fmt.Errorf("mp: undecodable error from worker %d: %w", w.pid, err)
		} else {
			ierr = decodeRemote(&ew)
		}
		hi := t.Lo + pos + 1
		if kind == kindPoolBatchErr {
			hi, end = t.Hi, true
		}
		if t.Lo+pos < hi {
			t.Job.fail(t.Lo+pos, hi, ierr)
		}
		done = hi - t.Lo
	default:
		return false
	}
	p.mu.Lock()
	w.inflight[0].Done = done
	if end {
		w.items -= t.Len()
		w.endedLocked(time.Now())
		w.inflight[0] = sched.Inflight[poolJob]{}
		w.inflight = w.inflight[1:]
		w.seqs = w.seqs[1:]
		w.sentAt = w.sentAt[1:]
		if len(w.inflight) == 0 {
			w.inflight, w.seqs, w.sentAt = w.inflight[:0:0], w.seqs[:0:0], w.sentAt[:0:0]
		}
		p.cond.Broadcast()
	}
	p.mu.Unlock()
	return true
}

// lost settles a worker that is gone: reap it, plan what becomes of its tasks, and start
// a replacement unless the pool is ending.
func (w *poolWorker) lost(serviceErr error) {
	p := w.p
	code, sig := w.conn.wait()
	prog := w.conn.progress()
	p.mu.Lock()
	w.dead = true
	w.conn.release()
	inflight := w.inflight
	w.inflight, w.seqs, w.sentAt, w.items = nil, nil, nil, 0
	delete(p.workers, w)
	p.live--
	state := p.state
	if serviceErr != nil && p.broken == nil {
		p.broken = fmt.Errorf("mp: pool broken: worker %d: %w", w.pid, serviceErr)
	}
	broken := p.broken
	type failure struct {
		j      poolJob
		lo, hi int
		err    error
	}
	var fails []failure
	switch {
	case state == poolTerminated:
		for _, f := range inflight {
			if lo := f.Task.Lo + f.Done; lo < f.Task.Hi {
				fails = append(fails, failure{f.Task.Job, lo, f.Task.Hi, poolClosedErr})
			}
		}
	case broken != nil:
		for _, f := range inflight {
			if lo := f.Task.Lo + f.Done; lo < f.Task.Hi {
				fails = append(fails, failure{f.Task.Job, lo, f.Task.Hi, broken})
			}
		}
		for _, t := range p.queue.Remove(func(*sched.Task[poolJob]) bool { return true }) {
			fails = append(fails, failure{t.Job, t.Lo, t.Hi, broken})
		}
	default:
		cause := sched.Lost
		if w.timedOut {
			cause = sched.Timeout
		} else if w.closing && len(inflight) == 0 {
			cause = sched.Retired
		}
		plan := sched.PlanLoss(inflight, prog, cause, p.cfg.retries)
		requeue := plan.Requeue
		lostErr := &WorkerLostError{Pid: w.pid, Code: code, Signal: sig}
		for _, f := range plan.Failed {
			if w.killedFor != nil && f.Job != w.killedFor {
				// Killed to cancel another job: this item was not at fault.
				requeue = append(requeue, &sched.Task[poolJob]{Job: f.Job, Lo: f.Index, Hi: f.Index + 1})
				continue
			}
			var err error = lostErr
			if f.Timeout {
				err = fmt.Errorf("mp: item ran longer than %v; worker %d was killed: %w", p.cfg.taskTimeout, w.pid, ErrTimeout)
			}
			fails = append(fails, failure{f.Job, f.Index, f.Index + 1, err})
		}
		p.queue.PushFront(requeue...)
		if cause != sched.Retired {
			p.logf("mp: pool worker lost", "pid", w.pid, "code", code, "signal", int(sig), "failed", len(plan.Failed), "requeued", len(requeue))
		}
	}
	replace := state != poolTerminated && broken == nil && (state == poolOpen || p.queue.Len() > 0)
	if !replace {
		p.checkDoneLocked()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, f := range fails {
		f.j.fail(f.lo, f.hi, f.err)
	}
	if replace {
		if err := p.startWorker(); err != nil {
			p.breakWith(fmt.Errorf("mp: pool broken: %w", err))
		}
	}
}

// breakWith marks the pool broken and fails everything queued.
func (p *Pool) breakWith(err error) {
	p.mu.Lock()
	if p.broken == nil {
		p.broken = err
	}
	err = p.broken
	dropped := p.queue.Remove(func(*sched.Task[poolJob]) bool { return true })
	p.checkDoneLocked()
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, t := range dropped {
		t.Job.fail(t.Lo, t.Hi, err)
	}
}

// watchTimeouts kills workers whose running item has overrun the task timeout.
func (p *Pool) watchTimeouts() {
	defer p.goroutines.Done()
	every := min(max(p.cfg.taskTimeout/10, time.Millisecond), 100*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case now := <-tick.C:
			var kills []*poolWorker
			p.mu.Lock()
			for w := range p.workers {
				if w.dead || w.timedOut || len(w.inflight) == 0 {
					w.lastSeen = time.Time{}
					continue
				}
				pr := w.conn.progress()
				if pr.Pos == sched.Unknown {
					pr = sched.Progress{Seq: w.inflight[0].Seq, Pos: w.inflight[0].Done}
				}
				if w.lastSeen.IsZero() || pr != w.lastWord {
					w.lastWord, w.lastSeen = pr, now
					continue
				}
				if now.Sub(w.lastSeen) >= p.cfg.taskTimeout {
					w.timedOut = true
					kills = append(kills, w)
				}
			}
			p.mu.Unlock()
			for _, w := range kills {
				w.conn.kill()
			}
		}
	}
}

// poolJob is the untyped view of one Map, Imap or Apply call.
type poolJob interface {
	fnName() string
	// encode appends the CBOR array of items [lo, hi).
	encode(dst []byte, lo, hi int) ([]byte, error)
	// deliver decodes the CBOR array of results for items [lo, lo+n).
	deliver(lo, n int, results []byte)
	// fail fails items [lo, hi) with err.
	fail(lo, hi int, err error)
	// cancelled reports whether the job no longer wants results.
	cancelled() bool
}
