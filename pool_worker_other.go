//go:build !linux

package mp

import "errors"

func poolSetMemLimit(int64) error { return errors.ErrUnsupported }

func poolSetMemLimitSupported() error { return errors.ErrUnsupported }
