package conformance

import (
	"crypto/sha256"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/stretchr/testify/require"
)

// networkKeepsQueryID wraps a codec so that every proxied query travels
// under one query ID along its whole path, derived from its salt, as if
// no proxy replaced it: the frames of a network whose proxies link both
// sides of themselves.
type networkKeepsQueryID struct{ msgenc.Codec }

func (c networkKeepsQueryID) Marshal(m *msgenc.Message) ([]byte, error) {
	if m.Forward != nil && m.Forward.Mode == msgenc.ModeProxied {
		f := *m.Forward
		sum := sha256.Sum256(f.Salt)
		f.QueryID = sum[:16]
		kept := *m
		kept.Forward = &f
		return c.Codec.Marshal(&kept)
	}
	return c.Codec.Marshal(m)
}

func TestNetworkQueryIDRulePassesOnAnHonestNetwork(t *testing.T) {
	t.Parallel()
	require.NoError(t, pathsEnv(t, nil, nil, networkCheckQueryID))
}

func TestNetworkQueryIDRuleReportsProxiesThatKeepTheQueryID(t *testing.T) {
	t.Parallel()
	err := pathsEnv(t, networkKeepsQueryID{cbor.New()}, nil, networkCheckQueryID)
	require.Error(t, err)
	require.ErrorContains(t, err, "query ID")
	t.Log(err)
}

// networkRelaysDirectReplies wraps a codec so that the originator's
// direct-reply queries leave as mixed(1): the first hop proxies them and
// relays the answer back, as a network whose direct reply is not direct.
type networkRelaysDirectReplies struct{ msgenc.Codec }

func (c networkRelaysDirectReplies) Marshal(m *msgenc.Message) ([]byte, error) {
	if m.Forward != nil && m.Forward.Mode == msgenc.ModeDirectReply && len(m.Forward.Visited) == 0 {
		f := *m.Forward
		f.Mode, f.ProxyHops = msgenc.ModeMixed, 1 // the first hop answers ReplyTo itself
		relayed := *m
		relayed.Forward = &f
		return c.Codec.Marshal(&relayed)
	}
	return c.Codec.Marshal(m)
}

func TestNetworkDirectReplyRulePassesOnAnHonestNetwork(t *testing.T) {
	t.Parallel()
	require.NoError(t, pathsEnv(t, nil, nil, networkCheckDirectReply))
}

func TestNetworkDirectReplyRuleReportsRelayedAnswers(t *testing.T) {
	t.Parallel()
	err := pathsEnv(t, networkRelaysDirectReplies{cbor.New()}, nil, networkCheckDirectReply)
	require.Error(t, err)
	require.ErrorContains(t, err, "travels back along the path")
	t.Log(err)
}
