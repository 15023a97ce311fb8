package toymap_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/toymap"
)

const benchPeers = 10_000

// benchTable fills a table with benchPeers random peers, bounded at max
// (0: the default bound).
func benchTable(b *testing.B, rng *rand.Rand, max int) (*toymap.Table, []*peer.Record) {
	tbl := mustNew(b, randomID(rng, 32), toymap.Options{MaxPeers: max})
	recs := make([]*peer.Record, benchPeers)
	for i := range recs {
		recs[i] = &peer.Record{ID: randomID(rng, 32)}
		tbl.Update(recs[i], t0)
	}
	return tbl, recs
}

func BenchmarkClosest20(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	tbl, _ := benchTable(b, rng, 0)
	targets := make([]peer.ID, 1024)
	for i := range targets {
		targets[i] = randomID(rng, 32)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tbl.Closest(targets[i%len(targets)], 20)
		i++
	}
	b.ReportMetric(float64(tbl.Len()), "peers")
}

// BenchmarkUpdate measures contact with a held peer (Refreshed) and with a
// newcomer to a full table (Added, evicting the least recently seen).
func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(8, 8))
	b.Run("held", func(b *testing.B) {
		tbl, recs := benchTable(b, rng, 0)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tbl.Update(recs[i%len(recs)], t0)
			i++
		}
		b.ReportMetric(float64(tbl.Len()), "peers")
	})
	b.Run("newcomer", func(b *testing.B) {
		tbl, _ := benchTable(b, rng, benchPeers)
		fresh := make([]*peer.Record, 1<<16)
		for i := range fresh {
			fresh[i] = &peer.Record{ID: randomID(rng, 32)}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tbl.Update(fresh[i%len(fresh)], t0)
			i++
		}
		b.ReportMetric(float64(tbl.Len()), "peers")
	})
}
