package cells

import (
	"context"
	"fmt"
	"log"

	"github.com/mpgo/mp"
)

// queuesF is the notebook's f(q): it puts one list on the queue.
var queuesF = mp.Register("cells.queuesF", func(q *mp.Queue[[]any]) {
	if err := q.Put(context.Background(), []any{42, nil, "hello"}); err != nil {
		log.Fatal(err)
	}
})

// Queues is the notebook's "Queues" cell: a child puts [42, None, 'hello'] on a Queue
// and the parent prints what it gets.
func Queues() {
	ctx := context.Background()
	q, err := mp.NewQueue[[]any]()
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	p := mp.NewProcess(queuesF, q)
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	v, err := q.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v) // [42 <nil> hello]
	if err := p.Wait(ctx); err != nil {
		log.Fatal(err)
	}
}
