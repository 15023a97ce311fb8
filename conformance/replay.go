package conformance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SeedEnv names the environment variable that fixes the seed of every rule:
// set it to the seed a failure printed (decimal, or hexadecimal with 0x) to
// run the rule again with the same randomness. Unset, each rule draws a
// fresh seed.
const SeedEnv = "DHTKIT_CONFORMANCE_SEED"

// ruleSeed returns the seed a rule runs with: SeedEnv's value when set,
// else a fresh random one.
func ruleSeed() (uint64, error) {
	v := os.Getenv(SeedEnv)
	if v == "" {
		return rand.Uint64(), nil
	}
	seed, err := strconv.ParseUint(strings.TrimSpace(v), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a seed: %w", SeedEnv, v, err)
	}
	return seed, nil
}

// ReplayCommand returns the shell command, to run from the module's root,
// that runs the test named test (as testing.T.Name gives it) again with
// seed. The package is the working directory's path from the nearest
// go.mod, which is where go test runs a test binary.
func ReplayCommand(test string, seed uint64) string {
	var pattern []string
	for part := range strings.SplitSeq(test, "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	return fmt.Sprintf("%s=%d go test -race -count=1 -run %s %s",
		SeedEnv, seed, shellQuote(strings.Join(pattern, "/")), replayPackage())
}

// replayPackage returns the working directory relative to the module root
// ("./kvstore/bbolt"), or "." when no go.mod is found above it.
func replayPackage() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil {
				return "."
			}
			if rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Watchdog margins: what a rule leaves of the test's remaining time for
// reporting and cleanup, and the least it is given.
const (
	watchdogMargin   = time.Second
	watchdogFraction = 10 // of the remaining time, when that is more than the margin
	watchdogFloor    = 10 * time.Millisecond
)

// ruleWatchdog returns how long a rule may run, started at now, in a test
// whose deadline (testing.T.Deadline) is deadline if ok: the suite's
// watchdog, shortened so that a hung rule is reported as a violation
// before go test's own timeout kills the binary with no rule named.
func ruleWatchdog(now, deadline time.Time, ok bool) time.Duration {
	if !ok {
		return watchdog
	}
	remaining := deadline.Sub(now)
	limit := remaining - max(watchdogMargin, remaining/watchdogFraction)
	if limit > watchdog {
		return watchdog
	}
	return max(limit, watchdogFloor)
}
