package cells

import (
	"fmt"

	"github.com/mpgo/mp"
)

var pipeSend = mp.RegisterErr("cells.pipe", func(conn *mp.Conn) (struct{}, error) {
	defer conn.Close()
	return struct{}{}, conn.Send([]any{42, nil, "hello"})
})

// Pipe is the notebook's Pipes cell: the child sends [42, None, 'hello'] through its end.
func Pipe() {
	parentConn, childConn, err := mp.Pipe()
	must(err)
	defer parentConn.Close()
	p := mp.NewProcess(pipeSend, childConn)
	must(p.Start())
	childConn.Close() // the child holds its own copy now
	var v []any
	must(parentConn.Recv(&v))
	fmt.Println(v) // prints "[42 <nil> hello]"
	must(p.Wait(ctx))
}
