//go:build unix

package mp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/internal/wire"
)

var (
	poolInitCount int
	poolInitTag   string
	tPoolInit     = mp.Register("test.pool.init", func(tag string) { poolInitCount++; poolInitTag = tag })
	tPoolInitSeen = mp.RegisterFunc("test.pool.initseen", func(int) [2]int { return [2]int{os.Getpid(), poolInitCount} })
	tPoolInitTag  = mp.RegisterFunc("test.pool.inittag", func(int) string { return poolInitTag })
	tPoolInitPipe = mp.Register("test.pool.initpipe", func(c *mp.Conn) { c.Send(os.Getpid()) })
	tPoolInitFail = mp.Register("test.pool.initfail", func(string) { panic("initializer refuses") })
	tSleepItem    = mp.RegisterFunc("test.pool.sleepitem", func(x int) int { time.Sleep(time.Millisecond); return x + 1 })
	tAlloc        = mp.RegisterFunc("test.pool.alloc", func(mib int) int {
		b := make([]byte, mib<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		return len(b) >> 20
	})
	// tDieOnce dies the first time it sees a marker path, and succeeds the next.
	tDieOnce = mp.RegisterErr("test.pool.dieonce", func(marker string) (string, error) {
		if marker == "" {
			return "ok", nil
		}
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o600)
			os.Exit(3)
		}
		return "retried", nil
	})
	tBadResult = mp.RegisterFunc("test.pool.badresult", func(x int) poolBadResult { return poolBadResult{X: x} })
	tAnyItem   = mp.RegisterFunc("test.pool.anyitem", func(x any) int { return 1 })
)

// poolBadResult encodes but refuses to decode when X is 1.
type poolBadResult struct{ X int }

func (r *poolBadResult) UnmarshalCBOR(b []byte) error {
	var x struct{ X int }
	if err := wire.Unmarshal(b, &x); err != nil {
		return err
	}
	if x.X == 1 {
		return errors.New("result 1 is not welcome here")
	}
	r.X = x.X
	return nil
}

// A worker killing itself with SIGKILL on item 500 of 1,000: item 500 alone fails, with
// the signal; every other item is right; the pool carries on with a new worker.
func TestPoolWorkerKilledMidMap(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	before := p.Pids()
	got, err := mp.Map(ctx, p, tKillSelf, seq(1000))
	var me *mp.MapError
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 500 {
		t.Fatalf("Map err = %v, want item 500 alone", err)
	}
	var wl *mp.WorkerLostError
	if !errors.As(me.Errors[0].Err, &wl) || wl.Signal != syscall.SIGKILL || !errors.Is(err, mp.ErrWorkerLost) {
		t.Fatalf("item 500: %v", me.Errors[0].Err)
	}
	if !strings.Contains(err.Error(), "item 500") {
		t.Fatalf("error does not name the item: %v", err)
	}
	for i, v := range got {
		if i != 500 && v != 2*i {
			t.Fatalf("item %d = %d", i, v)
		}
	}
	if v, err := mp.Apply(ctx, p, tSquare, 12); err != nil || v != 144 {
		t.Fatalf("Apply after the loss = %d, %v", v, err)
	}
	waitPids(t, p, 2)
	if after := p.Pids(); slices.Equal(sortedCopy(before), sortedCopy(after)) {
		t.Fatalf("pids before %v, after %v: the lost worker was not replaced", before, after)
	}
}

func sortedCopy(s []int) []int { s = slices.Clone(s); slices.Sort(s); return s }

