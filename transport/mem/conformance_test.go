package mem_test

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
)

// newGroup returns n endpoints on a fresh network with the given options,
// closed with the test.
func newGroup(opts mem.Options) func(t *testing.T, n int) []transport.Transport {
	return func(t *testing.T, n int) []transport.Transport {
		net := mem.NewNetwork(opts)
		t.Cleanup(func() { _ = net.Close() })
		ts := make([]transport.Transport, n)
		for i := range ts {
			e, err := net.Listen(nil)
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			ts[i] = e
		}
		return ts
	}
}

func TestConformanceDefaultNetwork(t *testing.T) {
	conformance.TestTransport(t, newGroup(mem.Options{}))
}

// The suite must also pass on a network that loses and delays frames, with
// small limits, since a transport is only best effort.
func TestConformanceLossyDelayedNetwork(t *testing.T) {
	conformance.TestTransport(t, newGroup(mem.Options{
		Seed:         7,
		Loss:         0.2,
		Latency:      time.Millisecond,
		QueueLen:     8,
		MaxFrameSize: 4096,
	}))
}
