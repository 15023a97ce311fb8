//go:build !unix

package tcp_test

import "time"

// cpuTime is zero where getrusage is missing: no CPU metric is reported.
func cpuTime() time.Duration { return 0 }
