package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dhtkit/dhtkit/examples/internal/cli"
	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// These tests run the real programs: dhtnode serve processes hold the
// chunks, and filemanager processes share and fetch over loopback UDP.

func TestA32MiBFileSharedThroughOneClientIsFetchedThroughAnother(t *testing.T) {
	boot := startServers(t, 4, "--listen", "/ip4/127.0.0.1/udp/0")
	dir := t.TempDir()
	src := randomFile(t, dir, "big.bin", 32<<20)

	share := runBin(t, "share", "--bootstrap", boot[0], "--replicas", "3", src)
	require.Equal(t, 0, share.code, share.stderr)
	id := strings.TrimSpace(share.stdout)
	require.Len(t, id, 64, "one ID on stdout")
	require.Contains(t, share.stderr, "shared "+src+": 32.0 MiB in 1024 chunks, each on at least 3 replicas")

	out := filepath.Join(dir, "fetched.bin")
	fetch := runBin(t, "fetch", "--bootstrap", boot[0], "-o", out, id)
	require.Equal(t, 0, fetch.code, fetch.stderr)
	require.Equal(t, out+"\n", fetch.stdout)
	require.Contains(t, fetch.stderr, "1024 chunks: 0 already here, 1024 fetched")
	require.Contains(t, fetch.stderr, "fetch big.bin: 16.0 MiB of 32.0 MiB (50%)", "plain progress lines when stderr is not a terminal")
	requireSameFile(t, src, out)
	peak := peakMemory(t, fetch.stderr)
	t.Logf("share %v, fetch %v, fetch peak RSS %.1f MiB", share.elapsed, fetch.elapsed, float64(peak)/(1<<20))
	require.Less(t, peak, int64(128<<20), "fetch peak RSS")
}

// manifestOnly stores manifest nodes and only pretends to store chunks:
// a share whose chunks have not all arrived yet.
type manifestOnly struct {
	blockStore
	h peer.Hasher
}

func (m manifestOnly) put(ctx context.Context, v []byte) (peer.ID, int, error) {
	if bytes.HasPrefix(v, []byte(manifestMagic)) {
		return m.blockStore.put(ctx, v)
	}
	return m.h.Sum(v), 1, nil
}

func TestAFetchKilledHalfWayResumesWithOnlyTheMissingChunks(t *testing.T) {
	boot := startServers(t, 4, "--listen", "/ip4/127.0.0.1/udp/0")
	dir := t.TempDir()
	src := randomFile(t, dir, "whole.bin", 16<<20)
	data, err := os.ReadFile(src)
	require.NoError(t, err)

	// The network holds the file's manifest and its first half only: the
	// first half is shared as a file of its own (same chunks, same keys),
	// the manifest stored by a client that leaves the chunks out.
	half := filepath.Join(dir, "half.bin")
	require.NoError(t, os.WriteFile(half, data[:8<<20], 0o644))
	r := runBin(t, "share", "--bootstrap", boot[0], half)
	require.Equal(t, 0, r.code, r.stderr)
	c := cli.Client{Bootstrap: cli.PeerList{mustAddr(t, boot[0])}, Timeout: waitFor} // the zero Parts: node's defaults
	join, err := joiner(&c, nil, os.Stderr, nil)
	require.NoError(t, err)
	n, err := join(context.Background())
	require.NoError(t, err)
	bs := newNodeBlocks(n, join, 3)
	s := testSharer(manifestOnly{bs, n.Hasher()}, defaultChunkSize)
	id, _, err := s.sharePath(context.Background(), src)
	require.NoError(t, err)
	require.NoError(t, bs.Close())

	// The fetch writes the first 256 chunks, then waits for the others;
	// once its state records the 256, it is killed.
	_, fm := binaries(t)
	out := filepath.Join(dir, "out.bin")
	cmd := exec.Command(fm, "fetch", "--bootstrap", boot[0], "-o", out, id.String())
	var stderr bytes.Buffer
	cmd.Stderr = &lockedWriter{w: &stderr}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	_, statePath := sidecars(out)
	waitUntil(t, "the fetch's state records the first half", func() bool {
		st, err := loadState(statePath)
		return err == nil && st != nil && st.count() == 256
	})
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the fetch was killed, not finished: %s", cmd.ProcessState)
	require.NoFileExists(t, out)

	// The rest arrives; the rerun fetches only what is missing.
	r = runBin(t, "share", "--bootstrap", boot[0], src)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, id.String()+"\n", r.stdout, "the same bytes make the same ID")
	r = runBin(t, "fetch", "--bootstrap", boot[0], "-o", out, id.String())
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "resuming "+out+": 256 of 512 chunks already here")
	require.Contains(t, r.stderr, "512 chunks: 256 already here, 256 fetched")
	requireSameFile(t, src, out)
	require.NoFileExists(t, statePath)
}

func mustAddr(t *testing.T, s string) ma.Multiaddr {
	t.Helper()
	a, err := cli.ParseAddr(s)
	require.NoError(t, err)
	return a
}

func TestAnIDNoOneHoldsFailsCleanlyWithinTheTimeout(t *testing.T) {
	boot := startServers(t, 3, "--listen", "/ip4/127.0.0.1/udp/0")
	missing := randomKeys(t, 1, 32)[0].String()
	dir := t.TempDir()
	for _, cmd := range []string{"fetch", "ls"} {
		r := runBin(t, cmd, "--bootstrap", boot[0], "--timeout", "5s", "-o", filepath.Join(dir, "x"), missing)
		if cmd == "ls" {
			r = runBin(t, cmd, "--bootstrap", boot[0], "--timeout", "5s", missing)
		}
		require.Equal(t, 1, r.code, "%s: %s", cmd, r.stderr)
		require.Contains(t, r.stderr, "filemanager "+cmd+": ID "+missing+" not found: no peer holds it")
		require.Empty(t, r.stdout)
		require.Less(t, r.elapsed.Seconds(), 5.0, "%s took %v", cmd, r.elapsed)
	}
	require.NoFileExists(t, filepath.Join(dir, "x"))
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, ents, "a failed fetch leaves nothing behind")
}
