package main

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func randomKeys(t testing.TB, n, keyLen int) []peer.ID {
	ids := make([]peer.ID, n)
	b := make([]byte, keyLen)
	for i := range ids {
		rand.Read(b)
		id, err := peer.IDFromBytes(b)
		require.NoError(t, err)
		ids[i] = id
	}
	return ids
}

// sampleNodes are valid nodes of every type, for round trips and as fuzz
// seeds.
func sampleNodes(t testing.TB) []interface{ encode() []byte } {
	return []interface{ encode() []byte }{
		&fileNode{KeyLen: 32, Name: "empty", ChunkSize: 32 << 10},
		&fileNode{KeyLen: 32, Name: "one chunk.txt", Size: 10, ChunkSize: 32 << 10, Children: randomKeys(t, 1, 32)},
		&fileNode{KeyLen: 32, Name: "full", Size: Fanout * 1024, ChunkSize: 1024, Children: randomKeys(t, Fanout, 32)},
		&fileNode{KeyLen: 20, Name: "deep", Size: Fanout*Fanout + 1, ChunkSize: 1, Depth: 2, Children: randomKeys(t, 2, 20)},
		&indexNode{KeyLen: 32, Depth: 0, Children: randomKeys(t, 3, 32)},
		&dirNode{KeyLen: 32, Name: "photos", Size: 12, Entries: []dirEntry{
			{Type: typeFile, Name: "a.jpg", Size: 5, ID: randomKeys(t, 1, 32)[0]},
			{Type: typeDir, Name: "more", Size: 7, ID: randomKeys(t, 1, 32)[0]},
		}, Next: randomKeys(t, 1, 32)[0]},
		&dirNode{KeyLen: 32, Name: "empty dir"},
	}
}

func TestManifestNodesRoundTrip(t *testing.T) {
	for _, n := range sampleNodes(t) {
		b := n.encode()
		require.LessOrEqual(t, len(b), MaxNodeSize)
		got, err := decodeNode(b)
		require.NoError(t, err, "%T", n)
		require.Equal(t, n, got)
	}
}

func TestLargestNodesFitAValue(t *testing.T) {
	long := strings.Repeat("n", MaxNameLen)
	f := &fileNode{KeyLen: 32, Name: long, Size: Fanout * MaxChunkSize, ChunkSize: MaxChunkSize, Children: randomKeys(t, Fanout, 32)}
	require.LessOrEqual(t, len(f.encode()), MaxNodeSize)
	_, err := decodeNode(f.encode())
	require.NoError(t, err)
}

// span is how many chunks a full tree of depth l-1 holds: Fanout^l.
func span(l int) uint64 {
	s := uint64(1)
	for range l {
		s *= Fanout
	}
	return s
}

func TestShapeFollowsTheChunkCount(t *testing.T) {
	cases := []struct {
		n          uint64
		depth      int
		top        uint64
		wantsError bool
	}{
		{0, 0, 0, false},
		{1, 0, 1, false},
		{Fanout, 0, Fanout, false},
		{Fanout + 1, 1, 2, false},
		{Fanout * Fanout, 1, Fanout, false},
		{Fanout*Fanout + 1, 2, 2, false},
		{span(MaxDepth + 1), MaxDepth, Fanout, false},
		{span(MaxDepth+1) + 1, 0, 0, true},
	}
	for _, c := range cases {
		depth, top, err := shape(c.n)
		if c.wantsError {
			require.ErrorIs(t, err, errManifest, "%d chunks", c.n)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, c.depth, depth, "depth of %d chunks", c.n)
		require.Equal(t, c.top, top, "top of %d chunks", c.n)
	}
}

