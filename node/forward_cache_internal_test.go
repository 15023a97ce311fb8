package node

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/stretchr/testify/require"
)

func TestPathCacheExpiresWithTheValuesOwnTTL(t *testing.T) {
	var c pathCache
	c.init(4)
	now := time.Unix(1000, 0)
	key := djID(1)
	recs := []msgenc.ValueRecord{{Key: key.Bytes(), Value: []byte("v"), TTL: 10}}
	c.put(key, recs, now, time.Hour)
	recs[0].Value[0] = 'x' // the cache keeps its own copy

	got := c.get(key, now.Add(4*time.Second), msgenc.MaxFrameSize)
	require.Len(t, got, 1)
	require.Equal(t, []byte("v"), got[0].Value)
	require.Equal(t, uint32(6), got[0].TTL, "the TTL counts down from the value's own")
	require.Empty(t, c.get(key, now.Add(10*time.Second), msgenc.MaxFrameSize), "gone when the value expires")
	require.Zero(t, c.len())

	c.put(key, []msgenc.ValueRecord{{Key: key.Bytes(), Value: []byte("v"), TTL: 1 << 30}}, now, time.Minute)
	require.Empty(t, c.get(key, now.Add(time.Minute), msgenc.MaxFrameSize), "a TTL longer than the node's record TTL is capped")
}

func TestPathCacheIsBounded(t *testing.T) {
	var c pathCache
	c.init(3)
	now := time.Unix(1000, 0)
	for i := range 10 {
		key := djID(byte(i + 1))
		c.put(key, []msgenc.ValueRecord{{Key: key.Bytes(), Value: []byte("v"), TTL: uint32(100 + i)}}, now, time.Hour)
		require.LessOrEqual(t, c.len(), 3)
	}
	require.NotEmpty(t, c.get(djID(10), now, msgenc.MaxFrameSize), "the latest, longest-lived entry stays")
	require.Empty(t, c.get(djID(1), now, msgenc.MaxFrameSize), "the soonest to expire gave way")

	var wide pathCache
	wide.init(64)
	big := make([]byte, msgenc.MaxValueSize)
	for i := range 40 {
		key := djID(byte(100 + i))
		wide.put(key, []msgenc.ValueRecord{{Key: key.Bytes(), Value: big, TTL: 100}}, now, time.Hour)
		require.LessOrEqual(t, wide.bytes, pathCacheBytes, "the bytes held are bounded")
	}
	require.Less(t, wide.len(), 40, "entries gave way to stay within the bytes")
	var off pathCache
	off.init(0)
	off.put(djID(1), []msgenc.ValueRecord{{Value: []byte("v"), TTL: 100}}, now, time.Hour)
	require.Zero(t, off.len(), "PathCache(0) keeps nothing")
}
