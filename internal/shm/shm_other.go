//go:build !linux

package shm

import (
	"errors"
	"os"
	"time"
)

func create(string, int) (*os.File, error) { return nil, errors.ErrUnsupported }
func mmap(*os.File) ([]byte, error)        { return nil, errors.ErrUnsupported }
func munmap([]byte) error                  { return errors.ErrUnsupported }

func futexWait(*uint32, uint32, time.Duration) error { return errors.ErrUnsupported }
func futexWake(*uint32, int) int                     { return 0 }
