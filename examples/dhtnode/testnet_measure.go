package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

// opTimeout bounds one put or get of testnet, so that a lost query costs a
// bounded time instead of its whole hop budget.
const opTimeout = 5 * time.Second

// sample is the outcome of one get.
type sample struct {
	ok    bool
	trace node.Trace
}

// modeResult is what one mode's lookups gave.
type modeResult struct {
	mode    node.Mode
	ok      int
	samples []sample
}

func (r modeResult) passed() bool { return float64(r.ok) >= passRate*float64(len(r.samples)) }

// measure puts lookups values in mode, each through a random node, and reads
// each back through a random node outside the k closest to its key, so that
// the read is a lookup and not a local hit.
func (tn *testnet) measure(ctx context.Context, mode node.Mode, lookups int, rng *rand.Rand) (modeResult, error) {
	res := modeResult{mode: mode}
	for i := range lookups {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		key := []byte(fmt.Sprintf("testnet/%s/%d", mode, i))
		value := []byte(fmt.Sprintf("value %d, put in %s mode", i, mode))
		writer := tn.nodes[rng.IntN(len(tn.nodes))]
		reader := tn.pickReader(writer, key, rng)
		s := tn.putGet(ctx, writer, reader, mode, key, value)
		if s.ok {
			res.ok++
		}
		res.samples = append(res.samples, s)
	}
	return res, nil
}

func (tn *testnet) putGet(ctx context.Context, writer, reader *node.Node, mode node.Mode, key, value []byte) sample {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var s sample
	if _, err := writer.Put(ctx, key, value, node.WithMode(mode)); err != nil {
		return s
	}
	got, err := reader.Get(ctx, key, node.WithMode(mode), node.WithTrace(&s.trace))
	s.ok = err == nil && bytes.Equal(got, value)
	return s
}

// pickReader returns a random node other than writer and outside the k
// closest to key, or any other node when the network is too small for that.
func (tn *testnet) pickReader(writer *node.Node, key []byte, rng *rand.Rand) *node.Node {
	target := writer.KeyID(key)
	byDistance := slices.Clone(tn.nodes)
	slices.SortFunc(byDistance, func(a, b *node.Node) int { return peer.CompareDistance(target, a.ID(), b.ID()) })
	far := slices.DeleteFunc(byDistance[min(tn.k, len(byDistance)):], func(n *node.Node) bool { return n == writer })
	if len(far) == 0 {
		far = slices.DeleteFunc(slices.Clone(tn.nodes), func(n *node.Node) bool { return n == writer })
	}
	return far[rng.IntN(len(far))]
}

// writeTable prints one row per mode. A read that the reader answered from
// its own store (a replica landed on it: forwarded puts choose replicas from
// the last hop's table, not the global k closest) cost nothing; it counts in
// success and "local" but not in the latency, RPC and hop figures, which
// describe lookups.
func writeTable(w io.Writer, results []modeResult) {
	const row = "%-13s %8s %6s %9s %9s %12s %12s\n"
	fmt.Fprintf(w, row, "mode", "success", "local", "median", "p99", "rpcs/lookup", "hops/lookup")
	for _, r := range results {
		var lat []time.Duration
		var local, rpcs, hops int
		for _, s := range r.samples {
			if s.ok && s.trace.RPCs == 0 {
				local++
				continue
			}
			lat = append(lat, s.trace.Latency)
			rpcs += s.trace.RPCs
			hops += s.trace.Hops
		}
		slices.Sort(lat)
		n := float64(max(1, len(lat)))
		fmt.Fprintf(w, row, r.mode, fmt.Sprintf("%d/%d", r.ok, len(r.samples)), strconv.Itoa(local),
			roundDuration(percentile(lat, 50)), roundDuration(percentile(lat, 99)),
			strconv.FormatFloat(float64(rpcs)/n, 'f', 1, 64), strconv.FormatFloat(float64(hops)/n, 'f', 1, 64))
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// roundDuration keeps three significant digits or so.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
