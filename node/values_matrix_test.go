package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/msgenc/json"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/transport/tcp"
	"github.com/dhtkit/dhtkit/transport/udp"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// forgedWrite is a store no replica may keep, and the code it must answer.
type forgedWrite struct {
	name string
	rec  msgenc.ValueRecord
	code msgenc.ErrorCode
}

// forgedWrites returns, against genuine (a mutable value already stored by
// publisher), every kind of write a replica must refuse.
func forgedWrites(t *testing.T, publisher *peer.Identity, genuine *trust.Value) []forgedWrite {
	h := peer.SHA256()
	intruder := btIdentity(t)
	plainKey := h.Sum([]byte("someone's key"))

	anon := msgenc.ValueRecord{Key: plainKey.Bytes(), Value: []byte("anonymous"), Seq: 1 << 62, TTL: 60}
	otherKey := wireOf(genuine)
	otherKey.Seq, otherKey.Value = genuine.Seq+1, []byte("intruder's")
	sig := intruderSign(t, intruder, genuine.Key, otherKey)
	otherKey.Signature = sig
	broken := wireOf(genuine)
	broken.Seq, broken.Value = genuine.Seq+5, []byte("tampered")
	older, err := trust.NewMutable(publisher, h, genuine.Salt, genuine.Seq-1, []byte("replayed"))
	require.NoError(t, err)
	imm := wireOf(trust.NewImmutable(h, []byte("real chunk")))
	imm.Value = []byte("fake chunk")
	return []forgedWrite{
		{"anonymous", anon, msgenc.CodeInvalid},
		{"signed by another key", otherKey, msgenc.CodeInvalid},
		{"broken signature", broken, msgenc.CodeInvalid},
		{"older sequence replayed", wireOf(older), msgenc.CodeConflict},
		{"immutable hash mismatch", imm, msgenc.CodeInvalid},
	}
}

// intruderSign signs rec's fields as if rec were the intruder's value under
// key, leaving the genuine publisher's key in place.
func intruderSign(t *testing.T, intruder *peer.Identity, key peer.ID, rec msgenc.ValueRecord) []byte {
	v := &trust.Value{Kind: trust.Mutable, Key: key, Value: rec.Value, Salt: rec.Salt, Seq: rec.Seq}
	return intruder.Sign(v.SigningBytes())
}

func TestForgedAndStaleWritesRefusedOverEveryCodecAndTransport(t *testing.T) {
	codecs := []msgenc.Codec{json.New(), cbor.New(), bencode.New()}
	for _, tr := range []string{"udp", "tcp", "mem"} {
		for _, codec := range codecs {
			t.Run(tr+"/"+codec.Name(), func(t *testing.T) {
				net := mem.NewNetwork(mem.Options{})
				t.Cleanup(func() { _ = net.Close() })
				listen := func() transport.Transport {
					var (
						tp  transport.Transport
						err error
					)
					switch tr {
					case "udp":
						tp, err = udp.Listen(ma.StringCast("/ip4/127.0.0.1/udp/0"), udp.Options{})
					case "tcp":
						tp, err = tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
					default:
						tp, err = net.Listen(nil)
					}
					require.NoError(t, err)
					return tp
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				publisher := btIdentity(t)
				var nodes []*node.Node
				for i := range 4 {
					b := node.NewBuilder().Transport(listen()).Codec(codec).K(4).RPCTimeout(time.Second)
					if i == 0 {
						b.Identity(publisher)
					}
					n, err := b.Build(ctx)
					require.NoError(t, err)
					t.Cleanup(func() { _ = n.Close() })
					if i > 0 {
						require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()[0]))
					}
					nodes = append(nodes, n)
				}
				_, err := nodes[0].PutMutable(ctx, []byte("salt"), 2, []byte("genuine"))
				require.NoError(t, err)
				genuine, err := trust.NewMutable(publisher, peer.SHA256(), []byte("salt"), 2, []byte("genuine"))
				require.NoError(t, err)

				raw := listen()
				t.Cleanup(func() { _ = raw.Close() })
				var tx uint64
				for _, fw := range forgedWrites(t, publisher, genuine) {
					for i, n := range nodes {
						tx++
						data, err := codec.Marshal(&msgenc.Message{Kind: msgenc.KindStore, TxID: tx, Store: &msgenc.Store{Record: fw.rec}})
						require.NoError(t, err)
						require.NoError(t, raw.Send(ctx, n.Addrs()[0], data))
						p, err := raw.Receive(ctx)
						require.NoError(t, err)
						rep, err := codec.Unmarshal(p.Data)
						require.NoError(t, err)
						require.Equal(t, tx, rep.TxID)
						require.Equal(t, msgenc.KindError, rep.Kind, "%s: node %d acknowledged", fw.name, i)
						require.Equal(t, fw.code, rep.Error.Code, "%s: node %d: %s", fw.name, i, rep.Error.Message)
					}
				}
				for i, n := range nodes {
					v, err := n.GetMutable(ctx, publisher.PublicKey(), []byte("salt"), node.WithQuorum(3))
					require.NoError(t, err, "node %d", i)
					require.Equal(t, []byte("genuine"), v.Value, "node %d", i)
					_, err = n.Get(ctx, []byte("someone's key"))
					require.ErrorIs(t, err, node.ErrNotFound, "node %d returned an anonymous value", i)
					_, err = n.GetImmutable(ctx, peer.SHA256().Sum([]byte("real chunk")))
					require.ErrorIs(t, err, node.ErrNotFound, "node %d returned a fake chunk", i)
				}
			})
		}
	}
}
