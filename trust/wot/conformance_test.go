package wot_test

import (
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

// tickingClock advances by step at every reading, so that with a CacheTTL
// of one step every Refresh finds every cached peer stale.
type tickingClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *tickingClock) NewTimer(d time.Duration) clock.Timer { return clock.System().NewTimer(d) }

// policyConfig is one configuration the suite runs the policy in: options
// for New and how Vouch endorses.
type policyConfig struct {
	name  string
	opts  func(h peer.Hasher, roots []ed25519.PublicKey) wot.Options
	vouch func(h peer.Hasher, endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error)
}

var policyStart = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

func policyConfigs() []policyConfig {
	return []policyConfig{
		{
			name: "defaults",
			opts: func(h peer.Hasher, roots []ed25519.PublicKey) wot.Options {
				return wot.Options{Hasher: h, Roots: roots}
			},
			vouch: func(h peer.Hasher, endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
				return wot.NewEndorsement(endorser, h, endorsee, wot.DefaultMaxLevel, time.Time{}, 1)
			},
		},
		// Endorsements above MaxLevel count at MaxLevel; one that expires
		// later counts until then; a CacheTTL of one clock step makes every
		// Refresh fetch every cached peer again.
		{
			name: "clamped-expiring-short-ttl",
			opts: func(h peer.Hasher, roots []ed25519.PublicKey) wot.Options {
				return wot.Options{Hasher: h, Roots: roots, MaxLevel: 2, CacheTTL: time.Millisecond,
					Clock: &tickingClock{now: policyStart, step: time.Millisecond}}
			},
			vouch: func(h peer.Hasher, endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
				return wot.NewEndorsement(endorser, h, endorsee, wot.MaxEncodableLevel, policyStart.Add(time.Hour), 1)
			},
		},
		// The smallest bounds, open value gate, relays for clients: the
		// eviction and queue-full paths of Refresh.
		{
			name: "small-bounds-open-gates",
			opts: func(h peer.Hasher, roots []ed25519.PublicKey) wot.Options {
				return wot.Options{Hasher: h, Roots: roots, MaxCache: 1, MaxPending: 1, FetchesPerRefresh: 1,
					ValueLevel: wot.Anyone, RelayForClients: true, Threshold: 1}
			},
			vouch: func(h peer.Hasher, endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
				return wot.NewEndorsement(endorser, h, endorsee, 1, time.Time{}, 1)
			},
		},
	}
}

func TestPolicyConformance(t *testing.T) {
	for i, c := range policyConfigs() {
		hashers := []peer.Hasher{peer.SHA256(), peer.SHA1()}
		if i > 0 {
			hashers = hashers[:1] // the key space is not what these vary
		}
		for _, h := range hashers {
			t.Run(c.name+"/"+h.Name(), func(t *testing.T) {
				conformance.TestPolicy(t, func(t *testing.T, roots []ed25519.PublicKey) trust.Policy {
					p, err := wot.New(c.opts(h, roots))
					if err != nil {
						t.Fatalf("wot.New = %v", err)
					}
					return p
				}, conformance.PolicyOptions{Hasher: h, Vouch: func(endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
					return c.vouch(h, endorser, endorsee)
				}})
			})
		}
	}
}
