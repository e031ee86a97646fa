package mp_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mpgo/mp"
)

func TestValueAndArray(t *testing.T) {
	v := must(mp.NewValue[int32](7))
	closeLater(t, v)
	if v.Load() != 7 {
		t.Fatalf("Load = %d", v.Load())
	}
	v.Store(-3)
	if got := mp.AtomicAdd(v, 5); got != 2 {
		t.Fatalf("AtomicAdd = %d", got)
	}
	if !mp.AtomicCompareAndSwap(v, 2, 10) || mp.AtomicCompareAndSwap(v, 2, 11) {
		t.Fatal("AtomicCompareAndSwap")
	}
	mp.AtomicStore(v, 42)
	if mp.AtomicLoad(v) != 42 || *v.Pointer() != 42 {
		t.Fatal("AtomicStore / AtomicLoad")
	}
	if v.Lock() == nil {
		t.Fatal("a locked Value has no Lock")
	}
	raw := must(mp.NewValue(uint64(1), mp.WithoutLock()))
	closeLater(t, raw)
	if raw.Lock() != nil {
		t.Fatal("a raw Value has a Lock")
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				mp.AtomicAdd(raw, 1)
			}
		})
	}
	wg.Wait()
	if raw.Load() != 4001 {
		t.Fatalf("atomic counter = %d", raw.Load())
	}

	a := must(mp.NewArray[float64](4))
	closeLater(t, a)
	if a.Len() != 4 {
		t.Fatalf("Len = %d", a.Len())
	}
	if err := a.SetRange(1, []float64{1.5, 2.5}); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(3, 9); err != nil {
		t.Fatal(err)
	}
	x, err := a.Get(2)
	if err != nil || x != 2.5 {
		t.Fatalf("Get(2) = %v, %v", x, err)
	}
	got, err := a.Range(0, 4)
	if err != nil || fmt.Sprint(got) != "[0 1.5 2.5 9]" {
		t.Fatalf("Range = %v, %v", got, err)
	}
	a.Slice()[0] = -1
	if x, _ := a.Get(0); x != -1 {
		t.Fatal("Slice is not a view")
	}
	empty := must(mp.NewArray[int8](0))
	closeLater(t, empty)
	if r, err := empty.Range(0, 0); err != nil || len(r) != 0 {
		t.Fatalf("empty Range = %v, %v", r, err)
	}
}

func TestSharedBadInput(t *testing.T) {
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		} else if !strings.HasPrefix(err.Error(), "mp: ") {
			t.Errorf("%s: message %q does not start with \"mp: \"", what, err)
		}
	}
	for _, n := range []int{0, -1} {
		_, err := mp.NewSharedMemory(n)
		check(fmt.Sprintf("NewSharedMemory(%d)", n), err, mp.ErrInvalid)
		_, err = mp.CreateSharedMemory("mp-test-bad", n)
		check(fmt.Sprintf("CreateSharedMemory(%d)", n), err, mp.ErrInvalid)
	}
	_, err := mp.NewArray[int](-1)
	check("NewArray(-1)", err, mp.ErrInvalid)
	_, err = mp.NewValue("strings hold a pointer")
	check("NewValue[string]", err, mp.ErrInvalid)
	_, err = mp.NewValue(new(int))
	check("NewValue[*int]", err, mp.ErrInvalid)
	_, err = mp.NewArray[[]int](3)
	check("NewArray[[]int]", err, mp.ErrInvalid)
	_, err = mp.NewValue(map[int]int{})
	check("NewValue[map]", err, mp.ErrInvalid)
	type withString struct {
		N    int
		Name string
	}
	_, err = mp.NewValue(withString{})
	check("NewValue[struct with a string]", err, mp.ErrInvalid)
	_, err = mp.NewValue[any](1)
	check("NewValue[any]", err, mp.ErrInvalid)
	_, err = mp.NewValue(struct{}{})
	check("NewValue[struct{}]", err, mp.ErrInvalid)

	a := must(mp.NewArray[int32](3))
	_, err = a.Get(3)
	check("Get(3)", err, mp.ErrOutOfRange)
	_, err = a.Get(-1)
	check("Get(-1)", err, mp.ErrOutOfRange)
	check("Set(3)", a.Set(3, 1), mp.ErrOutOfRange)
	_, err = a.Range(2, 1)
	check("Range(2, 1)", err, mp.ErrOutOfRange)
	_, err = a.Range(0, 4)
	check("Range(0, 4)", err, mp.ErrOutOfRange)
	check("SetRange(2, 2 values)", a.SetRange(2, []int32{1, 2}), mp.ErrOutOfRange)

	// Use after Close.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = a.Get(0)
	check("Get after Close", err, mp.ErrClosed)
	check("Set after Close", a.Set(0, 1), mp.ErrClosed)
	if a.Slice() != nil || a.Len() != 0 {
		t.Error("Slice or Len after Close")
	}
	v := must(mp.NewValue(5.0))
	v.Close()
	if v.Load() != 0 || v.Pointer() != nil {
		t.Error("Load or Pointer after Close")
	}
	v.Store(1) // does nothing, does not fault
	check("Value's Lock after Close", v.Lock().Acquire(t.Context()), mp.ErrClosed)
	m := must(mp.NewSharedMemory(10))
	m.Close()
	if m.Bytes() != nil {
		t.Error("Bytes after Close")
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	p := mp.NewProcess(tShmValues, shmValuesArg{M: m})
	if err := p.Start(); !errors.Is(err, mp.ErrClosed) {
		t.Errorf("passing a closed SharedMemory to a child: %v, want ErrClosed", err)
	}

	// Names.
	name := fmt.Sprintf("mp-test-missing-%d", os.Getpid())
	_, err = mp.OpenSharedMemory(name)
	check("OpenSharedMemory(missing)", err, fs.ErrNotExist)
	_, err = mp.OpenSharedMemory("a/b")
	check("OpenSharedMemory(a/b)", err, mp.ErrInvalid)
	_, err = mp.CreateSharedMemory("", 10)
	check("CreateSharedMemory(\"\")", err, mp.ErrInvalid)
	s := must(mp.CreateSharedMemory(name, 10))
	_, err = mp.CreateSharedMemory(name, 10)
	check("CreateSharedMemory twice", err, fs.ErrExist)
	if err := s.Unlink(); err != nil {
		t.Fatal(err)
	}
	check("second Unlink", s.Unlink(), fs.ErrNotExist)
	copy(s.Bytes(), "still mapped") // an unlinked block stays usable
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// No /dev/shm entry outlives the tests that made one (each Unlinks its own).
func TestSharedMemoryNoLeftovers(t *testing.T) {
	pid := fmt.Sprint(os.Getpid())
	s := must(mp.CreateSharedMemory("mp-test-leftover-"+pid, 4096))
	if _, err := os.Stat("/dev/shm/mp-test-leftover-" + pid); err != nil {
		t.Fatalf("named block not in /dev/shm: %v", err)
	}
	s.Unlink()
	s.Close()
	// Anonymous primitives never appear there.
	l := must(mp.NewLock())
	defer l.Close()
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "mp-") && strings.HasSuffix(e.Name(), "-"+pid) {
			t.Errorf("left in /dev/shm: %s", e.Name())
		}
	}
}
