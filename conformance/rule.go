package conformance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Violation is a broken rule: what a plug-in author must fix.
type Violation struct {
	Suite string // "codec", "store", "transport", "table"
	Rule  string // the rule's name, also the subtest's name
	Doc   string // the rule in a sentence
	Seed  uint64 // the seed the rule ran with
	Err   error  // what was observed
	// Replay is the shell command that runs this rule again with Seed, or
	// empty when the test's name is not known (see ReplayCommand).
	Replay string
}

func (v *Violation) Error() string {
	s := fmt.Sprintf("%s rule %q broken: %v\n\trule: %s\n\tseed: %d", v.Suite, v.Rule, v.Err, v.Doc, v.Seed)
	if v.Replay != "" {
		s += "\n\treplay: " + v.Replay
	}
	return s
}

func (v *Violation) Unwrap() error { return v.Err }

// Broken reports whether errs holds a violation of the named rule.
func Broken(errs []error, rule string) bool {
	for _, err := range errs {
		var v *Violation
		if errors.As(err, &v) && v.Rule == rule {
			return true
		}
	}
	return false
}

// env is what a rule's check receives besides the instance under test.
type env struct {
	t   *testing.T // for the factory's needs only; checks report by returning errors
	ctx context.Context
	rng *rand.Rand
}

// rule is one case of a suite: a name, the rule it checks, and the check. A
// check returns nil when the rule holds.
type rule[F any] struct {
	name  string
	doc   string
	check func(e *env, factory F) error
}

// watchdog bounds every rule so that a hung implementation fails rather than
// stalling the whole test binary. A test deadline nearer than that
// shortens it (see ruleWatchdog).
const watchdog = 30 * time.Second

// runRule runs one rule with its seed (see ruleSeed) and a watchdog context,
// turning a returned error or a panic into a *Violation.
func runRule[F any](t *testing.T, suite string, r rule[F], factory F) (v *Violation) {
	seed, err := ruleSeed()
	if err != nil {
		return &Violation{Suite: suite, Rule: r.name, Doc: r.doc, Err: err}
	}
	deadline, hasDeadline := t.Deadline()
	limit := ruleWatchdog(time.Now(), deadline, hasDeadline)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	defer func() {
		if v != nil {
			v.Replay = ReplayCommand(t.Name(), seed)
		}
	}()
	e := &env{t: t, ctx: ctx, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	defer func() {
		if p := recover(); p != nil {
			v = &Violation{Suite: suite, Rule: r.name, Doc: r.doc, Seed: seed, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	done := make(chan error, 1)
	go func() {
		returned := false
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v", p)
			} else if !returned {
				// runtime.Goexit, as from t.FailNow in the factory.
				done <- errors.New("the factory or check stopped its goroutine (t.FailNow?)")
			}
		}()
		err := r.check(e, factory)
		returned = true
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("watchdog: rule did not finish within %v", limit.Round(time.Millisecond))
	}
	if err != nil {
		return &Violation{Suite: suite, Rule: r.name, Doc: r.doc, Seed: seed, Err: err}
	}
	return nil
}

// skipped is returned by a check whose rule does not apply to the instance
// under test: it lacks an optional capability, or its order is not one the
// suite can check. A rule that does not apply is not broken.
type skipped struct{ reason string }

func (s *skipped) Error() string { return "skipped: " + s.reason }

// skip returns the error by which a check says its rule does not apply.
func skip(format string, args ...any) error {
	return &skipped{reason: fmt.Sprintf(format, args...)}
}

// skipReason returns the reason of a violation that is a skip.
func skipReason(v *Violation) (string, bool) {
	var s *skipped
	if v == nil || !errors.As(v.Err, &s) {
		return "", false
	}
	return s.reason, true
}

// runSuite runs every rule as a subtest of t. A rule that does not apply is
// skipped with t.Skip and its reason.
func runSuite[F any](t *testing.T, suite string, rules []rule[F], factory F) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			v := runRule(t, suite, r, factory)
			if reason, ok := skipReason(v); ok {
				t.Skip(reason)
			}
			if v != nil {
				t.Error(v)
			}
		})
	}
}

// checkSuite runs every rule and returns the violations; rules that do not
// apply are left out. Each rule still runs in its own subtest so that the
// factory's t.Cleanup work happens per rule; those subtests never fail.
func checkSuite[F any](t *testing.T, suite string, rules []rule[F], factory F) []error {
	t.Helper()
	var errs []error
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			v := runRule(t, suite, r, factory)
			if _, ok := skipReason(v); !ok && v != nil {
				errs = append(errs, v)
			}
		})
	}
	return errs
}

// catch, deferred in a goroutine a rule starts, turns a panic of the part
// under test into an error handed to report: a panic there would end the
// whole test binary instead of failing the rule.
func catch(report func(error)) {
	if p := recover(); p != nil {
		report(fmt.Errorf("panic: %v", p))
	}
}
