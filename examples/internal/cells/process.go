package cells

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"

	"github.com/mpgo/mp"
)

// Cell "A classe Process": run f('bob') in a child.
//
//	def f(name):
//	    print('hello', name)
var hello = mp.Register("cells.hello", func(name string) {
	fmt.Println("hello", name)
})

// HelloBob is the notebook's Process cell: the child prints "hello bob".
func HelloBob() {
	p := mp.NewProcess(hello, "bob")
	must(p.Start())
	must(p.Wait(ctx))
}

// info prints what the notebook's info(title) prints. Go's twin of a module's __name__
// is the package a function belongs to, the same in parent and child.
func info(title string) {
	fmt.Println(title)
	fmt.Println("module name:", packageOf(info))
	fmt.Println("parent process:", os.Getppid())
	fmt.Println("process id:", os.Getpid())
}

func packageOf(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name() // path/to/pkg.func
	name = name[strings.LastIndexByte(name, '/')+1:]
	return name[:strings.IndexByte(name, '.')]
}

var infoF = mp.Register("cells.info", func(name string) {
	info("function f")
	fmt.Println("hello", name)
})

// ProcessIDs is the notebook's "Expondo os IDs dos processos" cell.
func ProcessIDs() {
	info("main line")
	p := mp.NewProcess(infoF, "bob")
	must(p.Start())
	must(p.Wait(ctx))
}
