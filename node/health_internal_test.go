package node

import (
	"testing"
	"time"
	"unsafe"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func TestHealthBacksOffAFailingPeerForItsBackoffAndAtMostASecondMore(t *testing.T) {
	var h health
	h.init(2 * time.Second)
	id := peer.SHA256().Sum([]byte("p"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	h.failed(id, now)
	require.False(t, h.down(id, now), "one failure is not enough")
	h.failed(id, now)
	require.True(t, h.down(id, now))
	require.True(t, h.down(id, now.Add(firstBackoff-time.Millisecond)), "down for the whole backoff")
	require.False(t, h.down(id, now.Add(firstBackoff+time.Second)), "back at most a second after it")
	h.failed(id, now)
	require.True(t, h.down(id, now.Add(2*firstBackoff-time.Millisecond)), "the backoff doubles")
	h.heard(id)
	require.False(t, h.down(id, now), "an answer forgives")
}

func TestHealthQuietUntilAFrameIsSeen(t *testing.T) {
	var h health
	h.init(2 * time.Second)
	id := peer.SHA256().Sum([]byte("p"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.True(t, h.quiet(id, now.Add(-time.Minute)), "never heard")
	h.saw(id, now)
	require.False(t, h.quiet(id, now.Add(-time.Minute)))
	require.True(t, h.quiet(id, now), "nothing heard after now")
	require.LessOrEqual(t, unsafe.Sizeof(peerHealth{}), uintptr(16), "one per peer contacted: keep it small")
}

func TestHealthRemembersAtMostMaxHealthPeersEachApart(t *testing.T) {
	var h health
	h.init(2 * time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]peer.ID, maxHealthPeers+100)
	for i := range ids {
		ids[i] = peer.SHA256().Sum([]byte{byte(i), byte(i >> 8)})
		h.failed(ids[i], now)
		h.failed(ids[i], now)
		h.mu.Lock()
		size := len(h.peers)
		h.mu.Unlock()
		require.LessOrEqual(t, size, maxHealthPeers)
	}
	countDown := func() int {
		n := 0
		for _, id := range ids {
			if h.down(id, now) {
				n++
			}
		}
		return n
	}
	last := ids[len(ids)-1]
	require.True(t, h.down(last, now), "the newest peer is remembered")
	require.Equal(t, maxHealthPeers, countDown(), "every peer remembered keeps its own backoff")
	h.heard(last)
	require.False(t, h.down(last, now))
	require.Equal(t, maxHealthPeers-1, countDown(), "forgiving one peer leaves the others down")
}

func TestHealthFailuresAndRoundTripShareAWordWithoutTouching(t *testing.T) {
	var h health
	h.init(10 * time.Minute)
	id := peer.SHA256().Sum([]byte("slow"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h.answered(id, 100*time.Second) // a slow peer, near the top of rttBits
	want := h.timeout(id)
	require.Equal(t, 300*time.Second, want, "srtt 100s + 4 × rttvar 50s")
	for range 40 {
		h.failed(id, now)
	}
	require.Equal(t, want, h.timeout(id), "counting failures leaves the estimate alone")
	require.True(t, h.down(id, now.Add(maxBackoff-time.Second)), "many failures: the longest backoff")
	require.False(t, h.down(id, now.Add(maxBackoff+time.Second)))
	h.answered(id, 100*time.Second)
	require.False(t, h.down(id, now), "an answer forgives")
	require.Equal(t, 250*time.Second, h.timeout(id), "srtt 100s + 4 × rttvar 37.5s")
	failures := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		e := h.peers[h.key(id)]
		return e.failures()
	}
	require.Zero(t, failures())

	h.answered(id, time.Hour) // longer than rttBits holds: capped, not spilled
	require.Zero(t, failures(), "a long round trip does not reach the failure count")
	require.Greater(t, h.timeout(id), 250*time.Second)
}
