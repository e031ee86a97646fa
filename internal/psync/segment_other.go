//go:build !linux

package psync

import (
	"errors"
	"os"
)

func dup(*os.File) (*os.File, error)            { return nil, errors.ErrUnsupported }
func createNamed(string, int) (*os.File, error) { return nil, errors.ErrUnsupported }
func openNamed(string) (*os.File, error)        { return nil, errors.ErrUnsupported }
func unlinkNamed(string) error                  { return errors.ErrUnsupported }
