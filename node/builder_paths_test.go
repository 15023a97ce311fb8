package node_test

import (
	"context"
	"testing"

	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

func TestBuildRefusesPathChoicesOutOfRange(t *testing.T) {
	for name, b := range map[string]*node.Builder{
		"hop range lo above hi":   node.NewBuilder().HopBudgetRange(8, 4),
		"hop range lo 0":          node.NewBuilder().HopBudgetRange(0, 4),
		"hop range hi above 255":  node.NewBuilder().HopBudgetRange(1, 256),
		"hop keep above 0.5":      node.NewBuilder().HopKeep(0.6),
		"hop keep negative":       node.NewBuilder().HopKeep(-0.5),
		"fan-out above MaxFanout": node.NewBuilder().Fanout(9),
		"path cache negative":     node.NewBuilder().PathCache(-1),
		"disjoint paths above 16": node.NewBuilder().DisjointPaths(17),
		"agreement above paths":   node.NewBuilder().DisjointPaths(2).PathAgreement(3),
	} {
		_, err := b.Build(context.Background())
		require.ErrorIs(t, err, node.ErrConfig, name)
	}
}

func TestBuildTakesPathChoicesInRange(t *testing.T) {
	n, err := node.NewBuilder().HopBudgetRange(3, 3).HopKeep(node.NoHopKeep).Fanout(8).PathCache(100).
		DisjointPaths(4).PathAgreement(2).Build(context.Background())
	require.NoError(t, err)
	require.NoError(t, n.Close())
}
