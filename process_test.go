package mp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mpgo/mp"
)

var (
	tHello = mp.Register("test.hello", func(name string) { fmt.Println("hello", name) })
	tNoop  = mp.Register0("test.noop", func() {})
	tExit  = mp.Register("test.exit", func(code int) { os.Exit(code) })
	tPanic = mp.Register("test.panic", func(msg string) { panic(msg) })
	tFail  = mp.RegisterErr("test.fail", func(code string) (int, error) {
		switch code {
		case "closed":
			return 0, fmt.Errorf("wrapped: %w", mp.ErrClosed)
		default:
			return 0, errors.New("plain failure")
		}
	})
	tSleep = mp.Register("test.sleep", func(d time.Duration) { time.Sleep(d) })
	tChan  = mp.Register("test.chan", func(chan int) {})
	tPrint = mp.Register0("test.print", func() {
		c := mp.CurrentProcess()
		par, ok := mp.ParentProcess()
		fmt.Printf("%s %d %v %s %d\n", c.Name, c.Pid, ok, par.Name, par.Pid)
	})
)

func run(t *testing.T, p *mp.Process) error {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	return p.Wait(ctx)
}

func TestProcessHello(t *testing.T) {
	var out bytes.Buffer
	p := mp.NewProcess(tHello, "bob", mp.WithStdout(&out))
	if err := run(t, p); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "hello bob\n" {
		t.Fatalf("child printed %q", got)
	}
	if code, ok := p.ExitCode(); !ok || code != 0 {
		t.Fatalf("ExitCode = %d, %v", code, ok)
	}
	if p.Pid() <= 0 || p.Pid() == os.Getpid() {
		t.Fatalf("Pid = %d", p.Pid())
	}
	if p.Alive() {
		t.Fatal("Alive after Wait")
	}
}

func TestProcessExitCodes(t *testing.T) {
	for _, code := range []int{0, 1, 3, 255} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			p := mp.NewProcess(tExit, code)
			err := run(t, p)
			got, _ := p.ExitCode()
			if got != code {
				t.Fatalf("ExitCode = %d, want %d", got, code)
			}
			var ee *mp.ExitError
			if code == 0 && err != nil || code != 0 && (!errors.As(err, &ee) || ee.Code != code) {
				t.Fatalf("Wait = %v", err)
			}
		})
	}
}

func TestProcessSignals(t *testing.T) {
	for name, stop := range map[string]func(*mp.Process) error{
		"kill": (*mp.Process).Kill, "terminate": (*mp.Process).Terminate,
	} {
		t.Run(name, func(t *testing.T) {
			p := mp.NewProcess(tSleep, time.Minute)
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			if !p.Alive() {
				t.Fatal("not alive after Start")
			}
			if err := stop(p); err != nil {
				t.Fatal(err)
			}
			err := p.Wait(t.Context())
			var ee *mp.ExitError
			if !errors.As(err, &ee) || ee.Signal == 0 {
				t.Fatalf("Wait = %v, want an ExitError with a signal", err)
			}
			want := -9
			if name == "terminate" {
				want = -15
			}
			if code, _ := p.ExitCode(); code != want {
				t.Fatalf("ExitCode = %d, want %d", code, want)
			}
			if err := stop(p); err != nil {
				t.Fatalf("second stop: %v", err)
			}
		})
	}
}

func TestProcessPanic(t *testing.T) {
	err := run(t, mp.NewProcess(tPanic, "boom", mp.WithStderr(&bytes.Buffer{})))
	var pe *mp.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait = %v, want a PanicError", err)
	}
	if pe.Value != "boom" || !strings.Contains(pe.Stack, "process_test.go") {
		t.Fatalf("PanicError = %q, stack:\n%s", pe.Value, pe.Stack)
	}
}

func TestProcessErrorIdentity(t *testing.T) {
	err := run(t, mp.NewProcess(tFail, "closed"))
	var re *mp.RemoteError
	if !errors.Is(err, mp.ErrClosed) || !errors.As(err, &re) || !strings.Contains(re.Message, "wrapped") {
		t.Fatalf("Wait = %v", err)
	}
	err = run(t, mp.NewProcess(tFail, "plain"))
	if !errors.As(err, &re) || errors.Is(err, mp.ErrClosed) || re.Message != "plain failure" {
		t.Fatalf("Wait = %v", err)
	}
}

func TestProcessBadInput(t *testing.T) {
	var unregistered *mp.Func[int, struct{}]
	if err := mp.NewProcess(unregistered, 1).Start(); !errors.Is(err, mp.ErrNotRegistered) {
		t.Errorf("unregistered: %v", err)
	}
	if err := mp.NewProcess(&mp.Func[int, struct{}]{}, 1).Start(); !errors.Is(err, mp.ErrNotRegistered) {
		t.Errorf("zero Func: %v", err)
	}
	err := mp.NewProcess(tChan, make(chan int)).Start()
	var ee *mp.EncodeError
	if !errors.As(err, &ee) || !strings.Contains(ee.Error(), "chan int") {
		t.Errorf("unencodable argument: %v", err)
	}
	p := mp.NewProcess(tNoop, struct{}{})
	if err := p.Wait(t.Context()); !errors.Is(err, mp.ErrNotStarted) {
		t.Errorf("Wait before Start: %v", err)
	}
	if err := p.Kill(); !errors.Is(err, mp.ErrNotStarted) {
		t.Errorf("Kill before Start: %v", err)
	}
	if err := run(t, p); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); !errors.Is(err, mp.ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := mp.NewProcess(tNoop, struct{}{}, mp.WithName("")).Start(); err == nil {
		t.Error("empty name accepted")
	}
}

func TestProcessWaitTimeout(t *testing.T) {
	p := mp.NewProcess(tSleep, time.Minute)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill(); p.Wait(context.Background()) }()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v", err)
	}
	if !p.Alive() {
		t.Fatal("a join timeout must not stop the process")
	}
	if err := p.Close(); err == nil {
		t.Fatal("Close of a running process succeeded")
	}
	if n := len(mp.ActiveChildren()); n < 1 {
		t.Fatalf("ActiveChildren = %d", n)
	}
}

func TestProcessInfo(t *testing.T) {
	var out bytes.Buffer
	p := mp.NewProcess(tPrint, struct{}{}, mp.WithStdout(&out), mp.WithName("worker-x"))
	if err := run(t, p); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("worker-x %d true MainProcess %d\n", p.Pid(), os.Getpid())
	if out.String() != want {
		t.Fatalf("child printed %q, want %q", out.String(), want)
	}
	if _, ok := mp.ParentProcess(); ok {
		t.Fatal("main process has a parent")
	}
	if mp.CurrentProcess().Name != "MainProcess" || mp.CPUCount() < 1 {
		t.Fatal("CurrentProcess/CPUCount")
	}
}

func TestRegisterAfterMainPanics(t *testing.T) {
	n := 3
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "after mp.Main") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	mp.RegisterFunc("test.closure", func(x int) int { return x * n })
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		r := fmt.Sprint(recover())
		if !strings.Contains(r, "registered twice") || !strings.Contains(r, "process_test.go") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	mp.Register0("test.noop", func() {})
}
