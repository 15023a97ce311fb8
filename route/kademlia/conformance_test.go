package kademlia_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
)

func newTable(opts kademlia.Options) func(t *testing.T, self peer.ID) route.Table {
	return func(t *testing.T, self peer.ID) route.Table {
		tbl, err := kademlia.New(self, opts)
		if err != nil {
			t.Fatalf("kademlia.New: %v", err)
		}
		return tbl
	}
}

func TestTableConformance(t *testing.T) {
	conformance.TestTable(t, newTable(kademlia.Options{}))
}

// Small buckets fill after a handful of peers, so the suite sees Pending
// updates, a replacement cache at work and a table that drops peers.
func TestTableConformanceSmallBuckets(t *testing.T) {
	conformance.TestTable(t, newTable(kademlia.Options{K: 2, ReplacementCache: 1, MaxFailures: 1}))
}
