package mp_test

import (
	"testing"

	"github.com/mpgo/mp"
)

// BenchmarkPipeBytes streams 1 MiB messages to a child (tSink) through a Pipe.
func BenchmarkPipeBytes(b *testing.B) {
	parent, child, err := mp.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	p := mp.NewProcess(tSink, child)
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	child.Close()
	defer func() { parent.Close(); p.Wait(b.Context()) }()
	chunk := make([]byte, 1<<20)
	var total int
	if err := parent.Send(0); err != nil { // the child is up and running
		b.Fatal(err)
	}
	if err := parent.Recv(&total); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	if err := parent.Send(b.N); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if err := parent.SendBytes(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := parent.Recv(&total); err != nil || total != b.N*len(chunk) {
		b.Fatalf("sink got %d bytes, %v", total, err)
	}
}
