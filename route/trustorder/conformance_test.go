package trustorder_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

// spreadLevel gives peers levels from -1 to 3 by the last byte of their ID,
// which is random: every level, untrusted ones included, is well populated
// and unrelated to distance.
func spreadLevel(id peer.ID) int {
	var b [peer.MaxIDLen]byte
	s := id.AppendBytes(b[:0])
	return int(s[len(s)-1]%5) - 1
}

func newTable(opts trustorder.Options) func(t *testing.T, self peer.ID) route.Table {
	opts.Level = spreadLevel
	return func(t *testing.T, self peer.ID) route.Table {
		tbl, err := trustorder.New(self, opts)
		if err != nil {
			t.Fatalf("trustorder.New: %v", err)
		}
		return tbl
	}
}

// The suite checks Closest against the documented order, written out in
// the test, not taken from the table.
var stated = conformance.TableOptions{Compare: order(spreadLevel)}

func TestTableConformance(t *testing.T) {
	conformance.TestTable(t, newTable(trustorder.Options{}), stated)
}

// A capacity smaller than the suite's peer counts makes the table evict
// for more trusted newcomers and defer the others (Pending), and a
// replacement cache of 2 overflows.
func TestTableConformanceSmallCapacity(t *testing.T) {
	conformance.TestTable(t, newTable(trustorder.Options{K: 2, Capacity: 8, ReplacementCache: 2, MaxFailures: 1}), stated)
}
