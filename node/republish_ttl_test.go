package node_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

// TestReplicasNeverExtendAValuePastItsPublishersLifetime: a replica
// republishes with what is left of a value's life when it sends the store,
// not when its round began, so the time its lookups take is not added to
// the life at every round. Once the publisher is gone, the value dies when
// the publisher's last lifetime ends, give or take one transit per store
// along the way (the receiver counts from receipt): at most k per round,
// as each replica republishes at its own phase and may pass on what it was
// just given.
func TestReplicasNeverExtendAValuePastItsPublishersLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			latency   = time.Second // one way: a lookup takes several
			ttl       = 10 * time.Minute
			republish = time.Minute
			rounds    = ttl/republish + 1
			k         = 4
		)
		net := mem.NewNetwork(mem.Options{Latency: latency, QueueLen: 1024})
		defer net.Close()
		ctx := context.Background()
		var nodes []*node.Node
		var stores []*memory.Store
		for range 8 {
			ep, err := net.Listen(nil)
			require.NoError(t, err)
			store := memory.New(memory.Options{})
			n, err := node.NewBuilder().Identity(btIdentity(t)).Transport(ep).Store(store).K(k).
				RPCTimeout(10 * latency).RecordTTL(ttl).RepublishInterval(republish).
				RefreshInterval(btNever).SweepInterval(btNever).Build(ctx)
			require.NoError(t, err)
			defer n.Close()
			if len(nodes) > 0 {
				require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()[0]))
			}
			nodes, stores = append(nodes, n), append(stores, store)
		}
		pub := nodes[len(nodes)-1]
		_, err := pub.Put(ctx, []byte("k"), []byte("v"))
		require.NoError(t, err)
		// Every replica took the value before the put returned.
		lifeEnds := time.Now().Add(ttl)
		require.NoError(t, pub.Close(), "the publisher leaves: only replicas republish now")
		key := pub.KeyID([]byte("k")).Bytes()

		held := func() (count int, latest time.Time) {
			for _, s := range stores[:len(stores)-1] {
				if rec, err := s.Get(ctx, key); err == nil {
					count++
					if rec.Expires.After(latest) {
						latest = rec.Expires
					}
				}
			}
			return count, latest
		}
		wait := func(until time.Time) {
			tm := time.NewTimer(time.Until(until))
			<-tm.C
		}
		wait(lifeEnds.Add(-republish))
		count, _ := held()
		require.Positive(t, count, "no replica held the value a minute before its life ends")

		// Each store may add one transit and nothing more. Counting its
		// lookups too, as republish did, adds over two minutes here.
		allowed := lifeEnds.Add(rounds * k * latency)
		wait(allowed)
		count, latest := held()
		require.Zero(t, count, "%d replicas still hold the value %v after its publisher's lifetime ended, until %v after it: republish extended it",
			count, time.Since(lifeEnds).Round(time.Second), latest.Sub(lifeEnds).Round(time.Second))
	})
}
