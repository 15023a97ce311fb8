package conformance

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

// The path privacy rules can fail: a network that ships the first proxy's
// ID, or whose hop budget starts fixed, is reported.

// networkLeakyCodec wraps a codec so that the network it serves leaks the
// first proxy's ID: a node forwarding a query with a fresh salt of the
// originator's length replaces the salt with its own ID, which then travels
// on. It exists for the meta-tests: a suite must report such a network.
type networkLeakyCodec struct{ msgenc.Codec }

func (c networkLeakyCodec) Marshal(m *msgenc.Message) ([]byte, error) {
	if m.Forward != nil && m.Sender != nil && len(m.Forward.Salt) < peer.IDLen256 && len(m.Sender.ID) <= msgenc.MaxQuerySalt {
		f := *m.Forward
		f.Salt = m.Sender.ID
		leaky := *m
		leaky.Forward = &f
		return c.Codec.Marshal(&leaky)
	}
	return c.Codec.Marshal(m)
}

// pathsEnv runs check over a fresh mem network of 16 nodes with k=3 (so
// that queries travel past the first hop), configured by configure, and
// returns what it reports.
func pathsEnv(t *testing.T, codec msgenc.Codec, configure func(int, *node.Builder), check func(*env, networkSuite) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	e := &env{t: t, ctx: ctx, rng: rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))}
	s := networkSuite{newHarness: NetworkMem(NetworkMemOptions{
		Codec: codec,
		Configure: func(i int, b *node.Builder) {
			b.K(3)
			if configure != nil {
				configure(i, b)
			}
		},
	}), opts: NetworkOptions{Size: 16}.withDefaults()}
	return check(e, s)
}

func TestNetworkPathRulesPassOnAnHonestNetwork(t *testing.T) {
	t.Parallel()
	require.NoError(t, pathsEnv(t, nil, nil, networkCheckNoHopTrace))
	require.NoError(t, pathsEnv(t, nil, nil, networkCheckHopPosition))
}

func TestNetworkNoHopTraceReportsANetworkThatShipsTheFirstProxysID(t *testing.T) {
	t.Parallel()
	err := pathsEnv(t, networkLeakyCodec{cbor.New()}, nil, networkCheckNoHopTrace)
	require.Error(t, err)
	require.ErrorContains(t, err, "the first hop's ID")
	t.Log(err)
}

func TestNetworkHopPositionReportsAFixedBudget(t *testing.T) {
	t.Parallel()
	err := pathsEnv(t, nil, func(_ int, b *node.Builder) { b.HopBudgetRange(20, 20).HopKeep(node.NoHopKeep) }, networkCheckHopPosition)
	require.Error(t, err)
	require.ErrorContains(t, err, "does not start at random")
	t.Log(err)
}