// waitPids waits for the pool to have n workers again (a replacement starts in the background).
func waitPids(t *testing.T, p *mp.Pool, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(p.Pids()) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("pool has workers %v, want %d", p.Pids(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A worker killed from outside while it runs a batch: at most the item it was running
// fails, with ErrWorkerLost; the others complete.
func TestPoolWorkerKilledFromOutside(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	victim := p.Pids()[0]
	var once sync.Once
	kill := func(done, total int) {
		if done >= 100 {
			once.Do(func() { syscall.Kill(victim, syscall.SIGKILL) })
		}
	}
	got, err := mp.Map(ctx, p, tSleepItem, seq(1000), mp.WithProgress(kill), mp.WithChunkSize(50))
	failed := map[int]bool{}
	if err != nil {
		var me *mp.MapError
		if !errors.As(err, &me) || len(me.Errors) > 1 || !errors.Is(err, mp.ErrWorkerLost) {
			t.Fatalf("Map err = %v", err)
		}
		failed[me.Errors[0].Index] = true
	}
	for i, v := range got {
		if !failed[i] && v != i+1 {
			t.Fatalf("item %d = %d", i, v)
		}
	}
	if slices.Contains(p.Pids(), victim) {
		t.Fatalf("killed worker %d still listed", victim)
	}
}

func TestPoolTaskTimeout(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2), mp.WithTaskTimeout(300*time.Millisecond))
	ctx := ctx20(t)
	items := []int{5, 5, 5, 10_000, 5, 5, 5, 5}
	start := time.Now()
	got, err := mp.Map(ctx, p, tSleepMs, items, mp.WithChunkSize(4))
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Map took %v: the overrunning item was not stopped", d)
	}
	var me *mp.MapError
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 3 || !errors.Is(err, mp.ErrTimeout) {
		t.Fatalf("Map err = %v, want item 3 timed out", err)
	}
	for i, v := range got {
		if i != 3 && v != 5 {
			t.Fatalf("item %d = %d", i, v)
		}
	}
	if v, err := mp.Apply(ctx, p, tSquare, 5); err != nil || v != 25 {
		t.Fatalf("Apply after timeout = %d, %v", v, err)
	}
}

func TestPoolMaxTasksPerWorker(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(1), mp.WithMaxTasksPerWorker(2))
	ctx := ctx20(t)
	seen := map[int]int{}
	for range 6 {
		pid, err := mp.Apply(ctx, p, tPidOf, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen[pid]++
	}
	if len(seen) != 3 {
		t.Fatalf("6 tasks, 2 per worker, ran in %d workers: %v", len(seen), seen)
	}
	for pid, n := range seen {
		if n != 2 {
			t.Fatalf("worker %d ran %d tasks", pid, n)
		}
	}
}

