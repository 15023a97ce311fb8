package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The claim of THREATS.md's "a third of the nodes die without warning",
// made with real processes: 20 dhtnode serve processes on loopback UDP,
// values put through clients, a third of the servers (the one every other
// joined through among them) killed with SIGKILL, then a fresh dhtnode get
// process for every value, each through a survivor, rotating the query
// modes. Every get succeeds, the median in under 1 s and the slowest in
// under 5 s; a key no one stored exits 1 in under 5 s. These are wall-clock
// figures of whole processes (start, bootstrap, lookup, exit), which is what
// the claim is about. On an idle machine the median is about 10 ms; a get
// whose path meets dead servers pays about half a second for each (the
// adaptive timeout's floor, then an unanswered ping), and the slowest of
// the 40 takes 1 to 3.5 s.
//
// k is 8, not the default 20, so that each value lives on fewer than half
// the servers and a get must find it, not ask a replica first; and 8 is more
// than the 7 killed, so every value keeps a live replica.
func TestGetsSucceedAfterAThirdOfTheServersAreKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes: skipped with -short")
	}
	const (
		servers = 20
		killed  = (servers + 2) / 3 // a third, rounded up: 7
		values  = 40
		k       = "8"
	)
	bin := buildBinary(t)
	rng := rand.New(rand.NewPCG(1, 2))

	first := startProc(t, bin, "serve", "--k", k)
	procs := []*proc{first}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for range servers - 1 {
		wg.Go(func() {
			p, err := startProcErr(t, bin, "serve", "--k", k, "--bootstrap", first.addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			procs = append(procs, p)
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	keys := make([]string, values)
	for i := range keys {
		keys[i] = fmt.Sprintf("churn-key-%d", i)
		through := procs[i%servers]
		r := runProc(t, bin, "put", "--k", k, "--bootstrap", through.addr, keys[i], "value of "+keys[i])
		require.Equal(t, 0, r.code, "put %s: %s", keys[i], r.stderr)
		var acks int
		_, err := fmt.Sscanf(r.stdout, "stored %q: %d replica", new(string), &acks)
		require.NoError(t, err, "put's output: %q", r.stdout)
		require.Greater(t, acks, killed, "put %s: %d replicas, fewer than it takes to survive %d deaths", keys[i], acks, killed)
	}

	// Kill a third, the first server (every other's bootstrap peer) among
	// them, with no warning to anyone.
	order := append([]*proc{first}, shuffled(rng, procs[1:])...)
	dead, live := order[:killed], order[killed:]
	for _, p := range dead {
		p.kill()
	}

	modes := []string{"direct", "proxied", "direct-reply", "mixed:2"}
	var times []time.Duration
	for i, key := range keys {
		through, mode := live[i%len(live)], modes[i%len(modes)]
		r := runProc(t, bin, "get", "--k", k, "--mode", mode, "--bootstrap", through.addr, key)
		times = append(times, r.elapsed)
		if r.elapsed > time.Second {
			t.Logf("get %s in mode %s through %s took %v", key, mode, through.addr, r.elapsed)
		}
		if r.code != 0 || r.stdout != "value of "+key {
			t.Errorf("get %s in mode %s through %s: exit %d after %v, stdout %q, stderr: %s", key, mode, through.addr, r.code, r.elapsed, r.stdout, r.stderr)
		}
	}
	med, p90, slowest := quantiles(times)
	t.Logf("%d gets through %d survivors of %d servers: median %v, p90 %v, max %v", len(times), len(live), servers, med, p90, slowest)
	require.Less(t, med, time.Second, "median get")
	require.Less(t, slowest, 5*time.Second, "slowest get")

	r := runProc(t, bin, "get", "--k", k, "--bootstrap", live[0].addr, "no-one-stored-this")
	t.Logf("get of a missing key: exit %d after %v", r.code, r.elapsed)
	require.Equal(t, 1, r.code, "stdout %q, stderr: %s", r.stdout, r.stderr)
	require.Contains(t, r.stderr, `key "no-one-stored-this" not found`)
	require.Less(t, r.elapsed, 5*time.Second, "a missing key's get")
}

// proc is a dhtnode serve process.
type proc struct {
	cmd    *exec.Cmd
	addr   string // its first listening address
	stderr *lockedBuffer
	exited chan struct{}
}

// startProc starts bin with args (a serve command) and waits for its
// "ready" line. The process is stopped with SIGKILL at the end of the test.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p, err := startProcErr(t, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startProcErr is startProc for any goroutine: it reports what went wrong
// instead of failing the test.
func startProcErr(t *testing.T, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(p.kill)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// Past ready (or a failure) the rest of stdout is drained.
	defer func() {
		go func() {
			for range lines {
			}
		}()
	}()
	deadline := time.After(waitFor)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("%v: stdout closed before ready; stderr: %s", args, p.stderr)
			}
			if a, found := strings.CutPrefix(line, "listening "); found && p.addr == "" {
				p.addr = a
			}
			if line == "ready" {
				return p, nil
			}
		case <-deadline:
			return nil, fmt.Errorf("%v: not ready after %v; stderr: %s", args, waitFor, p.stderr)
		}
	}
}

// kill sends SIGKILL and waits for the process to exit; a second call
// does nothing. It is not safe for concurrent use.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	close(p.exited)
}

// procRun is how a command that ran to its end did.
type procRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// runProc runs bin with args to its end, bounded by waitFor, and times it.
func runProc(t *testing.T, bin string, args ...string) procRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := procRun{stdout: out.String(), stderr: errOut.String(), elapsed: time.Since(start)}
	if cmd.ProcessState == nil {
		t.Fatalf("%v: %v", args, err)
	}
	r.code = cmd.ProcessState.ExitCode()
	return r
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func shuffled[T any](rng *rand.Rand, s []T) []T {
	s = slices.Clone(s)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// quantiles returns the median, the 90th percentile and the largest of ds.
func quantiles(ds []time.Duration) (median, p90, largest time.Duration) {
	s := slices.Sorted(slices.Values(ds))
	if len(s) == 0 {
		return 0, 0, 0
	}
	return s[len(s)/2], s[len(s)*9/10], s[len(s)-1]
}
