package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHarnessTinyNetworks runs the whole command on two networks of 12
// nodes and checks that both joined, every lookup succeeded and every
// ratio was printed.
func TestHarnessTinyNetworks(t *testing.T) {
	var out, errOut bytes.Buffer
	code := cli([]string{"-n", "12", "-lookups", "10", "-rounds", "2", "-checks", "4", "-timeout", "20s"}, &out, &errOut)
	t.Log("\n" + out.String())
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut.String())
	}
	for _, row := range []string{"lookup p50", "lookup p99", "cpu/lookup", "rpcs/lookup", "heap/node", "goroutines/n", "build+join"} {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row) + `\s.*\s\d+\.\d\dx$`)
		if !re.MatchString(out.String()) {
			t.Errorf("no ratio for %q", row)
		}
	}
	if !strings.Contains(out.String(), "failed lookups: dhtkit 0/20, anacrolix 0/20") {
		t.Error("some lookups failed")
	}
	// dhtkit's FindPeer finds every node of a joined network.
	if !strings.Contains(out.String(), "own nodes found by ID: dhtkit 8/8") {
		t.Error("dhtkit did not find all of its own nodes")
	}
}

// TestHarnessCountsNodesFound: the count of own nodes found comes from
// the network's lookups, not from the harness.
func TestHarnessCountsNodesFound(t *testing.T) {
	cfg := config{nodes: 4, lookups: 3, rounds: 1, checks: 4, k: 8, alpha: 3, timeout: time.Second, seed: 1}
	var out bytes.Buffer
	dk, an, err := run(context.Background(), &out, cfg, fakeSide{}, fakeSide{findErr: errors.New("cut off")})
	if err != nil {
		t.Fatal(err)
	}
	if dk.found != 4 || an.found != 0 {
		t.Errorf("found %d and %d of 4, want 4 and 0", dk.found, an.found)
	}
	if !strings.Contains(out.String(), "own nodes found by ID: fake 4/4, broken 0/4") {
		t.Errorf("counts not printed:\n%s", out.String())
	}
}

// TestSummaryPoolsRounds checks the pooled percentiles and means.
func TestSummaryPoolsRounds(t *testing.T) {
	ms := func(v ...int) (ds []time.Duration) {
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	s := summarize([]result{
		{latencies: ms(1, 2, 3, 4, 5), failed: 1, rpcs: 60, cpu: 60 * time.Millisecond, heapPerNode: 1000, build: time.Second},
		{latencies: ms(6, 7, 8, 9, 100), failed: 1, rpcs: 60, cpu: 60 * time.Millisecond, heapPerNode: 3000, build: 3 * time.Second},
	})
	if s.p50 != 5*time.Millisecond || s.p99 != 100*time.Millisecond {
		t.Errorf("p50 %v p99 %v, want 5ms and 100ms", s.p50, s.p99)
	}
	if s.lookups != 12 || s.failed != 2 || s.rpcs != 10 || s.cpu != 10*time.Millisecond {
		t.Errorf("lookups %d failed %d rpcs %.1f cpu %v, want 12, 2, 10, 10ms", s.lookups, s.failed, s.rpcs, s.cpu)
	}
	if s.heap != 2000 || s.build != 2*time.Second {
		t.Errorf("heap %.0f build %v, want 2000 and 2s", s.heap, s.build)
	}
}

// fakeSide is a network that answers at once, for testing the harness.
type fakeSide struct{ findErr error }

func (f fakeSide) name() string {
	if f.findErr != nil {
		return "broken"
	}
	return "fake"
}

func (f fakeSide) build(context.Context, config) (network, error) { return f, nil }

func (f fakeSide) lookup(context.Context, int, *rand.Rand) (int, error) { return 1, nil }

func (f fakeSide) find(context.Context, int, int) error { return f.findErr }

func (f fakeSide) close() {}

// TestWarmLookupsAreNotMeasured: -warm lookups run before the measured
// ones and count in neither the latencies nor the requests, and a side
// that reports its signature checks has them divided by the measured
// lookups only.
func TestWarmLookupsAreNotMeasured(t *testing.T) {
	cfg := config{nodes: 4, lookups: 5, warm: 7, rounds: 1, k: 8, alpha: 3, timeout: time.Second, seed: 1}
	side := &countingSide{}
	res, err := measure(context.Background(), side, cfg, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if side.lookups != 12 {
		t.Errorf("%d lookups ran, want 5 measured and 7 warm", side.lookups)
	}
	if len(res.latencies) != 5 || res.rpcs != 5 {
		t.Errorf("%d latencies and %d requests measured, want 5 and 5", len(res.latencies), res.rpcs)
	}
	if want := "2.0 sig checks/lkp, table 7.0→12.0"; res.detail != want {
		t.Errorf("detail %q, want %q", res.detail, want)
	}
}

// countingSide counts its lookups; each costs two signature checks and
// grows the table by one.
type countingSide struct{ lookups int }

func (c *countingSide) name() string                                   { return "counting" }
func (c *countingSide) build(context.Context, config) (network, error) { return c, nil }
func (c *countingSide) find(context.Context, int, int) error           { return nil }
func (c *countingSide) close()                                         {}
func (c *countingSide) lookup(context.Context, int, *rand.Rand) (int, error) {
	c.lookups++
	return 1, nil
}
func (c *countingSide) detail() lookupDetail {
	return lookupDetail{sigChecks: 2 * uint64(c.lookups), table: float64(c.lookups)}
}
