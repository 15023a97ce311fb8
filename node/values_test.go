package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

func valueCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// storeReply sends a Store of rec to the node at to, anonymously, and
// returns the reply.
func storeReply(r *btRaw, n *node.Node, rec msgenc.ValueRecord) *msgenc.Message {
	return r.request(n.Addrs()[0], nil, &msgenc.Message{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: rec}})
}

func wireOf(v *trust.Value) msgenc.ValueRecord {
	return msgenc.ValueRecord{Key: v.Key.Bytes(), Value: v.Value, Publisher: v.Publisher, Salt: v.Salt, Seq: v.Seq, Signature: v.Signature, TTL: 3600}
}

// heldValues asks the node at to for key's values, anonymously.
func heldValues(r *btRaw, n *node.Node, key peer.ID) []msgenc.ValueRecord {
	rep := r.request(n.Addrs()[0], nil, &msgenc.Message{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: key.Bytes()}})
	if rep.Kind != msgenc.KindValue {
		return nil
	}
	return rep.Value.Records
}

func TestReplicaRefusesForgedAndStaleWritesWithACode(t *testing.T) {
	net := btNet(t)
	n := btNode(t, net, btIdentity(t), nil)
	raw := btNewRaw(t, net)
	h := peer.SHA256()
	owner, other := btIdentity(t), btIdentity(t)

	v5, err := trust.NewMutable(owner, h, []byte("s"), 5, []byte("five"))
	require.NoError(t, err)
	rep := storeReply(raw, n, wireOf(v5))
	require.Equal(t, msgenc.KindStoreAck, rep.Kind, "a valid mutable value is stored")
	require.EqualValues(t, 5, rep.StoreAck.Seq)

	plainKey := h.Sum([]byte("plain"))
	forgedBy, err := trust.NewPlain(other, plainKey, 1, []byte("x"))
	require.NoError(t, err)
	claimed := wireOf(forgedBy)
	claimed.Publisher = owner.PublicKey() // claims the owner signed it

	brokenSig := wireOf(v5)
	brokenSig.Seq = 6
	brokenSig.Value = []byte("six")

	older, err := trust.NewMutable(owner, h, []byte("s"), 4, []byte("four"))
	require.NoError(t, err)
	sameSeq, err := trust.NewMutable(owner, h, []byte("s"), 5, []byte("other five"))
	require.NoError(t, err)

	imm := trust.NewImmutable(h, []byte("chunk"))
	mismatch := wireOf(imm)
	mismatch.TTL = 0
	mismatch.Value = []byte("not the chunk")

	for _, tc := range []struct {
		name string
		rec  msgenc.ValueRecord
		code msgenc.ErrorCode
		seq  uint64
	}{
		{"anonymous unsigned value under any key", msgenc.ValueRecord{Key: plainKey.Bytes(), Value: []byte("x"), Seq: 1 << 60}, msgenc.CodeInvalid, 0},
		{"value signed by another key", claimed, msgenc.CodeInvalid, 0},
		{"broken signature", brokenSig, msgenc.CodeInvalid, 0},
		{"older sequence replayed", wireOf(older), msgenc.CodeConflict, 5},
		{"same sequence, other contents", wireOf(sameSeq), msgenc.CodeConflict, 5},
		{"immutable value not hashing to its key", mismatch, msgenc.CodeInvalid, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := storeReply(raw, n, tc.rec)
			require.Equal(t, msgenc.KindError, rep.Kind, "a refused write must not be acknowledged")
			require.Equal(t, tc.code, rep.Error.Code, rep.Error.Message)
			require.Equal(t, tc.seq, rep.Error.Seq, "a conflict carries the sequence held")
		})
	}
	held := heldValues(raw, n, v5.Key)
	require.Len(t, held, 1)
	require.Equal(t, []byte("five"), held[0].Value, "the valid version is still the one held")
	require.Empty(t, heldValues(raw, n, plainKey), "nothing forged is held under the plain key")
	require.Empty(t, heldValues(raw, n, imm.Key), "nothing forged is held under the immutable key")
	require.GreaterOrEqual(t, n.Stats().Refused, uint64(6))

	// The republish of the same version is accepted.
	rep = storeReply(raw, n, wireOf(v5))
	require.Equal(t, msgenc.KindStoreAck, rep.Kind)
}

