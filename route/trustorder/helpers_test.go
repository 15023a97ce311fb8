package trustorder_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func randomID(rng *rand.Rand, size int) peer.ID {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	id, _ := peer.IDFromBytes(b)
	return id
}

func mustNew(t testing.TB, self peer.ID, opts trustorder.Options) *trustorder.Table {
	t.Helper()
	tbl, err := trustorder.New(self, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// levels is a trust policy under the test's control: a level per peer, 0
// for peers never set, changeable at any time.
type levels struct {
	mu sync.RWMutex
	m  map[peer.ID]int
}

func newLevels() *levels { return &levels{m: make(map[peer.ID]int)} }

func (l *levels) set(id peer.ID, level int) {
	l.mu.Lock()
	l.m[id] = level
	l.mu.Unlock()
}

func (l *levels) Level(id peer.ID) int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.m[id]
}

// rank is the documented rule, written out independently of the table:
// every level <= 0 is one untrusted level.
func rank(level int) int { return max(level, 0) }

// order is the documented order of Closest for a level function: higher
// rank first, then XOR distance.
func order(level func(peer.ID) int) func(target, a, b peer.ID) int {
	return func(target, a, b peer.ID) int {
		if ra, rb := rank(level(a)), rank(level(b)); ra != rb {
			return rb - ra
		}
		return peer.CompareDistance(target, a, b)
	}
}

func ids(recs []*peer.Record) []peer.ID {
	out := make([]peer.ID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func shorts(ids []peer.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Short()
	}
	return out
}
