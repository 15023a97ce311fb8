package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func keyHex(id *peer.Identity) string { return hex.EncodeToString(id.PublicKey()) }

func TestANamedShareIsAStableAddressItsPublisherUpdates(t *testing.T) {
	boot := startServers(t, 4, "--listen", "/ip4/127.0.0.1/udp/0")[0]
	dir := t.TempDir()
	a := randomFile(t, dir, "a.txt", 5000)
	b := randomFile(t, dir, "b.txt", 7000)
	code, out, errOut := runCmd(t, "share", "--bootstrap", boot, a, b)
	require.Equal(t, 0, code, errOut)
	ids := strings.Fields(out)
	require.Len(t, ids, 2, "one ID a path")

	keyFile := filepath.Join(dir, "publisher.key")
	code, out, errOut = runCmd(t, "publish", "--bootstrap", boot, "--identity", keyFile, "holiday", ids[0])
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "generated a new identity")
	id, err := peer.LoadIdentity(keyFile)
	require.NoError(t, err)
	pub := keyHex(id)
	require.Equal(t, pub+" holiday\n", out, "publish prints the address")

	got := filepath.Join(dir, "got")
	require.NoError(t, os.Mkdir(got, 0o755))
	code, out, errOut = runCmd(t, "fetch", "--bootstrap", boot, "--from", pub, "-o", got, "holiday")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, `share "holiday" published by `+pub)
	require.Equal(t, filepath.Join(got, "a.txt")+"\n", out)
	requireSameFile(t, a, filepath.Join(got, "a.txt"))

	// The publisher replaces the list; fetchers see the new one.
	code, _, errOut = runCmd(t, "publish", "--bootstrap", boot, "--identity", keyFile, "holiday", ids[0], ids[1])
	require.Equal(t, 0, code, errOut)
	code, out, errOut = runCmd(t, "fetch", "--bootstrap", boot, "--from", pub, "-o", got, "holiday")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "already complete", "a.txt is there already")
	require.Equal(t, filepath.Join(got, "a.txt")+"\n"+filepath.Join(got, "b.txt")+"\n", out)
	requireSameFile(t, b, filepath.Join(got, "b.txt"))

	// A fetcher that trusts only other publishers refuses the share.
	other, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	trusted := filepath.Join(dir, "trusted")
	require.NoError(t, os.WriteFile(trusted, []byte(keyHex(other)+"\n"), 0o600))
	code, _, errOut = runCmd(t, "fetch", "--bootstrap", boot, "--from", pub, "--trusted", trusted, "-o", t.TempDir(), "holiday")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "publisher not trusted")
	require.NoError(t, os.WriteFile(trusted, []byte(keyHex(other)+"\n"+pub+"\n"), 0o600))
	code, _, errOut = runCmd(t, "fetch", "--bootstrap", boot, "--from", pub, "--trusted", trusted, "-o", t.TempDir(), "holiday")
	require.Equal(t, 0, code, errOut)

	// A name nobody published, and a publish of an ID nobody holds.
	code, _, errOut = runCmd(t, "fetch", "--bootstrap", boot, "--from", pub, "--timeout", "5s", "nothing")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no share "nothing" published by `+pub)
	missing := randomKeys(t, 1, 32)[0].String()
	code, _, errOut = runCmd(t, "publish", "--bootstrap", boot, "--identity", keyFile, "holiday", missing)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "ID "+missing+" not found")
}

func TestLsPrintsNamesSizesAndChunkCounts(t *testing.T) {
	boot := startServers(t, 3, "--listen", "/ip4/127.0.0.1/udp/0")[0]
	dir := t.TempDir()
	root := filepath.Join(dir, "docs")
	require.NoError(t, os.Mkdir(root, 0o755))
	randomFile(t, root, "one.bin", 100_000)
	randomFile(t, root, "two.bin", 10)
	code, out, errOut := runCmd(t, "share", "--bootstrap", boot, root)
	require.Equal(t, 0, code, errOut)
	code, out, errOut = runCmd(t, "ls", "--bootstrap", boot, strings.TrimSpace(out))
	require.Equal(t, 0, code, errOut)
	require.Equal(t, ""+
		"type            size     chunks  path\n"+
		"dir           100010          -  docs/\n"+
		"file          100000          4  docs/one.bin\n"+
		"file              10          1  docs/two.bin\n", out)
}
