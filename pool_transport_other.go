//go:build !unix

package mp

import "os"

func poolShutdownWrite(f *os.File) error { return f.Close() }