func TestDecodeRefusesWhatCouldHarmOrMislead(t *testing.T) {
	keys := randomKeys(t, 2, 32)
	file := func(name string, size uint64, cs uint32, depth uint8, n int) []byte {
		return (&fileNode{KeyLen: 32, Name: name, Size: size, ChunkSize: cs, Depth: depth, Children: randomKeys(t, n, 32)}).encode()
	}
	dir := func(name string, en dirEntry) []byte {
		return (&dirNode{KeyLen: 32, Name: "d", Entries: []dirEntry{en}}).encode()
	}
	good := file("f", 10, 1024, 0, 1)
	cases := []struct {
		rule string
		b    []byte
	}{
		{"a parent directory as a name would write outside the output", dir("d", dirEntry{Type: typeFile, Name: "..", ID: keys[0]})},
		{"a slash in a name would write outside the output", dir("d", dirEntry{Type: typeFile, Name: "../../etc/passwd", ID: keys[0]})},
		{"a backslash is a separator on Windows", file(`a\b`, 10, 1024, 0, 1)},
		{"a NUL cannot be in a file name", file("a\x00b", 10, 1024, 0, 1)},
		{"an empty name names nothing", file("", 10, 1024, 0, 1)},
		{"names are UTF-8", file("\xff", 10, 1024, 0, 1)},
		{"a chunk count must match the size", file("f", 10, 1024, 0, 2)},
		{"a depth must match the size", file("f", 10, 1024, 1, 1)},
		{"a zero chunk size cannot cut anything", file("f", 0, 0, 0, 0)},
		{"a chunk size over the bound", file("f", 10, MaxChunkSize+1, 0, 1)},
		{"an entry type other than file or dir", dir("d", dirEntry{Type: typeIndex, Name: "x", ID: keys[0]})},
		{"trailing bytes", append(bytes.Clone(good), 0)},
		{"a truncated node", good[:len(good)-1]},
		{"an unknown version", append([]byte("DKFM\x02"), good[5:]...)},
		{"an unknown type", append([]byte("DKFM\x01\x09"), good[6:]...)},
		{"a key length other than 20 or 32", append([]byte("DKFM\x01\x01\x10"), good[7:]...)},
		{"another magic", append([]byte("XXXX"), good[4:]...)},
		{"an index node with no children", (&indexNode{KeyLen: 32}).encode()},
		{"an index node as deep as a file's deepest", (&indexNode{KeyLen: 32, Depth: MaxDepth, Children: keys}).encode()},
		{"over MaxNodeSize", append(bytes.Clone(good), make([]byte, MaxNodeSize)...)},
	}
	for _, c := range cases {
		_, err := decodeNode(c.b)
		require.ErrorIs(t, err, errManifest, c.rule)
	}
}

func TestDecodeBoundsCountsBeforeAllocating(t *testing.T) {
	// A directory page that claims 65535 entries but holds none.
	b := (&dirNode{KeyLen: 32, Name: "d"}).encode()
	i := headerLen + 1 + 1 + 8
	b[i], b[i+1] = 0xff, 0xff
	allocs := testing.AllocsPerRun(10, func() { _, _ = decodeNode(b) })
	require.Less(t, allocs, 10.0)
	_, err := decodeNode(b)
	require.ErrorIs(t, err, errManifest)
}

func TestShareListRoundTripAndBounds(t *testing.T) {
	ids := randomKeys(t, 3, 32)
	got, err := decodeShareList(encodeShareList(32, ids))
	require.NoError(t, err)
	require.Equal(t, ids, got)

	_, err = decodeShareList(encodeShareList(32, randomKeys(t, MaxShareIDs+1, 32)))
	require.ErrorIs(t, err, errManifest, "more IDs than a share may list")
	_, err = decodeShareList([]byte("DKFS\x01\x20\xff\xff"))
	require.ErrorIs(t, err, errManifest, "a count with nothing behind it")

	_, err = shareSalt(strings.Repeat("x", MaxShareName+1))
	require.Error(t, err)
	_, err = shareSalt("a/b")
	require.Error(t, err)
	salt, err := shareSalt(strings.Repeat("x", MaxShareName))
	require.NoError(t, err)
	require.Len(t, salt, 64)
}

func FuzzDecodeNode(f *testing.F) {
	for _, n := range sampleNodes(f) {
		f.Add(n.encode())
	}
	f.Add(encodeShareList(32, randomKeys(f, 2, 32)))
	f.Fuzz(func(t *testing.T, b []byte) {
		nd, err := decodeNode(b)
		if err != nil {
			return
		}
		// What decodes is canonical: it encodes back to the same bytes,
		// so one file has one ID.
		require.Equal(t, b, nd.(interface{ encode() []byte }).encode())
		if d, ok := nd.(*dirNode); ok {
			for _, e := range d.Entries {
				require.NoError(t, validName(e.Name))
			}
		}
	})
}

func FuzzDecodeShareList(f *testing.F) {
	f.Add(encodeShareList(32, randomKeys(f, 2, 32)))
	f.Add(encodeShareList(20, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := decodeShareList(b)
		if err != nil {
			return
		}
		require.LessOrEqual(t, len(ids), MaxShareIDs)
		require.Equal(t, b, encodeShareList(int(b[5]), ids))
	})
}
