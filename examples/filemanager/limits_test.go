package main

import (
	"context"
	"testing"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

// The largest chunk share makes and the largest manifest node fit a UDP
// datagram in every codec: a node refuses a value too large for its
// transports before it looks for peers (ErrNoPeers here, as it has none).
func TestTheLargestValuesFitEveryCodecOverUDP(t *testing.T) {
	for _, name := range []string{"cbor", "json", "bencode"} {
		codec, err := cli.NewCodec(name)
		require.NoError(t, err)
		n, err := node.NewBuilder().Codec(codec).ListenString("/ip4/127.0.0.1/udp/0").Build(context.Background())
		require.NoError(t, err)
		for _, size := range []int{maxShareChunk, MaxNodeSize} {
			_, _, err := n.PutImmutable(context.Background(), make([]byte, size))
			require.ErrorIs(t, err, node.ErrNoPeers, "%s: %d bytes", name, size)
		}
		_, _, err = n.PutImmutable(context.Background(), make([]byte, 64<<10))
		require.ErrorIs(t, err, node.ErrValueTooLarge, "%s: the check is real", name)
		require.NoError(t, n.Close())
	}
}
