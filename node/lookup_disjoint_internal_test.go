package node

import (
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

func djID(b byte) peer.ID {
	raw := make([]byte, peer.IDLen256)
	raw[0] = b
	id, err := peer.IDFromBytes(raw)
	if err != nil {
		panic(err)
	}
	return id
}

func TestMergePathsCountsOnlyWhatEnoughPathsAgreeOn(t *testing.T) {
	n := &Node{cfg: config{k: 20}}
	target := djID(0)
	rec := func(b byte) *peer.Record { return &peer.Record{ID: djID(b)} }
	v1 := &trust.Value{Key: target, Value: []byte("one"), Seq: 1}
	v1again := &trust.Value{Key: target, Value: []byte("one"), Seq: 1}
	v2 := &trust.Value{Key: target, Value: []byte("two"), Seq: 2}
	results := []lookupResult{
		{closest: []*peer.Record{rec(0), rec(3)}, values: []*trust.Value{v1, v2}, rpcs: 2},
		{closest: []*peer.Record{rec(4)}, values: []*trust.Value{v1again}, rpcs: 3},
		{closest: []*peer.Record{rec(5)}, rpcs: 1},
	}
	errs := make([]error, len(results))

	res, err := n.mergePaths(target, nil, nil, results, errs, 2)
	require.NoError(t, err)
	require.Equal(t, 6, res.rpcs, "the paths' requests add up")
	for _, r := range res.closest {
		require.NotEqual(t, target, r.ID, "one path alone found the peer sought: with agreement 2 it does not count")
	}
	require.Len(t, res.closest, 3)
	require.Len(t, res.values, 1, "only the value two paths brought counts")
	require.Equal(t, []byte("one"), res.values[0].Value)

	res, err = n.mergePaths(target, nil, nil, results, errs, 1)
	require.NoError(t, err)
	require.Equal(t, target, res.closest[0].ID, "with agreement 1 one path suffices, closest first")
	require.Len(t, res.values, 2)
}
