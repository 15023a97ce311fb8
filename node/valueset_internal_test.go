package node

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

func TestValueSetRoundTrip(t *testing.T) {
	h := peer.SHA256()
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	mv, err := trust.NewMutable(id, h, []byte("salt"), 9, []byte("mutable"))
	require.NoError(t, err)
	imm := trust.NewImmutable(h, []byte("x"))
	imm.Key = mv.Key // a set holds one key's values; kinds may mix
	exp := time.Unix(1_800_000_000, 123)
	in := []entry{{v: mv, expires: exp}, {v: imm}}
	out, err := decodeSet(mv.Key, encodeSet(in))
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.True(t, out[0].v.Same(mv))
	require.True(t, out[0].expires.Equal(exp))
	require.True(t, out[1].v.Same(imm))
	require.True(t, out[1].expires.IsZero())
	require.Equal(t, time.Time{}, setExpiry(out), "an entry that never expires keeps the set")
	require.Equal(t, exp, setExpiry(out[:1]))
}

func TestValueSetRejectsEveryTruncation(t *testing.T) {
	h := peer.SHA256()
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	mv, err := trust.NewMutable(id, h, []byte("s"), 1, []byte("value"))
	require.NoError(t, err)
	b := encodeSet([]entry{{v: mv}})
	for i := range len(b) {
		_, err := decodeSet(mv.Key, b[:i])
		require.ErrorIs(t, err, errCorruptSet, "truncated at %d of %d bytes", i, len(b))
	}
	_, err = decodeSet(mv.Key, append(b, 0))
	require.ErrorIs(t, err, errCorruptSet, "trailing byte")
}

func FuzzDecodeValueSet(f *testing.F) {
	h := peer.SHA256()
	id, err := peer.IdentityFromSeed(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	mv, err := trust.NewMutable(id, h, []byte("s"), 1, []byte("value"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeSet([]entry{{v: mv, expires: time.Unix(5, 0)}}))
	f.Add(encodeSet(nil))
	f.Add([]byte{1, 255})
	f.Add([]byte{1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeSet(mv.Key, b)
		if err != nil {
			return
		}
		// What decodes encodes back to the same bytes.
		if again := encodeSet(es); !bytes.Equal(again, b) {
			t.Fatalf("decode then encode changed the bytes:\n%x\n%x", b, again)
		}
	})
}

// lyingStore answers every read with forged versions of whatever it is
// asked for: an immutable value that does not hash to the key and a
// mutable one claiming the honest publisher with a higher sequence number
// and a signature that does not verify.
type lyingStore struct {
	kvstore.Store
	victim []byte // the honest publisher's public key
}

func (s *lyingStore) Get(ctx context.Context, key []byte) (kvstore.Record, error) {
	id, err := peer.IDFromBytes(key)
	if err != nil {
		return kvstore.Record{}, err
	}
	forged := []entry{
		{v: &trust.Value{Kind: trust.Immutable, Key: id, Value: []byte("forged immutable")}},
		{v: &trust.Value{Kind: trust.Mutable, Key: id, Value: []byte("forged mutable"), Publisher: s.victim,
			Salt: []byte("s"), Seq: 1 << 40, Signature: make([]byte, 64)}},
	}
	return kvstore.Record{Value: encodeSet(forged)}, nil
}

func TestGetsSurviveReplicasThatForgeEveryAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("64-node network")
	}
	// Random liars, and the worst case: the liars are the peers closest to
	// the keys read. Direct-reply paths are stateless, so a path that
	// reaches a liar ends there and the originator can only try another
	// first hop, which often leads to the same liar: that mode is held to
	// a lower bar, and never to return a forged value.
	for _, tc := range []struct {
		name        string
		closest     bool
		directReply int // percent of direct-reply gets that must succeed
	}{{"random liars", false, 50}, {"liars closest to the keys", true, 50}} {
		t.Run(tc.name, func(t *testing.T) { testForgingReplicas(t, tc.closest, tc.directReply) })
	}
}