func TestEveryKindRoundTripsAndOnlyGrows(t *testing.T) {
	tn := newTestNet(t, 8, mem.Options{}, nil)
	ctx := valueCtx(t)
	a, b := tn.nodes[2], tn.nodes[6]

	for _, mode := range node.Modes() {
		t.Run(mode.String(), func(t *testing.T) {
			key := []byte("plain-" + mode.String())
			_, err := a.Put(ctx, key, []byte("v1"), node.WithMode(mode))
			require.NoError(t, err)
			got, err := b.Get(ctx, key, node.WithMode(mode))
			require.NoError(t, err)
			require.Equal(t, []byte("v1"), got)

			id, acks, err := a.PutImmutable(ctx, []byte("imm-"+mode.String()), node.WithMode(mode))
			require.NoError(t, err)
			require.Positive(t, acks)
			got, err = b.GetImmutable(ctx, id, node.WithMode(mode))
			require.NoError(t, err)
			require.Equal(t, []byte("imm-"+mode.String()), got)

			salt := []byte(mode.String())
			_, err = a.PutMutable(ctx, salt, 1, []byte("m1"), node.WithMode(mode))
			require.NoError(t, err)
			_, err = a.PutMutable(ctx, salt, 2, []byte("m2"), node.WithMode(mode))
			require.NoError(t, err)
			mv, err := b.GetMutable(ctx, a.Record().PublicKey, salt, node.WithMode(mode), node.WithQuorum(3))
			require.NoError(t, err)
			require.Equal(t, []byte("m2"), mv.Value)
			require.EqualValues(t, 2, mv.Seq)

			_, err = a.PutMutable(ctx, salt, 1, []byte("stale"), node.WithMode(mode))
			require.ErrorIs(t, err, node.ErrConflict, "an older sequence is refused everywhere")
			var re *node.RemoteError
			require.ErrorAs(t, err, &re)
			require.EqualValues(t, 2, re.Seq, "the conflict names the sequence held")
		})
	}
}

func TestCompareAndSwap(t *testing.T) {
	tn := newTestNet(t, 6, mem.Options{}, nil)
	ctx := valueCtx(t)
	a := tn.nodes[1]
	salt := []byte("cas")
	_, err := a.PutMutable(ctx, salt, 1, []byte("one"), node.WithCAS(0))
	require.NoError(t, err, "CAS against nothing stored")
	_, err = a.PutMutable(ctx, salt, 3, []byte("three"), node.WithCAS(2))
	require.ErrorIs(t, err, node.ErrConflict, "CAS naming the wrong version")
	var re *node.RemoteError
	require.ErrorAs(t, err, &re)
	require.EqualValues(t, 1, re.Seq)
	_, err = a.PutMutable(ctx, salt, 2, []byte("two"), node.WithCAS(1))
	require.NoError(t, err)
	v, err := tn.nodes[4].GetMutable(ctx, a.Record().PublicKey, salt)
	require.NoError(t, err)
	require.Equal(t, []byte("two"), v.Value)
}

func TestPlainKeySharedByPublishersEachOwnsItsValue(t *testing.T) {
	tn := newTestNet(t, 6, mem.Options{}, nil)
	ctx := valueCtx(t)
	a, b, c := tn.nodes[1], tn.nodes[3], tn.nodes[5]
	key := []byte("shared")
	_, err := a.Put(ctx, key, []byte("from a"))
	require.NoError(t, err)
	_, err = b.Put(ctx, key, []byte("from b"))
	require.NoError(t, err)

	all, err := c.GetAll(ctx, key)
	require.NoError(t, err)
	byPub := map[string]string{}
	for _, v := range all {
		byPub[string(v.Publisher)] = string(v.Value)
	}
	require.Equal(t, map[string]string{
		string(a.Record().PublicKey): "from a",
		string(b.Record().PublicKey): "from b",
	}, byPub)

	got, err := c.Get(ctx, key, node.WithPublisher(a.Record().PublicKey))
	require.NoError(t, err)
	require.Equal(t, []byte("from a"), got)
	got, err = c.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, []byte("from b"), got, "Get without a publisher returns the newest")
}

func TestValuesPerKeyIsAQuota(t *testing.T) {
	tn := newTestNet(t, 4, mem.Options{}, func(b *node.Builder) { b.ValuesPerKey(1).K(4) })
	ctx := valueCtx(t)
	_, err := tn.nodes[1].Put(ctx, []byte("k"), []byte("first"))
	require.NoError(t, err)
	_, err = tn.nodes[2].Put(ctx, []byte("k"), []byte("second"))
	require.ErrorIs(t, err, node.ErrQuota)
}

func TestValueTooLargeForTransportsFailsBeforeSending(t *testing.T) {
	ctx := valueCtx(t)
	n, err := node.NewBuilder().ListenString("/ip4/127.0.0.1/udp/0").Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	before := n.Stats().RPCsSent
	_, err = n.Put(ctx, []byte("big"), make([]byte, 66_000))
	require.ErrorIs(t, err, node.ErrValueTooLarge)
	require.Contains(t, err.Error(), "transports carry at most")
	require.Equal(t, before, n.Stats().RPCsSent, "nothing was sent")
	_, err = n.Put(ctx, []byte("fits"), make([]byte, 50_000))
	require.False(t, errors.Is(err, node.ErrValueTooLarge), "a value that fits a datagram is not too large: %v", err)
}
