package cells

import (
	"fmt"

	"github.com/mpgo/mp"
)

// Cell "Memória compartilhada": a child writes a Value and an Array that live in shared
// memory; the parent sees the changes.
//
//	def f(n, a):
//	    n.value = 3.1415927
//	    for i in range(len(a)):
//	        a[i] = -a[i]

// sharedArg is f's (n, a): Value('d', 0.0) and Array('i', range(10)).
type sharedArg struct {
	N *mp.Value[float64]
	A *mp.Array[int32]
}

var sharedF = mp.RegisterErr("cells.sharedF", func(s sharedArg) (struct{}, error) {
	s.N.Store(3.1415927)
	for i := range s.A.Len() {
		x, err := s.A.Get(i)
		if err != nil {
			return struct{}{}, err
		}
		if err := s.A.Set(i, -x); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, nil
})

// SharedMemory is the notebook's shared-memory cell: it prints 3.1415927 and
// [0 -1 -2 -3 -4 -5 -6 -7 -8 -9].
func SharedMemory() {
	num, err := mp.NewValue(0.0)
	must(err)
	defer num.Close()
	arr, err := mp.NewArrayFrom([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	must(err)
	defer arr.Close()

	p := mp.NewProcess(sharedF, sharedArg{N: num, A: arr})
	must(p.Start())
	must(p.Wait(ctx))

	fmt.Println(num.Load())
	all, err := arr.Range(0, arr.Len())
	must(err)
	fmt.Println(all)
}
