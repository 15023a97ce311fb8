package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

func TestOneSourceOverItsRateIsRefusedOnceThenDroppedAndCounted(t *testing.T) {
	// The clock stands still: no token comes back during the test.
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const burst = 20
	n, err := node.NewBuilder().Clock(clk).RateLimits(node.RateLimits{
		Addr: node.Rate{PerSecond: 1, Burst: burst}, Prefix: node.Rate{PerSecond: 1, Burst: 5 * burst}, Peer: node.Unlimited,
	}).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	to := n.Addrs()[0]

	raw := newRawUDP(t, "127.0.0.1")
	ping := func(tx uint64, token []byte) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindPing, TxID: tx, Token: token, Ping: &msgenc.Ping{}, Pad: padFor(token)}
	}
	first, _, _ := raw.exchange(to, ping(1, nil))
	require.Equal(t, msgenc.KindPong, first.Kind)
	token := first.Token
	const sent = 200
	replies := 0
	for tx := uint64(2); tx <= sent; tx++ {
		data, err := raw.codec.Marshal(ping(tx, token))
		require.NoError(t, err)
		_, err = raw.conn.WriteToUDP(data, udpOf(t, to))
		require.NoError(t, err)
	}
	btEventually(t, func() bool { return n.Stats().RPCsReceived == sent }, "every datagram arrives")
	buf := make([]byte, 65536)
	var refusals int
	require.NoError(t, raw.conn.SetReadDeadline(time.Now().Add(time.Second)))
	for replies+refusals < burst {
		k, _, err := raw.conn.ReadFromUDP(buf)
		require.NoError(t, err)
		m, err := raw.codec.Unmarshal(buf[:k])
		require.NoError(t, err)
		if m.Kind == msgenc.KindPong {
			replies++
		} else {
			require.Equal(t, msgenc.CodeOverloaded, m.Error.Code)
			refusals++
		}
	}
	s := n.Stats()
	require.Equal(t, uint64(burst), s.Served, "the burst is served, no more")
	require.Equal(t, uint64(sent-burst-1), s.Dropped[node.DropRateLimited], "the rest is dropped and counted")
	btEventually(t, func() bool { return n.Metrics().Refused[msgenc.CodeOverloaded] == 1 }, "one refusal told the source")

	// Another /24 is not held back by this one.
	other := newRawUDP(t, "127.0.3.1")
	rep, _, _ := other.exchange(to, ping(1, nil))
	require.Equal(t, msgenc.KindPong, rep.Kind)
}

// padFor pads a request that carries no token, as a node does.
func padFor(token []byte) []byte {
	if len(token) > 0 {
		return nil
	}
	return make([]byte, node.PaddedRequestSize-20)
}
