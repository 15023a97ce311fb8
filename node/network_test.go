package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/stretchr/testify/require"
)

func TestPutAndGetInEveryMode(t *testing.T) {
	tn := newTestNet(t, 24, mem.Options{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for mi, mode := range node.Modes() {
		t.Run(mode.String(), func(t *testing.T) {
			for i := range 6 {
				key := []byte(fmt.Sprintf("key-%d-%d", mi, i))
				val := []byte(fmt.Sprintf("value %d via %s", i, mode))
				putter := tn.nodes[(i*5+mi)%len(tn.nodes)]
				getter := tn.nodes[(i*7+3+mi)%len(tn.nodes)]
				acks, err := putter.Put(ctx, key, val, node.WithMode(mode))
				require.NoError(t, err)
				require.Positive(t, acks)
				var tr node.Trace
				got, err := getter.Get(ctx, key, node.WithMode(mode), node.WithTrace(&tr))
				require.NoError(t, err, "get %s in %s", key, mode)
				require.Equal(t, val, got)
			}
		})
	}
}

func TestGetOfAMissingKeyIsNotFound(t *testing.T) {
	tn := newTestNet(t, 8, mem.Options{}, nil)
	for _, mode := range node.Modes() {
		_, err := tn.nodes[3].Get(context.Background(), []byte("nobody stored this"), node.WithMode(mode))
		require.ErrorIs(t, err, node.ErrNotFound, "mode %s", mode)
	}
}

func TestEveryNodeFindsEveryOther(t *testing.T) {
	tn := newTestNet(t, 16, mem.Options{}, nil)
	ctx := context.Background()
	for _, mode := range node.Modes() {
		for i, a := range tn.nodes {
			b := tn.nodes[(i+5)%len(tn.nodes)]
			rec, err := a.FindPeer(ctx, b.ID(), node.WithMode(mode))
			require.NoError(t, err, "%s: node %d finding %d", mode, i, (i+5)%len(tn.nodes))
			require.Equal(t, b.ID(), rec.ID)
			require.Equal(t, b.Addrs(), rec.Addrs)
		}
	}
}

func TestPutReachesKReplicas(t *testing.T) {
	tn := newTestNet(t, 30, mem.Options{}, func(b *node.Builder) { b.K(5) })
	acks, err := tn.nodes[1].Put(context.Background(), []byte("k"), []byte("v"))
	require.NoError(t, err)
	require.Equal(t, 5, acks, "a put stores at the k closest peers")
	held := 0
	for _, n := range tn.nodes {
		held += n.Stats().Records
	}
	require.Equal(t, 5, held, "exactly k nodes hold the record")
}
