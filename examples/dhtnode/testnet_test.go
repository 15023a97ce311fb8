package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

// tableRow matches a row of testnet's table: mode, success x/y, local
// reads, median, p99, RPCs and hops per lookup.
var tableRow = regexp.MustCompile(`(?m)^\s*(\S+)\s+(\d+)/(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s*$`)

type testnetRow struct {
	ok, total, local int
	rpcs, hops       float64
}

func testnetRows(t *testing.T, out string) map[string]testnetRow {
	rows := make(map[string]testnetRow)
	for _, m := range tableRow.FindAllStringSubmatch(out, -1) {
		var r testnetRow
		r.ok, _ = strconv.Atoi(m[2])
		r.total, _ = strconv.Atoi(m[3])
		r.local, _ = strconv.Atoi(m[4])
		r.rpcs, _ = strconv.ParseFloat(m[7], 64)
		r.hops, _ = strconv.ParseFloat(m[8], 64)
		rows[m[1]] = r
	}
	return rows
}

func TestTestnetOfEightNodesSucceedsInEveryMode(t *testing.T) {
	code, out, errOut := runCmd(t, "testnet", "--nodes", "8", "--lookups", "12")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, errOut, "starting nodes 8/8", "progress is shown while the network starts")
	require.Contains(t, out, "8 nodes on /ip4/127.0.0.1/udp/0")
	rows := testnetRows(t, out)
	require.Len(t, rows, len(node.Modes()), "one row per mode:\n%s", out)
	for _, m := range node.Modes() {
		r, ok := rows[m.String()]
		require.True(t, ok, "no row for %s:\n%s", m, out)
		require.Equal(t, 12, r.total)
		require.GreaterOrEqual(t, float64(r.ok), passRate*12, "%s:\n%s", m, out)
		// Readers are outside the k closest, so most reads are lookups,
		// and a lookup costs at least one RPC and one hop.
		require.Less(t, r.local, r.total/2, "%s: most reads must be lookups", m)
		require.GreaterOrEqual(t, r.rpcs, 1.0, "%s: lookups must cost RPCs", m)
		require.GreaterOrEqual(t, r.hops, 1.0, "%s: lookups must cross a hop", m)
	}
}

func TestTestnetWithOneModeOverOtherPartsMeasuresOnlyThatMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "made-by-testnet")
	code, out, errOut := runCmd(t, "testnet", "--nodes", "6", "--lookups", "6", "--mode", "proxied",
		"--codec", "json", "--route", "toymap", "--listen", "/ip4/127.0.0.1/tcp/0", "--store", "bbolt:"+dir)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	rows := testnetRows(t, out)
	require.Len(t, rows, 1, out)
	require.Equal(t, 6, rows["proxied"].ok, out)
	require.Contains(t, out, "codec json, table toymap, store bbolt:")
	for i := range 6 {
		require.FileExists(t, filepath.Join(dir, fmt.Sprintf("node-%04d.db", i)), "--store bbolt:DIR: one file a node in DIR")
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	require.Equal(t, time.Duration(50), percentile(d, 50))
	require.Equal(t, time.Duration(99), percentile(d, 99))
	require.Equal(t, time.Duration(3), percentile(d[:3], 99))
	require.Equal(t, time.Duration(2), percentile(d[:3], 50))
	require.Zero(t, percentile(nil, 50))
}

func TestTestnetExitsOneWhenAModeReadsBackTooFew(t *testing.T) {
	results := func(okDirect, okProxied int) []modeResult {
		mk := func(m node.Mode, ok int) modeResult {
			r := modeResult{mode: m, ok: ok}
			for i := range 10 {
				s := sample{ok: i < ok, trace: node.Trace{RPCs: 2, Hops: 1, Latency: time.Millisecond}}
				r.samples = append(r.samples, s)
			}
			return r
		}
		return []modeResult{mk(node.Direct(), okDirect), mk(node.Proxied(), okProxied)}
	}
	var out, errOut strings.Builder
	require.Equal(t, 0, report(&out, &errOut, results(10, 9)), "9 of 10 meets the 90%% threshold")
	require.Contains(t, out.String(), "ok: every mode")
	require.Empty(t, errOut.String())

	out.Reset()
	require.Equal(t, 1, report(&out, &errOut, results(10, 8)), "8 of 10 is below it")
	require.Contains(t, errOut.String(), "mode proxied read back 8 of 10 values, below the 90% needed")
	require.NotContains(t, errOut.String(), "mode direct")
	require.NotContains(t, out.String(), "ok: every mode")
	require.Len(t, testnetRows(t, out.String()), 2, "the table is printed all the same")
}
