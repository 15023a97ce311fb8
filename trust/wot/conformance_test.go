package wot_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

func TestPolicyConformance(t *testing.T) {
	for _, h := range []peer.Hasher{peer.SHA256(), peer.SHA1()} {
		t.Run(h.Name(), func(t *testing.T) {
			conformance.TestPolicy(t, func(t *testing.T, roots []ed25519.PublicKey) trust.Policy {
				p, err := wot.New(wot.Options{Hasher: h, Roots: roots})
				if err != nil {
					t.Fatalf("wot.New = %v", err)
				}
				return p
			}, conformance.PolicyOptions{Hasher: h, Vouch: func(endorser *peer.Identity, endorsee peer.ID) (*trust.Value, error) {
				return wot.NewEndorsement(endorser, h, endorsee, wot.DefaultMaxLevel, time.Time{}, 1)
			}})
		})
	}
}
