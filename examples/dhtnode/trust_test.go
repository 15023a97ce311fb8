package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeWithTrustRootsStoresOnlyEndorsedPublishersValues(t *testing.T) {
	dir := t.TempDir()
	rootKey := filepath.Join(dir, "root.key")
	_, rootPub := idOf(t, rootKey)
	roots := filepath.Join(dir, "roots")
	// The root's line pasted from 'dhtnode id', and a comment.
	require.NoError(t, os.WriteFile(roots, []byte("# our root\npublickey "+rootPub+"\n"), 0o600))

	s := startServe(t, "--identity", rootKey, "--trust-roots", roots, "--route", "trustorder")
	client := []string{"--bootstrap", s.addrs[0]}

	// A stranger's value is refused, with the reason.
	stranger := filepath.Join(dir, "stranger.key")
	strangerID, _ := idOf(t, stranger)
	code, _, errOut := runCmd(t, append([]string{"put", "--identity", stranger, "k", "v"}, client...)...)
	require.Equal(t, 1, code, "a web of trust keeps no unendorsed publisher's value")
	require.Contains(t, errOut, "rejected")

	// The root endorses the stranger, then revokes it: the node keeps the
	// root's endorsements.
	code, out, errOut := runCmd(t, append([]string{"endorse", "--identity", rootKey, "--level", "2", strangerID}, client...)...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "endorsed "+strangerID[:8]+" at level 2")
	require.Contains(t, out, "1 replica acknowledged")
	code, out, errOut = runCmd(t, append([]string{"revoke", "--identity", rootKey, strangerID}, client...)...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "revoked the endorsement of "+strangerID[:8])

	// An endorsement by a key the node does not trust is refused.
	friendID, _ := idOf(t, filepath.Join(dir, "friend.key"))
	code, _, errOut = runCmd(t, append([]string{"endorse", "--identity", stranger, friendID}, client...)...)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "rejected")
}

func TestTrustFlagsReportBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("# nothing\n"), 0o600))
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("publickey 1234\n"), 0o600))
	for file, want := range map[string]string{
		empty:                        "lists no key",
		bad:                          "bad:1: \"1234\" is not a public key",
		filepath.Join(dir, "absent"): "no such file",
	} {
		code, _, errOut := runCmd(t, "serve", "--trust-roots", file)
		require.Equal(t, 1, code, file)
		require.Contains(t, errOut, want)
	}
	key := filepath.Join(dir, "k.key")
	boot := "/ip4/127.0.0.1/udp/1"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"endorse", "--bootstrap", boot, "--identity", key, "nothex"}, "is not a peer ID"},
		{[]string{"endorse", "--bootstrap", boot, "abcd"}, "--identity is required"},
		{[]string{"endorse", "--bootstrap", boot, "--identity", key, "--level", "0", "ab"}, "--level must be between 1 and 255"},
		{[]string{"revoke", "--bootstrap", boot, "--identity", key, "--level", "2", "ab"}, "flag provided but not defined"},
		{[]string{"endorse", "--bootstrap", boot, "--identity", key, "x", "y"}, "want PEER"},
	} {
		code, _, errOut := runCmd(t, c.args...)
		require.Equal(t, 2, code, "%v: %s", c.args, errOut)
		require.Contains(t, errOut, c.want, "%v", c.args)
	}
}
