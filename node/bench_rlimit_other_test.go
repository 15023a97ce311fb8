//go:build !unix

package node_test

import (
	"testing"
	"time"
)

// btRaiseFDLimit does nothing where there is no open-file limit to raise.
func btRaiseFDLimit(*testing.B, uint64) {}

// btCPU is unknown here: the benchmarks report zero.
func btCPU() time.Duration { return 0 }
