package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkShareFetch measures the file manager on a real network: 10
// dhtnode serve processes on loopback, a file shared through one
// filemanager process and fetched through another, over UDP and over TCP.
// It reports each side's MB/s (10^6 bytes a second, of the file's size)
// and peak memory (RSS). The file is 256 MiB, each chunk stored at 3
// replicas; FM_BENCH_MIB, FM_BENCH_REPLICAS and FM_BENCH_NODES change that:
//
//	go test -run '^$' -bench ShareFetch -benchtime 1x ./examples/filemanager
func BenchmarkShareFetch(b *testing.B) {
	mib := envInt(b, "FM_BENCH_MIB", 256)
	replicas := envInt(b, "FM_BENCH_REPLICAS", 3)
	nodes := envInt(b, "FM_BENCH_NODES", 10)
	src := randomFile(b, b.TempDir(), "bench.bin", mib<<20)
	for _, tr := range []string{"udp", "tcp"} {
		b.Run(fmt.Sprintf("%s/%dMiB/%dnodes/r%d", tr, mib, nodes, replicas), func(b *testing.B) {
			boot := startServers(b, nodes, "--listen", "/ip4/127.0.0.1/"+tr+"/0")[0]
			var shareSecs, fetchSecs float64
			var sharePeak, fetchPeak int64
			for i := range b.N {
				share := runBin(b, "share", "--bootstrap", boot, "--replicas", strconv.Itoa(replicas), src)
				if share.code != 0 {
					b.Fatalf("share: %s", share.stderr)
				}
				out := filepath.Join(b.TempDir(), fmt.Sprint("out", i))
				fetch := runBin(b, "fetch", "--bootstrap", boot, "-o", out, strings.TrimSpace(share.stdout))
				if fetch.code != 0 {
					b.Fatalf("fetch: %s", fetch.stderr)
				}
				b.StopTimer()
				if !sameFile(b, src, out) {
					b.Fatal("the fetched file differs")
				}
				os.Remove(out)
				b.StartTimer()
				shareSecs += share.elapsed.Seconds()
				fetchSecs += fetch.elapsed.Seconds()
				sharePeak = max(sharePeak, peakMemory(b, share.stderr))
				fetchPeak = max(fetchPeak, peakMemory(b, fetch.stderr))
			}
			size := float64(mib<<20) * float64(b.N)
			b.ReportMetric(size/shareSecs/1e6, "share-MB/s")
			b.ReportMetric(size/fetchSecs/1e6, "fetch-MB/s")
			b.ReportMetric(float64(sharePeak)/(1<<20), "share-peak-MiB")
			b.ReportMetric(float64(fetchPeak)/(1<<20), "fetch-peak-MiB")
		})
	}
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// sameFile reports whether two files hold the same bytes, reading them a
// block at a time.
func sameFile(tb testing.TB, a, b string) bool {
	fa, err := os.Open(a)
	if err != nil {
		tb.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		tb.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, erra := fa.Read(ba)
		nb, _ := io.ReadFull(fb, bb[:na])
		if nb != na || string(ba[:na]) != string(bb[:nb]) {
			return false
		}
		if erra != nil {
			extra, _ := fb.Read(bb[:1])
			return extra == 0
		}
	}
}
