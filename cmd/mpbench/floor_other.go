//go:build !linux

package main

import (
	"errors"
	"fmt"
	"os"
)

// Floors are Linux-only: elsewhere they are nil, and the floor column is null.

func floorChildMain(role string) int {
	fmt.Fprintf(os.Stderr, "mpbench floor child %s: %v\n", role, errors.ErrUnsupported)
	return 1
}

var (
	floorProcessStart    sideFunc
	floorPoolStart       sideFunc
	floorApplyLatency    sideFunc
	floorApplyAsync      sideFunc
	floorMap             sideFunc
	floorCPUScaling      sideFunc
	floorQueueSmall      sideFunc
	floorQueue1MiB       sideFunc
	floorPipeRTT         sideFunc
	floorPipeBytes       sideFunc
	floorLockUncontended sideFunc
	floorLockContended   sideFunc
	floorManagerDict     sideFunc
	floorIdleRSS         sideFunc
)

func rssMiB(int) (float64, error) { return 0, errors.ErrUnsupported }