func testForgingReplicas(t *testing.T, closest bool, directReply int) {
	const size, hostile = 64, 6 // about 10%
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net := mem.NewNetwork(mem.Options{})
	defer net.Close()
	h := peer.SHA256()
	ids := make([]*peer.Identity, size)
	for i := range ids {
		var err error
		ids[i], err = peer.GenerateIdentity(nil)
		require.NoError(t, err)
	}
	publisher := ids[0]
	// The liars are the peers closest to the two keys read: three each,
	// so that lookups meet them among the k closest.
	liars := make(map[int]bool)
	for i := 1; !closest && len(liars) < hostile; i += size / hostile {
		liars[i] = true
	}
	for _, key := range []peer.ID{
		trust.MutableKey(h, publisher.PublicKey(), []byte("s")),
		trust.ImmutableKey(h, []byte("genuine chunk")),
	} {
		order := make([]int, 0, size-1)
		for i := 1; i < size; i++ {
			order = append(order, i)
		}
		slices.SortFunc(order, func(a, b int) int { return peer.CompareDistance(key, ids[a].ID(h), ids[b].ID(h)) })
		for _, i := range order {
			if !closest || len(liars) == hostile || len(liars) == hostile/2 && key == trust.MutableKey(h, publisher.PublicKey(), []byte("s")) {
				break
			}
			liars[i] = true
		}
	}
	var nodes []*Node
	var honest []*Node
	for i := range size {
		ep, err := net.Listen(nil)
		require.NoError(t, err)
		b := NewBuilder().Transport(ep).RPCTimeout(time.Second).K(8).Identity(ids[i])
		bad := liars[i]
		if bad {
			b.Store(&lyingStore{Store: memory.New(memory.Options{}), victim: publisher.PublicKey()})
		}
		n, err := b.Build(ctx)
		require.NoError(t, err)
		defer n.Close()
		nodes = append(nodes, n)
		if !bad {
			honest = append(honest, n)
		}
	}
	for round := range 2 {
		for _, n := range nodes[1:] {
			require.NoError(t, n.Bootstrap(ctx, nodes[0].Addrs()[0]), "round %d", round)
		}
	}
	pub := nodes[0]
	_, err := pub.PutMutable(ctx, []byte("s"), 1, []byte("genuine"))
	require.NoError(t, err)
	immKey, _, err := pub.PutImmutable(ctx, []byte("genuine chunk"))
	require.NoError(t, err)

	for _, mode := range Modes() {
		okM, okI := 0, 0
		for _, n := range honest[1:] {
			// Reads through lookups, not a replica the reader holds itself.
			v, err := n.GetMutable(ctx, publisher.PublicKey(), []byte("s"), WithMode(mode))
			if err == nil && string(v.Value) == "genuine" {
				okM++
			} else if err == nil {
				t.Errorf("%s: node returned forged mutable %q", mode, v.Value)
			}
			b, err := n.GetImmutable(ctx, immKey, WithMode(mode))
			if err == nil && string(b) == "genuine chunk" {
				okI++
			} else if err == nil {
				t.Errorf("%s: node returned forged immutable %q", mode, b)
			}
		}
		t.Logf("%-12s mutable %d/%d, immutable %d/%d", mode, okM, len(honest)-1, okI, len(honest)-1)
		if mode.kind == kindDirectReply {
			// A stateless path that reaches a liar ends there: the liar
			// answers the originator, which can only try another first hop.
			require.GreaterOrEqual(t, okM+okI, 2*(len(honest)-1)*directReply/100, "direct-reply gets")
			continue
		}
		require.Equal(t, len(honest)-1, okM, "%s: every Get returns the genuine mutable value", mode)
		require.Equal(t, len(honest)-1, okI, "%s: every Get returns the genuine immutable value", mode)
	}
	var bad uint64
	for _, n := range honest {
		bad += n.Stats().Dropped[DropBadValue]
	}
	t.Logf("forged answers discarded: %d", bad)
	if closest {
		// Random liars may sit far from both keys and never be asked;
		// liars closest to the keys are always met.
		require.Positive(t, bad, "forged answers were seen, discarded and counted")
	}
}
