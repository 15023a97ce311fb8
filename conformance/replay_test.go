package conformance_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
)

// These tests run the test binary again (TestSuiteInASubprocess) to see
// what go test prints, which a test cannot see of its own subtests: the
// replay command, skips with their reasons, and a watchdog that beats
// -timeout.

const helperEnv = "DHTKIT_CONFORMANCE_HELPER"

// storeHangsOnGet never returns from Get, whatever the context.
type storeHangsOnGet struct{ kvstore.Store }

func (storeHangsOnGet) Get(context.Context, []byte) (kvstore.Record, error) {
	select {}
}

// storeNotRanger hides memory.Store's Range.
type storeNotRanger struct{ kvstore.Store }

func TestSuiteInASubprocess(t *testing.T) {
	var wrap func(*testing.T, func() time.Time) kvstore.Store
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("run by the tests below")
	case "aliasing":
		wrap = func(_ *testing.T, now func() time.Time) kvstore.Store {
			return &storeAliasing{Store: storeMemory(now), last: map[string]kvstore.Record{}}
		}
	case "hang":
		wrap = func(_ *testing.T, now func() time.Time) kvstore.Store { return storeHangsOnGet{storeMemory(now)} }
	case "not-ranger":
		wrap = func(_ *testing.T, now func() time.Time) kvstore.Store { return storeNotRanger{storeMemory(now)} }
	}
	conformance.TestStore(t, wrap)
}

// runHelper runs TestSuiteInASubprocess with the helper mode, the seed
// variable and args, and returns its output and whether it passed.
func runHelper(t *testing.T, mode, seed string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.v", "-test.count=1"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, conformance.SeedEnv+"="+seed)
	out, err := cmd.CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("running %v: %v", cmd, err)
	}
	return string(out), err == nil
}

func TestFailurePrintsACommandThatReplaysIt(t *testing.T) {
	out, ok := runHelper(t, "aliasing", "4242", "-test.run=^TestSuiteInASubprocess$/^get-returns-copy$")
	if ok {
		t.Fatalf("the suite passed a store whose Get aliases:\n%s", out)
	}
	m := regexp.MustCompile(`replay: ` + conformance.SeedEnv + `=(\d+) go test -race -count=1 -run '([^']+)' \./conformance`).FindStringSubmatch(out)
	if m == nil || m[1] != "4242" {
		t.Fatalf("no replay command with seed 4242 in the output:\n%s", out)
	}
	if !strings.Contains(out, "seed: 4242") {
		t.Errorf("the seed is not printed:\n%s", out)
	}
	// The printed pattern selects the failed rule and nothing else.
	out, ok = runHelper(t, "aliasing", m[1], "-test.run="+m[2])
	if ok || !strings.Contains(out, "--- FAIL: TestSuiteInASubprocess/get-returns-copy") || !strings.Contains(out, "seed: 4242") {
		t.Fatalf("replaying with -run %s did not fail the rule again with seed 4242:\n%s", m[2], out)
	}
	if n := strings.Count(out, "=== RUN   TestSuiteInASubprocess/"); n != 1 {
		t.Errorf("the replay ran %d rules, want 1:\n%s", n, out)
	}
}

func TestWatchdogReportsBeforeTheTestTimeout(t *testing.T) {
	t.Parallel()
	start := time.Now()
	out, ok := runHelper(t, "hang", "1", "-test.run=^TestSuiteInASubprocess$/^put-then-get$", "-test.timeout=3s")
	if ok {
		t.Fatalf("the suite passed a store whose Get hangs:\n%s", out)
	}
	if strings.Contains(out, "test timed out") || !strings.Contains(out, "watchdog: rule did not finish within") {
		t.Fatalf("want the rule reported by its watchdog before -timeout=3s killed the binary:\n%s", out)
	}
	if !strings.Contains(out, `rule "put-then-get" broken`) {
		t.Errorf("the watchdog's report does not name the rule:\n%s", out)
	}
	t.Logf("reported after %v", time.Since(start))
}

func TestRulesOfAMissingOptionalInterfaceAreSkipped(t *testing.T) {
	out, ok := runHelper(t, "not-ranger", "1", "-test.run=^TestSuiteInASubprocess$")
	if !ok {
		t.Fatalf("the suite failed memory.Store without Range:\n%s", out)
	}
	for _, r := range []string{"range-visits-live-records", "range-returns-copies", "range-stops-early", "range-allows-writes"} {
		reason := regexp.MustCompile(`=== RUN   TestSuiteInASubprocess/` + r + `\n\s+\S+: the store does not implement kvstore.Ranger\n`)
		if !reason.MatchString(out) || !strings.Contains(out, "--- SKIP: TestSuiteInASubprocess/"+r+" ") {
			t.Errorf("rule %s is not reported as skipped with its reason:\n%s", r, out)
		}
	}
	if !strings.Contains(out, "--- PASS: TestSuiteInASubprocess/put-then-get") {
		t.Errorf("the rules that apply did not run:\n%s", out)
	}
}
