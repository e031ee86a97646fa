//go:build !unix

package mp

import "os"

func poolIsTerminal(*os.File) bool { return false }
