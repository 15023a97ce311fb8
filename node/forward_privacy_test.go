package node_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

// What a forwarded query says of the hops behind it: no IDs in clear, and
// a hop budget that does not betray the first hop.

// fpForwards returns the forwarded queries server i received since the
// last take, with whether each came from the first hop.
func (pn *mxPrivacyNet) fpForwards(t *testing.T) map[int][]*msgenc.Forward {
	codec := cbor.New()
	out := make(map[int][]*msgenc.Forward)
	for i, r := range pn.recorders {
		for _, p := range r.take() {
			m, err := codec.Unmarshal(p.Data)
			require.NoError(t, err)
			if m.Forward != nil {
				out[i] = append(out[i], m.Forward)
			}
		}
	}
	return out
}

// fpBody encodes a forwarded query alone, without the frame's sender.
func fpBody(t *testing.T, f *msgenc.Forward) []byte {
	b, err := cbor.New().Marshal(&msgenc.Message{Kind: msgenc.KindForward, Forward: f})
	require.NoError(t, err)
	return b
}

func TestForwardedQueriesCarryNoHopIDInClear(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []node.Mode{node.Proxied(), node.Mixed(2), node.DirectReply()} {
		t.Run(mode.String(), func(t *testing.T) {
			pn := mxNewPrivacyNet(t)
			first := pn.servers[pn.firstHop]
			secrets := map[string][]byte{"the client's ID": pn.client.ID().Bytes(), "the first hop's ID": first.ID().Bytes()}
			past := 0
			for i := range 6 {
				_, _ = pn.client.Get(ctx, fmt.Appendf(nil, "missing-%d", i), node.WithMode(mode))
				_, err := pn.client.Put(ctx, fmt.Appendf(nil, "put-%d", i), []byte("v"), node.WithMode(mode))
				require.NoError(t, err)
				for s, fs := range pn.fpForwards(t) {
					if s == pn.firstHop {
						continue
					}
					for _, f := range fs {
						past++
						body := fpBody(t, f)
						for what, id := range secrets {
							require.False(t, bytes.Contains(body, id), "server %d received a forwarded query naming %s", s, what)
						}
						if mode.String() != "direct-reply" {
							require.Empty(t, f.Visited, "server %d: a proxied query carries no visited list", s)
						}
						require.NotEmpty(t, f.Salt, "every query carries its salt")
					}
				}
			}
			require.Positive(t, past, "queries went past the first hop")
		})
	}
}

func TestTheHopBudgetDoesNotTellTheFirstHopItIsFirst(t *testing.T) {
	// With a fixed budget and no hop keeping it, the first hop would
	// always see the top value and no one else would: the two sets of
	// budgets would not meet.
	ctx := context.Background()
	pn := mxNewPrivacyNet(t)
	var atFirst, past []int
	for i := range 40 {
		_, _ = pn.client.Get(ctx, fmt.Appendf(nil, "budget-%d", i), node.WithMode(node.Proxied()))
		for s, fs := range pn.fpForwards(t) {
			for _, f := range fs {
				if s == pn.firstHop {
					atFirst = append(atFirst, int(f.HopBudget))
				} else {
					past = append(past, int(f.HopBudget))
				}
			}
		}
	}
	require.NotEmpty(t, past, "queries went past the first hop")
	slices.Sort(atFirst)
	t.Logf("budgets at the first hop %v, past it %v", slices.Compact(slices.Clone(atFirst)), slices.Compact(slices.Sorted(slices.Values(past))))
	require.GreaterOrEqual(t, atFirst[0], node.DefaultHopBudgetMin)
	require.LessOrEqual(t, atFirst[len(atFirst)-1], node.DefaultHopBudget)
	require.Greater(t, atFirst[len(atFirst)-1], atFirst[0], "the budget starts at random")
	met := slices.ContainsFunc(past, func(b int) bool { return slices.Contains(atFirst, b) })
	require.True(t, met, "a budget the first hop received was also received further on")
}

func TestProxiedHopsFanOutAsAsked(t *testing.T) {
	ctx := context.Background()
	pn := mxNewPrivacyNet(t, func(b *node.Builder) { b.Fanout(3) })
	count := func(fanout int) int {
		sum := 0
		for i := range 8 {
			_, _ = pn.client.Get(ctx, fmt.Appendf(nil, "fan-%d", i), node.WithMode(node.Proxied()), node.WithFanout(fanout))
			for s, fs := range pn.fpForwards(t) {
				if s != pn.firstHop {
					sum += len(fs)
				}
			}
		}
		return sum
	}
	one, three := count(1), count(3)
	t.Logf("forwarded queries past the first hop for 8 gets: fan-out 1: %d, fan-out 3: %d", one, three)
	require.Positive(t, one)
	require.Greater(t, three, one, "a fan-out of 3 hands each query to more peers")
}

func TestAProxiedHopCachesTheValueItRelayed(t *testing.T) {
	ctx := context.Background()
	pn := mxNewPrivacyNet(t, func(b *node.Builder) { b.PathCache(16) })
	got, err := pn.client.Get(ctx, pn.key, node.WithMode(node.Proxied()))
	require.NoError(t, err)
	require.Equal(t, []byte("the value"), got)
	past := func() int {
		n := 0
		for s, fs := range pn.fpForwards(t) {
			if s != pn.firstHop {
				n += len(fs)
			}
		}
		return n
	}
	require.Positive(t, past(), "the first get went past the first hop, which holds no replica")
	got, err = pn.client.Get(ctx, pn.key, node.WithMode(node.Proxied()))
	require.NoError(t, err)
	require.Equal(t, []byte("the value"), got)
	require.Zero(t, past(), "the second get was answered by the first hop from its path cache")
}