func TestPoolInitializer(t *testing.T) {
	ctx := ctx20(t)
	p := newTestPool(t, mp.WithWorkers(2), mp.WithInitializer(tPoolInit, "hello"))
	got, err := mp.Map(ctx, p, tPoolInitSeen, seq(200), mp.WithChunkSize(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if n := g[1]; n != 1 {
			t.Fatalf("worker %v ran its initializer %d times", g[0], n)
		}
	}
	if tag, err := mp.Apply(ctx, p, tPoolInitTag, 0); err != nil || tag != "hello" {
		t.Fatalf("initializer argument = %q, %v", tag, err)
	}

	// A handle in the initializer's argument reaches every worker.
	r, w, err := mp.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	p2 := newTestPool(t, mp.WithWorkers(1), mp.WithInitializer(tPoolInitPipe, w))
	var pid int
	if err := r.Recv(&pid); err != nil || !slices.Contains(p2.Pids(), pid) {
		t.Fatalf("initializer sent %d, %v; pool %v", pid, err, p2.Pids())
	}

	// An initializer that fails breaks the pool: work fails with its error.
	p3 := newTestPool(t, mp.WithWorkers(1), mp.WithInitializer(tPoolInitFail, "x"))
	_, err = mp.Apply(ctx, p3, tSquare, 2)
	var pe *mp.PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "initializer") {
		t.Fatalf("Apply on a pool whose initializer panics = %v", err)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestPoolCloseTerminateWait(t *testing.T) {
	ctx := ctx20(t)
	p, err := mp.NewPool(mp.WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait before Close succeeded")
	}
	pids := p.Pids()
	slow := mp.ApplyAsync(p, tSleepMs, 200)
	p.Close()
	p.Close()
	if _, err := mp.Map(ctx, p, tSquare, []int{1}); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Map after Close = %v", err)
	}
	if _, err := mp.ApplyAsync(p, tSquare, 1).Get(ctx); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("ApplyAsync after Close = %v", err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := slow.Get(ctx); err != nil || v != 200 {
		t.Fatalf("task submitted before Close = %d, %v", v, err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Fatalf("worker %d alive after Close and Wait", pid)
		}
	}
	p.Terminate()

	// Terminate does not wait for running tasks, and fails them.
	p2, err := mp.NewPool(mp.WithWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	pids = p2.Pids()
	var rs []*mp.AsyncResult[int]
	for range 6 {
		rs = append(rs, mp.ApplyAsync(p2, tSleepMs, 10_000))
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	p2.Terminate()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Terminate took %v", d)
	}
	for _, r := range rs {
		if _, err := r.Get(ctx); !errors.Is(err, mp.ErrClosed) {
			t.Fatalf("task of a terminated pool: %v", err)
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Fatalf("worker %d alive after Terminate", pid)
		}
	}
	if err := p2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Map(ctx, p2, tSquare, []int{1}); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Map on a terminated pool = %v", err)
	}
	p2.Terminate()
}

func TestPoolBadInput(t *testing.T) {
	ctx := ctx20(t)
	for _, n := range []int{0, -1} {
		if _, err := mp.NewPool(mp.WithWorkers(n)); err == nil {
			t.Fatalf("WithWorkers(%d) accepted", n)
		}
	}
	if _, err := mp.NewPool(mp.WithInitializer(tChanInit, nil)); err == nil {
		t.Fatal("unencodable initializer argument accepted")
	}
	p := newTestPool(t, mp.WithWorkers(2))
	var unregistered mp.Func[int, int]
	if _, err := mp.Map(ctx, p, &unregistered, []int{1}); !errors.Is(err, mp.ErrNotRegistered) {
		t.Fatalf("Map of an unregistered function = %v", err)
	}
	if _, err := mp.Apply(ctx, p, (*mp.Func[int, int])(nil), 1); !errors.Is(err, mp.ErrNotRegistered) {
		t.Fatalf("Apply(nil) = %v", err)
	}
	for _, err := range mp.Imap(ctx, p, &unregistered, slices.Values([]int{1})) {
		if !errors.Is(err, mp.ErrNotRegistered) {
			t.Fatalf("Imap of an unregistered function = %v", err)
		}
	}
	// An item the codec cannot encode fails alone, naming its index and type.
	got, err := mp.Map(ctx, p, tAnyItem, []any{1, "two", make(chan int), 4.0}, mp.WithChunkSize(4))
	var me *mp.MapError
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 2 {
		t.Fatalf("Map with a channel item = %v", err)
	}
	var ee *mp.EncodeError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "chan int") || !strings.Contains(err.Error(), "item 2") {
		t.Fatalf("encode error = %v", err)
	}
	if !slices.Equal(got, []int{1, 1, 0, 1}) {
		t.Fatalf("results %v", got)
	}
	// A result the worker cannot encode, and one the parent cannot decode.
	_, err = mp.Map(ctx, p, tChanRes, []int{0, 1, 2})
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 1 || !strings.Contains(err.Error(), "chan int") {
		t.Fatalf("unencodable result: %v", err)
	}
	res, err := mp.Map(ctx, p, tBadResult, []int{0, 1, 2})
	var de *mp.DecodeError
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 1 || !errors.As(err, &de) {
		t.Fatalf("undecodable result: %v", err)
	}
	if res[2].X != 2 {
		t.Fatalf("results %v", res)
	}
	// A Pool does not travel.
	if _, err := wire.Marshal(p); err == nil || !strings.Contains(err.Error(), "Pool") {
		t.Fatalf("encoding a Pool = %v", err)
	}
	if _, err := mp.Map(ctx, p, tSquare, []int{1}, mp.WithChunkSize(0)); err == nil {
		t.Fatal("WithChunkSize(0) accepted")
	}
}

var tChanInit = mp.Register("test.pool.chaninit", func(chan int) {})

func TestPoolCancel(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(1))
	ctx := ctx20(t)
	// A RegisterCtx task sees the caller's cancellation; the worker is free at once.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := mp.Apply(short, p, tCtxWait, 10*time.Second)
	if !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply past its deadline = %v", err)
	}
	start := time.Now()
	if v, err := mp.Apply(ctx, p, tSquare, 4); err != nil || v != 16 {
		t.Fatalf("Apply = %d, %v", v, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the cancelled task held the worker for %v", d)
	}

	// Get with a deadline gives up; the task goes on and its result comes later.
	r := mp.ApplyAsync(p, tSleepMs, 300)
	impatient, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if _, err := r.Get(impatient); !errors.Is(err, mp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past its deadline = %v", err)
	}
	if v, err := r.Get(ctx); err != nil || v != 300 {
		t.Fatalf("Get = %d, %v", v, err)
	}

	// Map's ctx cancelled: no new items; with WithKillOnCancel the worker is replaced.
	pids := p.Pids()
	short3, cancel3 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel3()
	start = time.Now()
	_, err = mp.Map(short3, p, tSleepMs, []int{10_000, 10_000, 10_000}, mp.WithKillOnCancel(), mp.WithChunkSize(1))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled Map = %v", err)
	}
	if v, err := mp.Apply(ctx, p, tSquare, 5); err != nil || v != 25 {
		t.Fatalf("Apply after a killed map = %d, %v", v, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled map held the pool for %v", d)
	}
	waitPids(t, p, 1)
	if slices.Equal(pids, p.Pids()) {
		t.Fatal("WithKillOnCancel did not replace the worker")
	}
}

