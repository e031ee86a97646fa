package manager_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mpgo/mp"
	"github.com/mpgo/mp/manager"
	"github.com/mpgo/mp/mptest"
)

func TestMain(m *testing.M) { mptest.Main(m) }

func startInProcess(t *testing.T, opts ...manager.Option) *manager.Manager {
	t.Helper()
	m, err := manager.Start(t.Context(), append([]manager.Option{manager.WithInProcess()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	return m
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDictListInProcess(t *testing.T) {
	ctx := t.Context()
	m := startInProcess(t)
	d := must[*manager.Dict[any, any]](t)(manager.NewDict[any, any](ctx, m))
	check(t, d.Set(ctx, 1, "1"))
	check(t, d.Set(ctx, "2", 2))
	check(t, d.Set(ctx, 0.25, nil))
	if got := must[manager.Items[any, any]](t)(d.Items(ctx)).String(); got != "map[1:1 2:2 0.25:<nil>]" {
		t.Fatalf("items: %s", got)
	}
	v, ok, err := d.Get(ctx, "2")
	if err != nil || !ok || v != int64(2) {
		t.Fatalf("get: %v %v %v", v, ok, err)
	}
	if _, ok, _ := d.Get(ctx, 2); ok {
		t.Fatal(`2 and "2" are the same key`)
	}
	act, loaded, err := d.GetOrSet(ctx, "x", 5)
	if err != nil || loaded || act != int64(5) {
		t.Fatalf("getorset: %v %v %v", act, loaded, err)
	}

	l := must[*manager.List[int]](t)(manager.NewList(ctx, m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
	check(t, l.Reverse(ctx))
	if got := fmt.Sprint(must[[]int](t)(l.All(ctx))); got != "[9 8 7 6 5 4 3 2 1 0]" {
		t.Fatalf("list: %s", got)
	}
	if _, err := l.Get(ctx, 10); !errors.Is(err, manager.ErrIndex) {
		t.Fatalf("index error: %v", err)
	}
	n := must[int](t)(l.Append(ctx, 10, 11))
	if n != 12 {
		t.Fatalf("append: %d", n)
	}

	ns := must[*manager.Namespace](t)(manager.NewNamespace(ctx, m))
	check(t, ns.Set(ctx, "x", []string{"a"}))
	if got := must[[]string](t)(manager.Attr[[]string](ctx, ns, "x")); len(got) != 1 || got[0] != "a" {
		t.Fatalf("namespace: %v", got)
	}
	if err := ns.Get(ctx, "nope", new(int)); !errors.Is(err, manager.ErrNotFound) {
		t.Fatalf("missing attribute: %v", err)
	}

	val := must[*manager.Value[float64]](t)(manager.NewValue(ctx, m, 1.5))
	if got := must[float64](t)(val.Add(ctx, 1)); got != 2.5 {
		t.Fatalf("add: %v", got)
	}
	arr := must[*manager.Array[int32]](t)(manager.NewArray(ctx, m, []int32{1, 2, 3}))
	check(t, arr.Set(ctx, -1, 30))
	if got := fmt.Sprint(must[[]int32](t)(arr.All(ctx))); got != "[1 2 30]" {
		t.Fatalf("array: %s", got)
	}
}

func TestSyncPrimitivesInProcess(t *testing.T) {
	ctx := t.Context()
	m := startInProcess(t)

	q := must[*manager.Queue[string]](t)(manager.NewQueue[string](ctx, m, 1))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := q.Get(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get on empty queue: %v", err)
	}
	cancel()
	if _, err := q.TryGet(ctx); !errors.Is(err, mp.ErrEmpty) {
		t.Fatalf("tryget: %v", err)
	}
	got := make(chan string)
	go func() { s, _ := q.Get(ctx); got <- s }()
	check(t, q.Put(ctx, "hello"))
	if s := <-got; s != "hello" {
		t.Fatalf("queue: %q", s)
	}

	ev := must[*manager.Event](t)(manager.NewEvent(ctx, m))
	done := make(chan error)
	go func() { done <- ev.Wait(ctx) }()
	check(t, ev.Set(ctx))
	check(t, <-done)

	b := must[*manager.Barrier](t)(manager.NewBarrier(ctx, m, 3))
	var wg sync.WaitGroup
	idx := make(chan int, 3)
	for range 3 {
		wg.Go(func() {
			i, err := b.Wait(ctx)
			if err != nil {
				t.Error(err)
			}
			idx <- i
		})
	}
	wg.Wait()
	close(idx)
	sum := 0
	for i := range idx {
		sum += i
	}
	if sum != 3 {
		t.Fatalf("barrier indexes sum to %d", sum)
	}

	c := must[*manager.Condition](t)(manager.NewCondition(ctx, m))
	check(t, c.Acquire(ctx))
	wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if err := c.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("condition wait: %v", err)
	}
	wcancel()
	check(t, c.Release(ctx)) // Wait returned holding the lock

	s := must[*manager.BoundedSemaphore](t)(manager.NewBoundedSemaphore(ctx, m, 1))
	check(t, s.Acquire(ctx))
	if ok := must[bool](t)(s.TryAcquire(ctx)); ok {
		t.Fatal("semaphore over-acquired")
	}
	check(t, s.Release(ctx))
	if err := s.Release(ctx); !errors.Is(err, mp.ErrTooManyCalls) {
		t.Fatalf("bounded release: %v", err)
	}

	rl := must[*manager.RLock](t)(manager.NewRLock(ctx, m))
	check(t, rl.Acquire(ctx))
	check(t, rl.Acquire(ctx))
	check(t, rl.Release(ctx))
	check(t, rl.Release(ctx))
	if err := rl.Release(ctx); !errors.Is(err, mp.ErrTooManyCalls) {
		t.Fatalf("rlock over-release: %v", err)
	}
}

type counter struct{ n int }

var counterType = manager.RegisterType("manager_test.counter", func() *counter { return &counter{} },
	manager.Expose("Add", func(c *counter, d int) (int, error) { c.n += d; return c.n, nil }),
	manager.Expose("Boom", func(c *counter, _ struct{}) (int, error) { panic("boom") }),
)

func TestCustomType(t *testing.T) {
	ctx := t.Context()
	m := startInProcess(t)
	o := must[*manager.Object](t)(counterType.New(ctx, m))
	manager.Call[int](ctx, o, "Add", 2)
	if n := must[int](t)(manager.Call[int](ctx, o, "Add", 3)); n != 5 {
		t.Fatalf("Add: %d", n)
	}
	if _, err := manager.Call[int](ctx, o, "n", 0); !errors.Is(err, mp.ErrNotRegistered) {
		t.Fatalf("unregistered method: %v", err)
	}
	var pe *mp.PanicError
	if _, err := manager.Call[int](ctx, o, "Boom", struct{}{}); !errors.As(err, &pe) {
		t.Fatalf("panic: %v", err)
	}
	check(t, m.Ping(ctx))
}
