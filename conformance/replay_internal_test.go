package conformance

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRuleWatchdogFollowsTheTestDeadline(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		deadline time.Duration
		ok       bool
		want     time.Duration
	}{
		{"no deadline", 0, false, watchdog},
		{"far deadline", 10 * time.Minute, true, watchdog},
		{"just over the watchdog", watchdog + 2*time.Second, true, 28800 * time.Millisecond},
		{"five seconds left", 5 * time.Second, true, 4 * time.Second},
		{"twenty seconds left", 20 * time.Second, true, 18 * time.Second},
		{"less than the margin", 500 * time.Millisecond, true, watchdogFloor},
		{"past the deadline", -time.Second, true, watchdogFloor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ruleWatchdog(now, now.Add(tc.deadline), tc.ok); got != tc.want {
				t.Errorf("ruleWatchdog(deadline in %v, %v) = %v, want %v", tc.deadline, tc.ok, got, tc.want)
			}
		})
	}
}

// draws runs a rule that records the first numbers its rng gives and then
// fails, and returns them with the violation.
func draws(t *testing.T) ([3]uint64, *Violation) {
	var got [3]uint64
	r := rule[int]{name: "draws", doc: "records its randomness", check: func(e *env, _ int) error {
		for i := range got {
			got[i] = e.rng.Uint64()
		}
		return errors.New("always broken")
	}}
	return got, runRule(t, "meta", r, 0)
}

func TestSeedEnvFixesEveryRulesRandomness(t *testing.T) {
	t.Setenv(SeedEnv, "12345")
	a, va := draws(t)
	b, vb := draws(t)
	if a != b {
		t.Fatalf("two runs with %s=12345 drew %v and %v, want the same", SeedEnv, a, b)
	}
	for _, v := range []*Violation{va, vb} {
		if v == nil || v.Seed != 12345 {
			t.Fatalf("violation %v, want one with seed 12345", v)
		}
		want := SeedEnv + "=12345 go test -race -count=1 -run '^TestSeedEnvFixesEveryRulesRandomness$' ./conformance"
		if v.Replay != want {
			t.Errorf("Replay = %q, want %q", v.Replay, want)
		}
		if !strings.Contains(v.Error(), "replay: "+want) {
			t.Errorf("the violation's message does not print the replay command:\n%v", v)
		}
	}
	t.Setenv(SeedEnv, "0x3039")
	if c, _ := draws(t); c != a {
		t.Errorf("%s=0x3039 drew %v, want the same as 12345: %v", SeedEnv, c, a)
	}
}

func TestSeedEnvUnsetDrawsFreshSeeds(t *testing.T) {
	t.Setenv(SeedEnv, "")
	a, va := draws(t)
	b, vb := draws(t)
	if a == b || va.Seed == vb.Seed {
		t.Errorf("two runs without %s drew %v (seed %d) and %v (seed %d), want different", SeedEnv, a, va.Seed, b, vb.Seed)
	}
}

func TestSeedEnvNotANumberIsAViolation(t *testing.T) {
	t.Setenv(SeedEnv, "seven")
	ran := false
	v := runRule(t, "meta", rule[int]{name: "r", check: func(*env, int) error { ran = true; return nil }}, 0)
	if v == nil || ran || !strings.Contains(v.Error(), SeedEnv) {
		t.Errorf("with %s=seven the rule ran: %v, violation %v; want a violation naming %s and the rule not run", SeedEnv, ran, v, SeedEnv)
	}
}

func TestReplayCommandQuotesEveryPart(t *testing.T) {
	got := ReplayCommand("TestX/a.b/it's", 7)
	want := SeedEnv + `=7 go test -race -count=1 -run '^TestX$/^a\.b$/^it'\''s$' ./conformance`
	if got != want {
		t.Errorf("ReplayCommand = %q, want %q", got, want)
	}
}
