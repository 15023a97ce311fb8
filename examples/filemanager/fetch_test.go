package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

// memBlocks is a blockStore in memory. lie, when set, may replace what get
// returns, as a hostile replica would.
type memBlocks struct {
	h    peer.Hasher
	mu   sync.Mutex
	m    map[peer.ID][]byte
	gets atomic.Int64
	lie  func(key peer.ID, b []byte) []byte
}

func newMemBlocks() *memBlocks { return &memBlocks{h: peer.SHA256(), m: map[peer.ID][]byte{}} }

func (m *memBlocks) put(_ context.Context, v []byte) (peer.ID, int, error) {
	k := m.h.Sum(v)
	m.mu.Lock()
	m.m[k] = bytes.Clone(v)
	m.mu.Unlock()
	return k, 1, nil
}

func (m *memBlocks) get(_ context.Context, k peer.ID) ([]byte, error) {
	m.gets.Add(1)
	m.mu.Lock()
	b, ok := m.m[k]
	lie := m.lie
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: key %s", node.ErrNotFound, k.Short())
	}
	if lie != nil {
		b = lie(k, bytes.Clone(b))
	}
	return bytes.Clone(b), nil
}

func (m *memBlocks) drop(k peer.ID) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}

func randomFile(t testing.TB, dir, name string, size int) string {
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func testSharer(bs blockStore, chunkSize int) *sharer {
	return &sharer{bs: bs, hasher: peer.SHA256(), chunkSize: chunkSize, parallel: 4, progress: newProgress(io.Discard), warn: io.Discard}
}

// testRetry retries as chunkRetry does, without the waits.
var testRetry = retry{attempts: chunkRetry.attempts, backoff: time.Millisecond, missing: true}

func testFetcher(bs blockStore) *fetcher {
	return &fetcher{bs: bs, hasher: peer.SHA256(), parallel: 8, checkpoint: time.Hour, retry: testRetry, progress: newProgress(io.Discard), log: io.Discard}
}

func requireSameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	require.NoError(t, err)
	b, err := os.ReadFile(got)
	require.NoError(t, err)
	require.True(t, bytes.Equal(a, b), "%s and %s differ", want, got)
}

func TestShareThenFetchAFileOfEveryShape(t *testing.T) {
	// With 1-byte... 1 KiB chunks, Fanout+1 chunks need a tree of depth 1.
	for _, size := range []int{0, 1, 1024, 1025, Fanout * 1024, Fanout*1024 + 1, 3*Fanout*1024 + 17} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := t.TempDir()
			src := randomFile(t, dir, "src.bin", size)
			bs := newMemBlocks()
			id, n, err := testSharer(bs, 1024).sharePath(context.Background(), src)
			require.NoError(t, err)
			require.Equal(t, uint64(size), n)
			out := filepath.Join(dir, "out.bin")
			f := testFetcher(bs)
			_, err = f.fetchID(context.Background(), id, out)
			require.NoError(t, err)
			requireSameFile(t, src, out)
			part, state := sidecars(out)
			require.NoFileExists(t, part)
			require.NoFileExists(t, state)
		})
	}
}

func TestTreeOfDepthTwoWalksInOrder(t *testing.T) {
	// Fake chunk keys, folded into a tree of depth 2; walking it gives
	// them back in order. Only the index nodes are stored.
	n := Fanout*Fanout + 5
	keys := make([]peer.ID, n)
	var b [32]byte
	for i := range keys {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		keys[i], _ = peer.IDFromBytes(b[:])
	}
	depth, _, err := shape(uint64(n))
	require.NoError(t, err)
	require.Equal(t, 2, depth)
	bs := newMemBlocks()
	put := func(ctx context.Context, b []byte) (peer.ID, error) { id, _, err := bs.put(ctx, b); return id, err }
	tb := &treeBuilder{keyLen: 32, depth: depth, levels: make([][]peer.ID, depth+1), put: put}
	for _, k := range keys {
		if err := tb.add(context.Background(), 0, k); err != nil {
			t.Fatal(err)
		}
	}
	top, err := tb.finish(context.Background())
	require.NoError(t, err)
	fn := &fileNode{KeyLen: 32, Name: "big", Size: uint64(n), ChunkSize: 1, Depth: uint8(depth), Children: top}
	_, err = decodeNode(fn.encode())
	require.NoError(t, err, "the builder makes the shape the decoder expects")
	got := make([]peer.ID, 0, n)
	err = testFetcher(bs).walk(context.Background(), fn, func(i uint64, k peer.ID) error {
		if i != uint64(len(got)) {
			return fmt.Errorf("chunk %d walked after %d others", i, len(got))
		}
		got = append(got, k)
		return nil
	})
	require.NoError(t, err)
	require.True(t, slices.Equal(keys, got), "the walk gives back every key in order")
}

