package node_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// resendDropper loses the first frames of one kind a node sends, as a lossy
// link would.
type resendDropper struct {
	transport.Transport
	kind  msgenc.Kind
	left  atomic.Int32
	codec msgenc.Codec
}

func (d *resendDropper) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if m, err := d.codec.Unmarshal(frame); err == nil && m.Kind == d.kind && d.left.Add(-1) >= 0 {
		return nil // lost on the way
	}
	return d.Transport.Send(ctx, to, frame)
}

// resendRPCTimeout is tiny next to the hop timeout (resendRPCTimeout × 256
// with a hop budget of 255), so that a forwarded query that waited out a
// hop timeout for a lost frame could never finish within resendPatience.
const (
	resendRPCTimeout = 50 * time.Millisecond
	resendPatience   = 5 * time.Second
)

// resendNet builds size nodes with k=3, bootstrapped from node 0, each of
// which loses the first drop frames of kind it sends.
func resendNet(t *testing.T, size int, kind msgenc.Kind, drop int32) []*node.Node {
	net := mem.NewNetwork(mem.Options{})
	t.Cleanup(func() { _ = net.Close() })
	var nodes []*node.Node
	for i := range size {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		d := &resendDropper{Transport: ep, kind: kind, codec: cbor.New()}
		d.left.Store(drop)
		n, err := node.NewBuilder().Identity(seedIdentity(t, i)).Transport(d).K(3).
			RPCTimeout(resendRPCTimeout).HopBudget(255).Build(context.Background())
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
	}
	for _, n := range nodes[1:] {
		require.NoError(t, n.Bootstrap(context.Background(), nodes[0].Addrs()...))
	}
	return nodes
}

func TestForwardedQueriesRecoverFromALostFrameWithinRPCTimeouts(t *testing.T) {
	for _, mode := range []node.Mode{node.Proxied(), node.Mixed(2), node.DirectReply()} {
		for _, kind := range []msgenc.Kind{msgenc.KindForward, msgenc.KindForwardReply} {
			t.Run(fmt.Sprintf("%s/first %s of every node lost", mode, kind), func(t *testing.T) {
				nodes := resendNet(t, 10, kind, 1)
				key, value := []byte("resend-"+mode.String()), []byte("value")
				// Direct puts send no forwarded frames: nothing is lost yet.
				_, err := nodes[0].Put(context.Background(), key, value, node.WithMode(node.Direct()))
				require.NoError(t, err)
				var getter *node.Node
				for _, n := range nodes[1:] {
					if n.Stats().Records == 0 { // so that the value comes from afar
						getter = n
						break
					}
				}
				require.NotNil(t, getter, "with k=3 most nodes hold no replica")
				ctx, cancel := context.WithTimeout(context.Background(), resendPatience)
				defer cancel()
				got, err := getter.Get(ctx, key, node.WithMode(mode))
				require.NoError(t, err, "a lost frame must cost a resend after an RPC timeout, not a %v hop timeout", resendRPCTimeout*256)
				require.Equal(t, value, got)
			})
		}
	}
}
