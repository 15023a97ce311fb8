package kademlia_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
)

// benchTable inserts 100,000 random IDs, enough to saturate every bucket
// that random IDs can reach (about log2(100,000/20) deep).
func benchTable(b *testing.B, rng *rand.Rand) (*kademlia.Table, []*peer.Record) {
	self := route.Range{Prefix: selfID(b, 32)}.Random(rng)
	tbl := mustNew(b, self, kademlia.Options{})
	recs := make([]*peer.Record, 100_000)
	for i := range recs {
		recs[i] = &peer.Record{ID: route.Range{Prefix: self}.Random(rng)}
		tbl.Update(recs[i], t0)
	}
	return tbl, recs
}

func BenchmarkClosest20(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	tbl, _ := benchTable(b, rng)
	targets := make([]peer.ID, 1024)
	for i := range targets {
		targets[i] = route.Range{Prefix: tbl.Self()}.Random(rng)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tbl.Closest(targets[i%len(targets)], 20)
		i++
	}
	b.ReportMetric(float64(tbl.Len()), "peers")
}

// BenchmarkUpdate measures contact with a held peer (Refreshed: it moves
// to the most recently seen end) and with a newcomer to a full bucket
// (Pending: it enters the replacement cache).
func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(8, 8))
	tbl, recs := benchTable(b, rng)
	var held, waiting []*peer.Record
	for _, r := range recs {
		if _, ok := tbl.Get(r.ID); ok {
			held = append(held, r)
		} else {
			waiting = append(waiting, r)
		}
	}
	for _, c := range []struct {
		name string
		recs []*peer.Record
	}{{"held", held}, {"newcomer", waiting}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tbl.Update(c.recs[i%len(c.recs)], t0)
				i++
			}
			b.ReportMetric(float64(tbl.Len()), "peers")
		})
	}
}
