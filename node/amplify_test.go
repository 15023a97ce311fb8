package node_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/stretchr/testify/require"
)

// udpNetwork builds size nodes on loopback UDP, each bootstrapped from the
// first, and returns them.
func udpNetwork(t *testing.T, size int, configure func(*node.Builder)) []*node.Node {
	t.Helper()
	ctx := context.Background()
	var nodes []*node.Node
	for i := range size {
		b := node.NewBuilder()
		if configure != nil {
			configure(b)
		}
		n, err := b.Build(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = n.Close() })
		if i > 0 {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()...))
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// rawUDP is a bare loopback UDP socket speaking CBOR: what a spoofer or a
// scanner sends.
type rawUDP struct {
	t     *testing.T
	conn  *net.UDPConn
	codec msgenc.Codec
}

func newRawUDP(t *testing.T, ip string) *rawUDP {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &rawUDP{t: t, conn: conn, codec: cbor.New()}
}

func udpOf(t *testing.T, a ma.Multiaddr) *net.UDPAddr {
	t.Helper()
	na, err := manet.ToNetAddr(a)
	require.NoError(t, err)
	return na.(*net.UDPAddr)
}

// exchange sends m to to and returns the answer and the sizes of the
// request and the answer.
func (r *rawUDP) exchange(to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, int, int) {
	r.t.Helper()
	data, err := r.codec.Marshal(m)
	require.NoError(r.t, err)
	_, err = r.conn.WriteToUDP(data, udpOf(r.t, to))
	require.NoError(r.t, err)
	buf := make([]byte, 65536)
	require.NoError(r.t, r.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		n, _, err := r.conn.ReadFromUDP(buf)
		require.NoError(r.t, err, "no answer")
		rep, err := r.codec.Unmarshal(buf[:n])
		require.NoError(r.t, err)
		if rep.TxID == m.TxID {
			return rep, len(data), n
		}
	}
}

func findNode(tx uint64) *msgenc.Message {
	return &msgenc.Message{Kind: msgenc.KindFindNode, TxID: tx, FindNode: &msgenc.FindNode{Target: make([]byte, 32)}}
}

func TestAnAnswerToAnUnprovenAddressIsAtMostThreeTimesItsRequest(t *testing.T) {
	nodes := udpNetwork(t, 12, nil)
	target := nodes[0]
	raw := newRawUDP(t, "127.0.0.1")

	// A bare 40-byte find-node, as a reflector's forged request would be.
	rep, reqSize, repSize := raw.exchange(target.Addrs()[0], findNode(1))
	require.LessOrEqual(t, repSize, 3*reqSize, "answer of %d bytes to a request of %d", repSize, reqSize)
	require.Equal(t, msgenc.KindError, rep.Kind, "the peers do not fit: a short refusal")
	require.Equal(t, msgenc.CodeOverloaded, rep.Error.Code)
	require.NotEmpty(t, rep.Token, "the refusal carries the token that proves the address")
	require.Equal(t, uint64(1), target.Stats().Unproven)

	// Echoing the token proves the address: the whole answer comes.
	m := findNode(2)
	m.Token = rep.Token
	rep2, reqSize, repSize := raw.exchange(target.Addrs()[0], m)
	require.Equal(t, msgenc.KindPeers, rep2.Kind)
	require.Len(t, rep2.Peers.Peers, 11)
	require.Greater(t, repSize, 3*reqSize, "a proven address is not held to the bound")

	// A forged token proves nothing.
	m = findNode(3)
	m.Token = make([]byte, len(rep.Token))
	rep3, reqSize, repSize := raw.exchange(target.Addrs()[0], m)
	require.Equal(t, msgenc.KindError, rep3.Kind)
	require.LessOrEqual(t, repSize, 3*reqSize)

	// A padded first request has room for its answer: no round trip lost.
	m = findNode(4)
	m.Pad = make([]byte, node.PaddedRequestSize-40)
	rep4, reqSize, repSize := raw.exchange(target.Addrs()[0], m)
	require.Equal(t, msgenc.KindPeers, rep4.Kind)
	require.Len(t, rep4.Peers.Peers, 11)
	require.LessOrEqual(t, repSize, 3*reqSize)

	// A request with some room gets an answer naming fewer peers, not a
	// refusal that costs a round trip.
	m = findNode(6)
	m.Pad = make([]byte, 300)
	rep6, reqSize, repSize := raw.exchange(target.Addrs()[0], m)
	require.Equal(t, msgenc.KindPeers, rep6.Kind)
	require.NotEmpty(t, rep6.Peers.Peers)
	require.Less(t, len(rep6.Peers.Peers), 11)
	require.LessOrEqual(t, repSize, 3*reqSize)

	// The token is bound to the address: another socket cannot use it.
	other := newRawUDP(t, "127.0.0.1")
	m = findNode(5)
	m.Token = rep.Token
	rep5, reqSize, repSize := other.exchange(target.Addrs()[0], m)
	require.Equal(t, msgenc.KindError, rep5.Kind)
	require.LessOrEqual(t, repSize, 3*reqSize)
}