func TestFetcherDiscardsBadValuesAndAsksAgain(t *testing.T) {
	dir := t.TempDir()
	src := randomFile(t, dir, "src.bin", 64*1024)
	bs := newMemBlocks()
	id, _, err := testSharer(bs, 4096).sharePath(context.Background(), src)
	require.NoError(t, err)
	// Every value is corrupted the first two times it is asked for.
	var mu sync.Mutex
	asked := map[peer.ID]int{}
	bs.lie = func(k peer.ID, b []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		if asked[k]++; asked[k] <= 2 {
			b[len(b)/2] ^= 0xff
		}
		return b
	}
	f := testFetcher(bs)
	out := filepath.Join(dir, "out.bin")
	_, err = f.fetchID(context.Background(), id, out)
	require.NoError(t, err)
	requireSameFile(t, src, out)
	require.Equal(t, int64(2*(16+1)), f.bad.Load(), "two bad values of each of 16 chunks and the file node were discarded")
}

func TestAChunkNoReplicaHoldsFailsAndKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	src := randomFile(t, dir, "src.bin", 16*1024)
	bs := newMemBlocks()
	id, _, err := testSharer(bs, 1024).sharePath(context.Background(), src)
	require.NoError(t, err)
	data, _ := os.ReadFile(src)
	bs.drop(bs.h.Sum(data[15*1024:]))
	f := testFetcher(bs)
	f.parallel = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := filepath.Join(dir, "out.bin")
	var wg sync.WaitGroup
	var fetchErr error
	wg.Go(func() { _, fetchErr = f.fetchID(ctx, id, out) })
	// The last chunk is retried until the fetch is given up.
	require.Eventually(t, func() bool { return f.fetched.Load() == 15 }, 10*time.Second, time.Millisecond)
	cancel()
	wg.Wait()
	require.ErrorIs(t, fetchErr, context.Canceled)
	require.ErrorContains(t, fetchErr, "run the fetch again to resume")
	st, err := loadState(out + stateSuffix)
	require.NoError(t, err)
	require.Equal(t, uint64(15), st.count(), "the state saved on failure records the 15 chunks written")
}

func TestResumeChecksRecordedChunksAndFetchesTheRest(t *testing.T) {
	dir := t.TempDir()
	src := randomFile(t, dir, "src.bin", 16*1024)
	data, _ := os.ReadFile(src)
	bs := newMemBlocks()
	id, _, err := testSharer(bs, 1024).sharePath(context.Background(), src)
	require.NoError(t, err)
	nd, err := testFetcher(bs).root(context.Background(), id)
	require.NoError(t, err)
	fn := nd.(*fileNode)

	// A crashed run left chunks 0-7 recorded, but chunk 3's bytes are not
	// what its key says (a torn write, a disk error).
	out := filepath.Join(dir, "out.bin")
	part := bytes.Clone(data)
	part[3*1024] ^= 1
	clear(part[8*1024:])
	require.NoError(t, os.WriteFile(out+partSuffix, part, 0o644))
	st := newFetchState(id, fn)
	for i := range uint64(8) {
		st.set(i)
	}
	require.NoError(t, writeFileAtomic(out+stateSuffix, st.encode()))

	f := testFetcher(bs)
	var log bytes.Buffer
	f.log = &log
	_, err = f.fetchID(context.Background(), id, out)
	require.NoError(t, err)
	requireSameFile(t, src, out)
	require.Contains(t, log.String(), "8 of 16 chunks already here")
	require.Equal(t, int64(7), f.already.Load(), "7 recorded chunks verified")
	require.Equal(t, int64(9), f.fetched.Load(), "the bad recorded chunk and the 8 missing ones fetched")
}

func TestAnExistingOutputIsNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	src := randomFile(t, dir, "src.bin", 8*1024)
	bs := newMemBlocks()
	id, _, err := testSharer(bs, 1024).sharePath(context.Background(), src)
	require.NoError(t, err)

	other := randomFile(t, dir, "other.bin", 8*1024)
	before, _ := os.ReadFile(other)
	_, err = testFetcher(bs).fetchID(context.Background(), id, other)
	require.ErrorIs(t, err, errExists)
	after, _ := os.ReadFile(other)
	require.Equal(t, before, after)

	f := testFetcher(bs)
	_, err = f.fetchID(context.Background(), id, src)
	require.NoError(t, err, "a file that is already there is a finished fetch")
	require.Equal(t, int64(8), f.already.Load())
}

func TestDirectoriesShareAndFetchWithTheirTree(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "tree")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sub", "empty"), 0o755))
	randomFile(t, root, "a.bin", 3000)
	randomFile(t, filepath.Join(root, "sub"), "b.bin", 5000)
	randomFile(t, root, "zero.bin", 0)
	require.NoError(t, os.Symlink("a.bin", filepath.Join(root, "link")))
	bs := newMemBlocks()
	s := testSharer(bs, 1024)
	var warn bytes.Buffer
	s.warn = &warn
	id, size, err := s.sharePath(context.Background(), root)
	require.NoError(t, err)
	require.Equal(t, uint64(8000), size)
	require.Contains(t, warn.String(), "link: not a regular file or directory")

	out := filepath.Join(dir, "out")
	_, err = testFetcher(bs).fetchID(context.Background(), id, out)
	require.NoError(t, err)
	for _, p := range []string{"a.bin", "sub/b.bin", "zero.bin"} {
		requireSameFile(t, filepath.Join(root, p), filepath.Join(out, p))
	}
	require.DirExists(t, filepath.Join(out, "sub", "empty"))
	require.NoFileExists(t, filepath.Join(out, "link"))

	var ls bytes.Buffer
	f := testFetcher(bs)
	nd, err := f.root(context.Background(), id)
	require.NoError(t, err)
	require.NoError(t, f.list(context.Background(), &ls, nd, "tree", 0))
	require.Equal(t, ""+
		"dir             8000          -  tree/\n"+
		"file            3000          3  tree/a.bin\n"+
		"dir             5000          -  tree/sub/\n"+
		"file            5000          5  tree/sub/b.bin\n"+
		"dir                0          -  tree/sub/empty/\n"+
		"file               0          0  tree/zero.bin\n", ls.String())
}

func TestALargeDirectoryTakesSeveralPages(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "many")
	require.NoError(t, os.Mkdir(root, 0o755))
	long := bytes.Repeat([]byte("x"), 250)
	const files = 170 // 170 entries of 295 bytes: two pages
	for i := range files {
		require.NoError(t, os.WriteFile(filepath.Join(root, fmt.Sprintf("%s%03d", long, i)), []byte{byte(i)}, 0o644))
	}
	bs := newMemBlocks()
	id, _, err := testSharer(bs, 1024).sharePath(context.Background(), root)
	require.NoError(t, err)
	nd, err := testFetcher(bs).root(context.Background(), id)
	require.NoError(t, err)
	require.False(t, nd.(*dirNode).Next.IsZero(), "the directory is chained over pages")
	out := filepath.Join(dir, "out")
	_, err = testFetcher(bs).fetchID(context.Background(), id, out)
	require.NoError(t, err)
	ents, err := os.ReadDir(out)
	require.NoError(t, err)
	require.Len(t, ents, files)
}
