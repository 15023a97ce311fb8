package trustorder_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

func TestNewRejectsInvalidOptions(t *testing.T) {
	self := randomID(rand.New(rand.NewPCG(10, 10)), 32)
	level := func(peer.ID) int { return 1 }
	for name, c := range map[string]struct {
		self peer.ID
		opts trustorder.Options
	}{
		"nil Level":                 {self, trustorder.Options{}},
		"negative K":                {self, trustorder.Options{Level: level, K: -1}},
		"K too large for Capacity":  {self, trustorder.Options{Level: level, K: math.MaxInt / 2}},
		"negative Capacity":         {self, trustorder.Options{Level: level, Capacity: -1}},
		"negative ReplacementCache": {self, trustorder.Options{Level: level, ReplacementCache: -3}},
		"negative MaxFailures":      {self, trustorder.Options{Level: level, MaxFailures: -2}},
		"zero self":                 {peer.ID{}, trustorder.Options{Level: level}},
	} {
		tbl, err := trustorder.New(c.self, c.opts)
		if !errors.Is(err, trustorder.ErrInvalidOptions) || tbl != nil {
			t.Errorf("%s: New = %v, %v; want nil and ErrInvalidOptions", name, tbl, err)
		}
	}
}

// The defaults are documented: Capacity 16*K, so a table with K 2 holds 32
// peers and defers the 33rd of the same level.
func TestCapacityDefaultsToSixteenK(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	tbl := mustNew(t, randomID(rng, 32), trustorder.Options{K: 2, Level: func(peer.ID) int { return 1 }})
	for i := range 32 {
		if res := tbl.Update(&peer.Record{ID: randomID(rng, 32)}, t0); res.Status != route.Added {
			t.Fatalf("Update %d = %v, want added below 16*K", i+1, res.Status)
		}
	}
	if res := tbl.Update(&peer.Record{ID: randomID(rng, 32)}, t0); res.Status != route.Pending {
		t.Fatalf("Update 33 = %v, want pending at 16*K", res.Status)
	}
}

func TestUpdateRejectsNilSelfAndOtherKeySpaces(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	self := randomID(rng, 32)
	tbl := mustNew(t, self, trustorder.Options{Level: func(peer.ID) int { return 1 }})
	for name, c := range map[string]struct {
		rec  *peer.Record
		want error
	}{
		"nil":             {nil, trustorder.ErrNilRecord},
		"self":            {&peer.Record{ID: self}, route.ErrSelf},
		"other key space": {&peer.Record{ID: randomID(rng, 20)}, route.ErrKeySpace},
	} {
		res := tbl.Update(c.rec, t0)
		if res.Status != route.Rejected || !errors.Is(res.Err, c.want) || !strings.HasPrefix(res.Err.Error(), "trustorder: ") {
			t.Errorf("Update(%s) = %v, %v; want rejected, an error matching %v with the package prefix", name, res.Status, res.Err, c.want)
		}
	}
	if tbl.Len() != 0 {
		t.Fatalf("Len = %d after rejected updates", tbl.Len())
	}
}

func TestSaysItIsNotXOROrdered(t *testing.T) {
	tbl := mustNew(t, randomID(rand.New(rand.NewPCG(13, 13)), 32), trustorder.Options{Level: func(peer.ID) int { return 1 }})
	if route.XOROrdered(tbl) {
		t.Fatal("route.XOROrdered reports a trust-ordered table as XOR-ordered")
	}
}