func TestUnsignedValuesAreStoredOnlyFromProvenAddresses(t *testing.T) {
	target := udpNetwork(t, 1, nil)[0]
	raw := newRawUDP(t, "127.0.0.1")
	v := trust.NewImmutable(peer.SHA256(), []byte("a chunk"))
	store := func(tx uint64, token []byte) *msgenc.Message {
		m := &msgenc.Message{Kind: msgenc.KindStore, TxID: tx, Token: token, Store: &msgenc.Store{
			Record: msgenc.ValueRecord{Key: v.Key.Bytes(), Value: v.Value},
		}}
		rep, _, _ := raw.exchange(target.Addrs()[0], m)
		return rep
	}
	rep := store(1, nil)
	require.Equal(t, msgenc.KindError, rep.Kind, "never acknowledged from an unproven address")
	require.Equal(t, msgenc.CodeOverloaded, rep.Error.Code)
	require.Zero(t, target.Stats().Records)
	rep = store(2, rep.Token)
	require.Equal(t, msgenc.KindStoreAck, rep.Kind, "with the token the address is proven: %+v", rep.Error)
	require.Equal(t, 1, target.Stats().Records)
}

func TestNodesPadTheirFirstRequestAndThenEchoTheToken(t *testing.T) {
	nodes := udpNetwork(t, 8, nil)
	ctx := context.Background()
	key := []byte("k")
	_, err := nodes[3].Put(ctx, key, []byte("v"))
	require.NoError(t, err)
	client, err := node.NewBuilder().Client(true).Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Bootstrap(ctx, nodes[0].Addrs()...))
	got, err := client.Get(ctx, key, node.WithMode(node.Direct()))
	require.NoError(t, err)
	require.Equal(t, []byte("v"), got)
	_, _, err = client.PutImmutable(ctx, []byte("an unsigned chunk"))
	require.NoError(t, err, "an immutable value is stored from a proven address")
	var cut uint64
	for _, n := range nodes {
		cut += n.Stats().Unproven
	}
	require.Zero(t, cut, "no answer between nodes had to be cut: requests were padded or carried tokens")
}

// A direct-reply query names the address its answer goes to, which the
// holder cannot tell from a victim's: a small query must not draw a large
// answer there, while an honest direct-reply get, padded by its sender,
// still gets the value.
func TestADirectReplyAnswerToAnUnprovenAddressIsAtMostThreeTimesTheQuery(t *testing.T) {
	ctx := context.Background()
	nodes := udpNetwork(t, 4, func(b *node.Builder) { b.Mode(node.DirectReply()) })
	holder := nodes[1]
	v := trust.NewImmutable(peer.SHA256(), make([]byte, 8<<10))
	_, err := holder.PutValue(ctx, v)
	require.NoError(t, err)

	attacker := newRawUDP(t, "127.0.0.1")
	victim := newRawUDP(t, "127.0.0.1")
	victimAddr, err := manet.FromNetAddr(victim.conn.LocalAddr())
	require.NoError(t, err)
	q := &msgenc.Message{Kind: msgenc.KindForward, Forward: &msgenc.Forward{
		Mode: msgenc.ModeDirectReply, Op: msgenc.KindFindValue, HopBudget: 3,
		Target: v.Key.Bytes(), QueryID: []byte("reflect"), Salt: []byte("salt"),
		ReplyTo: [][]byte{victimAddr.Bytes()},
	}}
	data, err := attacker.codec.Marshal(q)
	require.NoError(t, err)
	sent0 := holder.Metrics().Sent[msgenc.KindForwardReply]
	_, err = attacker.conn.WriteToUDP(data, udpOf(t, holder.Addrs()[0]))
	require.NoError(t, err)

	// The holder either sends an answer to the victim or drops it as too
	// large for an unproven address; wait for one or the other, then see
	// what reached the victim.
	var sent, dropped uint64
	require.Eventually(t, func() bool {
		m := holder.Metrics()
		sent, dropped = m.Sent[msgenc.KindForwardReply]-sent0, m.Dropped[node.DropUnproven]
		return sent+dropped > 0
	}, 5*time.Second, time.Millisecond)
	got := 0
	if sent > 0 {
		buf := make([]byte, 65536)
		require.NoError(t, victim.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, _, err := victim.conn.ReadFromUDP(buf)
		require.NoError(t, err, "the holder counted an answer sent")
		got = n
	}
	require.LessOrEqual(t, got, 3*len(data), "the victim received %d bytes for a %d-byte query", got, len(data))

	// An honest direct-reply get of the same value succeeds.
	got2, err := nodes[3].GetImmutable(ctx, v.Key)
	require.NoError(t, err)
	require.Equal(t, v.Value, got2)
}
