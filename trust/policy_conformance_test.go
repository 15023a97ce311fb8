package trust_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/trust"
)

func TestOpenPolicyConformance(t *testing.T) {
	conformance.TestPolicy(t, func(*testing.T, []ed25519.PublicKey) trust.Policy { return trust.Open() })
}
