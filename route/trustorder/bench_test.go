package trustorder_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

const benchPeers = 1_000

// benchTable holds benchPeers random peers over levels -1 to 3. Level is
// a read-only map lookup, the least a policy holding levels can do: Closest
// calls it once per held peer, so its cost is part of the figures. With
// inline set, Level computes the level from the ID instead, and the figure
// is the table's own cost.
func benchTable(b *testing.B, rng *rand.Rand, inline bool) (*trustorder.Table, []*peer.Record) {
	level := make(map[peer.ID]int, 2*benchPeers)
	recs := make([]*peer.Record, benchPeers)
	for i := range recs {
		recs[i] = &peer.Record{ID: randomID(rng, 32)}
		level[recs[i].ID] = rng.IntN(5) - 1
	}
	opts := trustorder.Options{Capacity: benchPeers, Level: func(id peer.ID) int { return level[id] }}
	if inline {
		opts.Level = spreadLevel
	}
	tbl := mustNew(b, randomID(rng, 32), opts)
	for _, r := range recs {
		tbl.Update(r, t0)
	}
	if tbl.Len() != benchPeers {
		b.Fatalf("Len = %d, want %d", tbl.Len(), benchPeers)
	}
	return tbl, recs
}

func BenchmarkClosest20(b *testing.B) {
	for _, c := range []struct {
		name   string
		inline bool
	}{{"level=map", false}, {"level=inline", true}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 7))
			tbl, _ := benchTable(b, rng, c.inline)
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
		})
	}
}

// BenchmarkUpdate measures contact with a held peer (Refreshed) and with a
// newcomer to the full table, which is ranked against the least trusted
// held peer (Added in its place, or Pending).
func BenchmarkUpdate(b *testing.B) {
	rng := rand.New(rand.NewPCG(8, 8))
	b.Run("held", func(b *testing.B) {
		tbl, recs := benchTable(b, rng, false)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tbl.Update(recs[i%len(recs)], t0)
			i++
		}
	})
	b.Run("newcomer", func(b *testing.B) {
		tbl, _ := benchTable(b, rng, false)
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
	})
}
