package mp_test

import (
	"context"
	"fmt"

	"github.com/mpgo/mp"
)

var greet = mp.Register("example.greet", func(name string) { fmt.Println("hello", name) })

// The notebook's Process cell: the child prints the greeting.
func ExampleNewProcess() {
	p := mp.NewProcess(greet, "bob")
	if err := p.Start(); err != nil {
		panic(err)
	}
	if err := p.Wait(context.Background()); err != nil {
		panic(err)
	}
	code, _ := p.ExitCode()
	fmt.Println("exit code", code)
	// Output:
	// hello bob
	// exit code 0
}

var sendGreeting = mp.Register("example.pipe", func(c *mp.Conn) {
	c.Send([]any{42, nil, "hello"})
	c.Close()
})

// A Pipe end passed to a child works there.
func ExamplePipe() {
	parent, child, err := mp.Pipe()
	if err != nil {
		panic(err)
	}
	defer parent.Close()
	p := mp.NewProcess(sendGreeting, child)
	if err := p.Start(); err != nil {
		panic(err)
	}
	child.Close()
	var v []any
	if err := parent.Recv(&v); err != nil {
		panic(err)
	}
	fmt.Println(v)
	p.Wait(context.Background())
	// Output: [42 <nil> hello]
}
