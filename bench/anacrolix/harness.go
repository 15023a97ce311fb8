package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is what one run measures; the flags fill it.
type config struct {
	nodes   int           // nodes in each network
	lookups int           // lookups a round, on each side
	rounds  int           // rounds; each builds both networks anew
	k       int           // bucket size and lookup width, both sides
	alpha   int           // lookup concurrency, both sides
	timeout time.Duration // bound on one lookup and one join
	seed    uint64        // seeds the choice of targets and origins
	checks  int           // lookups of known nodes by ID, to count those found
	// warm is how many lookups run, unmeasured, before the measured ones:
	// 0 measures a network just built, more one whose tables its own
	// traffic has filled (see README).
	warm int
	// beforeLookups, when set, runs before dhtkit's lookups and returns a
	// function run after them (the CPU profile hooks in here).
	beforeLookups func() (after func())
	// idle, when set, runs once dhtkit's network is built and its heap
	// measured (the heap profile hooks in here).
	idle func()
}

// side is one DHT implementation under test.
type side interface {
	name() string
	// build starts cfg.nodes nodes, each on its own loopback UDP socket,
	// and joins them one after another through the first.
	build(ctx context.Context, cfg config) (network, error)
}

// network is a built network of one side.
type network interface {
	// lookup runs one lookup of a random target from node origin and
	// returns how many requests it sent.
	lookup(ctx context.Context, origin int, r *rand.Rand) (rpcs int, err error)
	// find looks up node i's own ID from node origin and reports an error
	// unless the lookup reached node i: proof that the network is joined.
	find(ctx context.Context, origin, i int) error
	close()
}

// result is what one side measured in one round.
type result struct {
	build             time.Duration
	latencies         []time.Duration
	failed            int
	rpcs              int
	cpu               time.Duration // process CPU time over the lookups
	heapPerNode       float64       // bytes, idle network after GC, over the baseline
	goroutinesPerNode float64
	found             int    // known nodes found by ID, of config.checks
	note              string // what the side says of its build
	detail            string // what the side says of its lookups
}

func (r result) cpuPerLookup() time.Duration {
	n := len(r.latencies) + r.failed
	if n == 0 {
		return 0
	}
	return r.cpu / time.Duration(n)
}

func (r result) rpcsPerLookup() float64 {
	n := len(r.latencies) + r.failed
	if n == 0 {
		return 0
	}
	return float64(r.rpcs) / float64(n)
}

// measure builds one network of s, measures its idle heap, counts how
// many of its own nodes it finds by ID, runs cfg.lookups lookups one at a
// time and closes it.
func measure(ctx context.Context, s side, cfg config, round int, profile bool) (res result, err error) {
	baseHeap, baseG := settle()
	start := time.Now()
	net, err := s.build(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("%s: build: %w", s.name(), err)
	}
	defer func() {
		net.close()
		// Some of a side's goroutines end just after Close returns; wait
		// for them, so that the next network's baseline is not inflated.
		waitGoroutines(baseG, 10*time.Second)
	}()
	res.build = time.Since(start)
	if n, ok := net.(interface{ note() string }); ok {
		res.note = n.note()
	}

	// Idle: built, before any lookup of the harness's.
	heap, g := settle()
	res.heapPerNode = float64(int64(heap)-int64(baseHeap)) / float64(cfg.nodes)
	res.goroutinesPerNode = float64(g-baseG) / float64(cfg.nodes)
	if profile && cfg.idle != nil {
		cfg.idle()
	}

	r := rand.New(rand.NewPCG(cfg.seed, uint64(round)))
	for range cfg.checks {
		origin, i := r.IntN(cfg.nodes), r.IntN(cfg.nodes)
		fctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		if net.find(fctx, origin, i) == nil {
			res.found++
		}
		cancel()
	}

	for range cfg.warm {
		lctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		_, _ = net.lookup(lctx, r.IntN(cfg.nodes), r)
		cancel()
	}

	var after func()
	if profile && cfg.beforeLookups != nil {
		after = cfg.beforeLookups()
	}
	var d0 lookupDetail
	dn, hasDetail := net.(detailer)
	if hasDetail {
		d0 = dn.detail()
	}
	cpu0 := cpuTime()
	for range cfg.lookups {
		origin := r.IntN(cfg.nodes)
		lctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		t0 := time.Now()
		rpcs, err := net.lookup(lctx, origin, r)
		d := time.Since(t0)
		cancel()
		res.rpcs += rpcs
		if err != nil {
			res.failed++
			continue
		}
		res.latencies = append(res.latencies, d)
	}
	res.cpu = cpuTime() - cpu0
	if hasDetail {
		d1 := dn.detail()
		res.detail = fmt.Sprintf("%.1f sig checks/lkp, table %.1f→%.1f",
			float64(d1.sigChecks-d0.sigChecks)/float64(cfg.lookups), d0.table, d1.table)
	}
	if after != nil {
		after()
	}
	return res, nil
}

// detailer is a network that can say what its nodes did: the signature
// checks they made in all and their mean table size. The difference over
// the lookups shows what a lookup costs beyond its requests.
type detailer interface{ detail() lookupDetail }

type lookupDetail struct {
	sigChecks uint64
	table     float64
}

