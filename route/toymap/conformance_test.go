package toymap_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/toymap"
)

func newTable(opts toymap.Options) func(t *testing.T, self peer.ID) route.Table {
	return func(t *testing.T, self peer.ID) route.Table {
		tbl, err := toymap.New(self, opts)
		if err != nil {
			t.Fatalf("toymap.New: %v", err)
		}
		return tbl
	}
}

func TestTableConformance(t *testing.T) {
	conformance.TestTable(t, newTable(toymap.Options{}))
}

// A bound smaller than the suite's peer counts makes the table evict.
func TestTableConformanceBounded(t *testing.T) {
	conformance.TestTable(t, newTable(toymap.Options{MaxPeers: 7, MaxFailures: 1}))
}
