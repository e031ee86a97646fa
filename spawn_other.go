//go:build !unix

package mp

import (
	"errors"
	"os"
)

// Starting children needs descriptor inheritance by number, which this OS lacks.
func startChild(childSpec) (*child, error) { return nil, errors.ErrUnsupported }

func childControl(int) (*os.File, error) { return nil, errors.ErrUnsupported }