// waitGoroutines polls until at most n goroutines run, or for d.
func waitGoroutines(n int, d time.Duration) {
	deadline := time.Now().Add(d)
	for runtime.NumGoroutine() > n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// settle collects garbage and returns the live heap and the goroutines.
func settle() (heap uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, runtime.NumGoroutine()
}

// cpuTime is the process's user and system CPU time so far: every node of
// the network runs in this process, so it counts the whole network's work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentile returns the p-th percentile (0..100) of sorted ds, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// summary pools one side's rounds.
type summary struct {
	p50, p99, cpu   time.Duration
	heap, g, rpcs   float64
	build           time.Duration
	lookups, failed int
	found, checks   int
}

func summarize(rs []result) summary {
	var s summary
	var all []time.Duration
	var cpu time.Duration
	for _, r := range rs {
		all = append(all, r.latencies...)
		s.failed += r.failed
		s.found += r.found
		s.lookups += len(r.latencies) + r.failed
		cpu += r.cpu
		s.heap += r.heapPerNode / float64(len(rs))
		s.g += r.goroutinesPerNode / float64(len(rs))
		s.rpcs += float64(r.rpcs)
		s.build += r.build / time.Duration(len(rs))
	}
	slices.Sort(all)
	s.p50, s.p99 = percentile(all, 50), percentile(all, 99)
	if s.lookups > 0 {
		s.cpu = cpu / time.Duration(s.lookups)
		s.rpcs /= float64(s.lookups)
	}
	return s
}

// run measures both sides, alternating which goes first each round so that
// neither always meets a warmer or a colder machine, and prints each round
// and the ratios dhtkit/anacrolix.
func run(ctx context.Context, w io.Writer, cfg config, dk, an side) (dhtkit, anacrolix summary, err error) {
	fmt.Fprintf(w, "%d nodes a network, each on its own loopback UDP socket; k=%d alpha=%d; %d lookups of random IDs a round", cfg.nodes, cfg.k, cfg.alpha, cfg.lookups)
	if cfg.warm > 0 {
		fmt.Fprintf(w, ", after %d unmeasured", cfg.warm)
	}
	fmt.Fprintf(w, "; %d rounds\n\n", cfg.rounds)
	fmt.Fprintf(w, "%-5s %-9s %10s %9s %9s %10s %8s %10s %9s %6s %6s\n",
		"round", "side", "build", "p50", "p99", "cpu/lkp", "rpc/lkp", "heap/node", "gor/node", "failed", "found")
	byName := map[string][]result{}
	for round := range cfg.rounds {
		order := []side{dk, an}
		if round%2 == 1 {
			order = []side{an, dk}
		}
		for _, s := range order {
			res, err := measure(ctx, s, cfg, round, s == dk)
			if err != nil {
				return dhtkit, anacrolix, err
			}
			byName[s.name()] = append(byName[s.name()], res)
			slices.Sort(res.latencies)
			fmt.Fprintf(w, "%-5d %-9s %10s %9s %9s %10s %8.1f %9.1fK %9.2f %6d %3d/%-2d %s\n",
				round+1, s.name(), res.build.Round(time.Millisecond),
				roundDur(percentile(res.latencies, 50)), roundDur(percentile(res.latencies, 99)),
				roundDur(res.cpuPerLookup()), res.rpcsPerLookup(),
				res.heapPerNode/1024, res.goroutinesPerNode, res.failed, res.found, cfg.checks, strings.TrimSpace(res.note+" "+res.detail))
		}
	}
	dhtkit, anacrolix = summarize(byName[dk.name()]), summarize(byName[an.name()])
	dhtkit.checks, anacrolix.checks = cfg.checks*cfg.rounds, cfg.checks*cfg.rounds
	fmt.Fprintf(w, "\nall rounds    %12s %12s %8s\n", dk.name(), an.name(), "ratio")
	row := func(label string, d, a float64, unit string, f func(float64) string) {
		ratio := "-"
		if a != 0 {
			ratio = fmt.Sprintf("%.2fx", d/a)
		}
		fmt.Fprintf(w, "%-13s %12s %12s %8s\n", label, f(d)+unit, f(a)+unit, ratio)
	}
	dur := func(v float64) string { return roundDur(time.Duration(v)).String() }
	num := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	row("lookup p50", float64(dhtkit.p50), float64(anacrolix.p50), "", dur)
	row("lookup p99", float64(dhtkit.p99), float64(anacrolix.p99), "", dur)
	row("cpu/lookup", float64(dhtkit.cpu), float64(anacrolix.cpu), "", dur)
	row("rpcs/lookup", dhtkit.rpcs, anacrolix.rpcs, "", num)
	row("heap/node", dhtkit.heap/1024, anacrolix.heap/1024, " KiB", num)
	row("goroutines/n", dhtkit.g, anacrolix.g, "", func(v float64) string { return fmt.Sprintf("%.2f", v) })
	row("build+join", float64(dhtkit.build), float64(anacrolix.build), "", dur)
	fmt.Fprintf(w, "failed lookups: %s %d/%d, %s %d/%d; own nodes found by ID: %s %d/%d, %s %d/%d\n",
		dk.name(), dhtkit.failed, dhtkit.lookups, an.name(), anacrolix.failed, anacrolix.lookups,
		dk.name(), dhtkit.found, dhtkit.checks, an.name(), anacrolix.found, anacrolix.checks)
	return dhtkit, anacrolix, nil
}

// roundDur keeps three significant digits or so.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}
