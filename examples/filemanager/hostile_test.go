package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

// lyingCodec is a hostile replica's codec: every value it sends in answer
// to a lookup has its bytes altered. The replica stores honestly; only what
// it serves is corrupt.
type lyingCodec struct {
	msgenc.Codec
	lies atomic.Int64
}

func (c *lyingCodec) Marshal(m *msgenc.Message) ([]byte, error) {
	if m.Kind != msgenc.KindValue || m.Value == nil || len(m.Value.Records) == 0 {
		return c.Codec.Marshal(m)
	}
	v := *m.Value
	v.Records = slices.Clone(v.Records)
	for i := range v.Records {
		b := slices.Clone(v.Records[i].Value)
		if len(b) > 0 {
			b[len(b)/2] ^= 0x5a
			c.lies.Add(1)
		}
		v.Records[i].Value = b
	}
	lie := *m
	lie.Value = &v
	return c.Codec.Marshal(&lie)
}

func TestReplicasServingCorruptChunksCannotSpoilAFetch(t *testing.T) {
	// Six in-process nodes on loopback UDP; three serve every value
	// corrupted. Every chunk is stored at all six, so each has honest
	// replicas, and lookups meet the liars first about half the time.
	ctx := context.Background()
	var liars []*lyingCodec
	var nodes []*node.Node
	for i := range 6 {
		var codec msgenc.Codec = cbor.New()
		if i%2 == 1 {
			lc := &lyingCodec{Codec: cbor.New()}
			liars = append(liars, lc)
			codec = lc
		}
		n, err := node.NewBuilder().Codec(codec).ListenString("/ip4/127.0.0.1/udp/0").Build(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { n.Close() })
		if i > 0 {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()...))
		}
		nodes = append(nodes, n)
	}
	boot := nodes[0].Addrs()[0].String()
	dir := t.TempDir()
	src := randomFile(t, dir, "precious.bin", 256<<10)

	code, out, errOut := runCmd(t, "share", "--bootstrap", boot, "--replicas", "6", "--chunk-size", "8192", src)
	require.Equal(t, 0, code, errOut)
	id := strings.TrimSpace(out)

	// The fetching client starts its lookups from its bootstrap peer: a liar.
	dst := filepath.Join(dir, "fetched.bin")
	code, _, errOut = runCmd(t, "fetch", "--bootstrap", nodes[1].Addrs()[0].String(), "-o", dst, id)
	require.Equal(t, 0, code, errOut)
	requireSameFile(t, src, dst)
	var lies int64
	for _, l := range liars {
		lies += l.lies.Load()
	}
	require.Positive(t, lies, "the hostile replicas served corrupt values")
	require.Contains(t, errOut, "that did not verify", "the fetch says it discarded them")
}
