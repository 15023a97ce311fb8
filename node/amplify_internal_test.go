package node

import (
	"bytes"
	"fmt"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

func heldAddr(i int) ma.Multiaddr {
	return ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/udp/4001", i>>16&255, i>>8&255, i&255))
}

func TestHeldTokensAreKeptPerAddressWhateverTheirLength(t *testing.T) {
	a, err := newAmplifier(newFakeTime().now)
	require.NoError(t, err)
	own := bytes.Repeat([]byte{1}, tokenLen)
	long := bytes.Repeat([]byte{2}, 32)
	short := []byte{3, 4, 5}
	a.learn(heldAddr(1), own)
	a.learn(heldAddr(2), long)
	a.learn(heldAddr(3), short)
	require.Equal(t, own, a.tokenFor(heldAddr(1)))
	require.Equal(t, long, a.tokenFor(heldAddr(2)))
	require.Equal(t, short, a.tokenFor(heldAddr(3)))
	require.Nil(t, a.tokenFor(heldAddr(4)), "no token was learned for this address")

	// A new token replaces the old one, across lengths, without a second
	// entry for the address.
	a.learn(heldAddr(1), long)
	a.learn(heldAddr(2), own)
	require.Equal(t, long, a.tokenFor(heldAddr(1)))
	require.Equal(t, own, a.tokenFor(heldAddr(2)))
	require.Equal(t, 3, a.heldLen())

	// The caller's slice is copied, not kept.
	tok := bytes.Repeat([]byte{9}, tokenLen)
	a.learn(heldAddr(5), tok)
	tok[0] = 0
	require.Equal(t, byte(9), a.tokenFor(heldAddr(5))[0])

	// Empty and oversized tokens are not kept.
	a.learn(heldAddr(6), nil)
	a.learn(heldAddr(7), make([]byte, 33))
	require.Nil(t, a.tokenFor(heldAddr(6)))
	require.Nil(t, a.tokenFor(heldAddr(7)))
}

func TestHeldTokensStayWithinTheirBound(t *testing.T) {
	a, err := newAmplifier(newFakeTime().now)
	require.NoError(t, err)
	for i := range heldTokens + 500 {
		tok := bytes.Repeat([]byte{byte(i)}, tokenLen)
		if i%3 == 0 {
			tok = append(tok, 1) // another implementation's length
		}
		a.learn(heldAddr(i), tok)
		require.LessOrEqual(t, a.heldLen(), heldTokens)
	}
	require.Equal(t, heldTokens, a.heldLen(), "a full map forgets one token for each new address")
	last := heldTokens + 499
	want := bytes.Repeat([]byte{byte(last)}, tokenLen)
	require.Equal(t, want, a.tokenFor(heldAddr(last)), "the newest token is held")
}
