package wot_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

// A node trusts its own key. It endorses Alice at level 2; Alice endorses
// Bob at 3, more than she has herself. The node meets Bob, refuses him while
// it knows nothing of him, and after one Refresh admits him at level 2: no
// one stands above those who vouch for them.
func Example() {
	seeded := func(b byte) *peer.Identity {
		id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{b}, 32))
		if err != nil {
			panic(err)
		}
		return id
	}
	h := peer.SHA256()
	me, alice, bob := seeded(1), seeded(2), seeded(3)

	// The DHT, reduced to a map: endorsements are plain values under the
	// endorsee's EndorsementKey.
	dht := map[peer.ID][]*trust.Value{}
	expires := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range []struct {
		by, of *peer.Identity
		level  int
	}{{me, alice, 2}, {alice, bob, 3}} {
		v, err := wot.NewEndorsement(e.by, h, e.of.ID(h), e.level, expires, 1)
		if err != nil {
			panic(err)
		}
		dht[v.Key] = append(dht[v.Key], v)
	}
	e, err := wot.ParseEndorsement(h, dht[wot.EndorsementKey(h, bob.ID(h))][0])
	if err != nil {
		panic(err)
	}
	fmt.Println("endorsement of", e.Endorsee.Short(), "by", e.EndorserID(h).Short(), "at", e.Level, "until", e.Expires.Format(time.DateOnly))

	p, err := wot.New(wot.Options{
		Hasher: h,
		Clock:  clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Roots:  []ed25519.PublicKey{me.PublicKey()},
	})
	if err != nil {
		panic(err)
	}
	bobRec, err := peer.NewRecord(bob, h, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println("before:", p.AcceptPeer(bobRec))

	fetch := func(_ context.Context, key peer.ID) ([]*trust.Value, error) { return dht[key], nil }
	if err := p.Refresh(context.Background(), fetch); err != nil {
		panic(err)
	}
	fmt.Println("after:", p.AcceptPeer(bobRec))
	fmt.Println("levels: me", p.Level(me.ID(h)), "alice", p.Level(alice.ID(h)), "bob", p.Level(bob.ID(h)))
	// Output:
	// endorsement of b62e867f by 6a3803d5 at 3 until 2027-01-01
	// before: wot: unresolved peer b62e867f (table; queued for the next refresh): trust: rejected by policy
	// after: <nil>
	// levels: me 3 alice 2 bob 2
}
