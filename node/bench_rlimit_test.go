//go:build unix

package node_test

import (
	"syscall"
	"testing"
	"time"
)

// btRaiseFDLimit raises the open-file soft limit to at least n, up to the
// hard limit, and skips the benchmark when that is not enough.
func btRaiseFDLimit(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("cannot read the open-file limit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur = min(n, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < n {
		b.Skipf("open-file limit %d is below the %d this benchmark needs", lim.Cur, n)
	}
}

// btCPU returns the CPU time this process has used, user and system: on a
// shared machine a steadier measure of work than the wall clock.
func btCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