func TestPoolRetriesAndMemoryLimit(t *testing.T) {
	ctx := ctx20(t)
	marker := filepath.Join(t.TempDir(), "died")
	p := newTestPool(t, mp.WithWorkers(2), mp.WithRetries(1))
	got, err := mp.Map(ctx, p, tDieOnce, []string{"", marker, ""}, mp.WithChunkSize(3))
	if err != nil || !slices.Equal(got, []string{"ok", "retried", "ok"}) {
		t.Fatalf("Map with a retry = %v, %v", got, err)
	}

	p2, err := mp.NewPool(mp.WithWorkers(1), mp.WithMemoryLimit(64<<20), mp.WithPoolStderr(discard{}))
	if errors.Is(err, errors.ErrUnsupported) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Terminate()
	got2, err := mp.Map(ctx, p2, tAlloc, []int{1, 1024, 2}, mp.WithChunkSize(3))
	var me *mp.MapError
	if !errors.As(err, &me) || len(me.Errors) != 1 || me.Errors[0].Index != 1 || !errors.Is(err, mp.ErrWorkerLost) {
		t.Fatalf("Map over the memory limit = %v", err)
	}
	if got2[0] != 1 || got2[2] != 2 {
		t.Fatalf("results %v", got2)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func TestPoolCallbacksAndProgress(t *testing.T) {
	p := newTestPool(t, mp.WithWorkers(2))
	ctx := ctx20(t)
	got := make(chan int, 1)
	r := mp.ApplyAsync(p, tSquare, 7, mp.OnResult(func(v int) { got <- v }))
	if v := <-got; v != 49 {
		t.Fatalf("OnResult got %d", v)
	}
	r.Wait(ctx)
	failed := make(chan error, 1)
	mp.ApplyAsync(p, tMaybeDie, -3, mp.OnError(func(err error) { failed <- err }))
	if err := <-failed; !errors.Is(err, mp.ErrFull) {
		t.Fatalf("OnError got %v", err)
	}
	if _, err := mp.ApplyAsync(p, tSquare, 1, mp.OnResult(func(string) {})).Get(ctx); err == nil {
		t.Fatal("a callback of the wrong type was accepted")
	}
	var mu sync.Mutex
	last, calls := 0, 0
	res, err := mp.MapAsync(p, tSquare, seq(1000), mp.WithChunkSize(10), mp.WithProgress(func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done < last || total != 1000 {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
		calls++
	})).Get(ctx)
	if err != nil || len(res) != 1000 || res[999] != 999*999 {
		t.Fatalf("MapAsync = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if last != 1000 || calls < 2 {
		t.Fatalf("progress ended at %d after %d calls", last, calls)
	}
}
