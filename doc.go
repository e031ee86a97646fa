// Package mp is Python's multiprocessing for Go: run registered Go functions in child
// processes, talk to them through pipes and queues, share memory and locks with them, and
// spread work over a pool of worker processes that survives its workers.
//
// Why processes when Go has goroutines: isolation. A goroutine cannot be killed, has no
// memory limit of its own, and a crash in cgo or a runaway allocation takes the whole
// program down. A process can be killed on a hard deadline, recycled and limited, and its
// crash is an error value, not an outage.
//
// # mp.Main() first
//
// A child is the same binary, re-executed. mp.Main must be the first statement of main
// (and of TestMain in every package whose tests start processes): in a child it runs the
// requested function and exits; in the parent it returns at once. A program that starts a
// child without having called mp.Main gets ErrNoMain, so a binary never spawns itself
// recursively.
//
//	var hello = mp.Register("hello", func(name string) { fmt.Println("hello", name) })
//
//	func main() {
//		mp.Main()
//		p := mp.NewProcess(hello, "bob")
//		if err := p.Start(); err != nil { ... }
//		if err := p.Wait(context.Background()); err != nil { ... }
//	}
//
// # Registered functions only
//
// A function runs in a child only if it was registered by name, at package level, with
// Register, Register0, RegisterFunc, RegisterErr or RegisterCtx: the child finds it by
// that name after running the same package initialisation. Closures are refused: Register
// after mp.Main panics, because nothing a closure captured at run time exists in the
// child. The argument and the result travel encoded (CBOR, see below); handles such as
// Pipe ends travel as inherited file descriptors.
//
// # Errors across the boundary
//
// An error returned by a function in a child arrives as a *RemoteError whose Is matches
// the mp sentinels (ErrClosed, ErrTimeout, ...), io.EOF and the context errors it wrapped,
// so errors.Is works across the process boundary. A panic arrives as a *PanicError with
// the child's stack; a non-zero exit or a signal as an *ExitError. Exit codes follow
// Python: -N means killed by signal N.
//
// # Lifetimes
//
// Children never outlive their parent: on Linux each child gets SIGKILL when its parent
// dies, even by SIGKILL, and every child also exits when its control socket to the parent
// reaches end of stream. Process.Wait is Python's join; a ctx deadline is its timeout.
//
// # The wire
//
// Everything that crosses a process boundary uses one codec, CBOR (fxamacker/cbor/v2)
// with a hardened decode mode (nesting, array and map limits; no indefinite lengths) in
// length-prefixed frames with a size cap. []byte payloads are sent as they are. Integers
// decoded into an interface value are int64, as Python's int would suggest.
//
// # Python to Go
//
//	Python                                Go
//	Process(target=f, args=(x,))          mp.NewProcess(f, x)   (f from mp.Register)
//	p.start() / p.join(timeout)           p.Start() / p.Wait(ctx)
//	p.pid / p.exitcode / p.is_alive()     p.Pid() / p.ExitCode() / p.Alive()
//	p.terminate() / p.kill() / p.close()  p.Terminate() / p.Kill() / p.Close()
//	p.name / p.daemon / p.sentinel        p.Name() / p.Daemon() / p.Done()
//	current_process() / parent_process()  mp.CurrentProcess() / mp.ParentProcess()
//	active_children() / cpu_count()       mp.ActiveChildren() / mp.CPUCount()
//	Pipe() / Pipe(duplex=False)           mp.Pipe() / mp.Pipe(mp.OneWay())
//	conn.send / recv                      c.Send(v) / c.Recv(&v)
//	conn.send_bytes / recv_bytes          c.SendBytes(b) / c.RecvBytes()
//	conn.poll(timeout) / conn.close()     c.Poll(timeout) / c.Close()
//	connection.wait(conns, timeout)       mp.WaitConns(ctx, conns...)
package mp
