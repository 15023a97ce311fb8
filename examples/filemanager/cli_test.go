package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func TestHelpListsEverySubcommandAndEachShowsItsFlags(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	require.Equal(t, 0, code)
	for _, c := range []string{"share", "fetch", "ls", "publish"} {
		require.Contains(t, out, "\n  "+c+" ")
	}
	code, _, errOut := runCmd(t)
	require.Equal(t, 2, code, "no arguments is a usage error")
	require.Contains(t, errOut, "commands:")

	want := map[string][]string{
		"share":   {"--replicas", "--parallel", "--chunk-size", "PATH..."},
		"fetch":   {"-o PATH", "--from", "--trusted", "--parallel", "ID"},
		"ls":      {"ID"},
		"publish": {"NAME ID...", "--identity FILE"},
	}
	for cmd, flags := range want {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			code, out, errOut := runCmd(t, args...)
			require.Equal(t, 0, code, "%v", args)
			require.Empty(t, errOut, "%v: help goes to stdout", args)
			require.Contains(t, out, "usage: filemanager "+cmd)
			// The client flags are dhtnode's clients', in every subcommand.
			for _, f := range append(flags, "--bootstrap", "--codec", "--mode", "--listen", "--rpc-timeout", "--timeout", "--verbose") {
				require.Contains(t, out, f, "%v documents %s", args, f)
			}
			// A client holds no one's table or values; only publish signs.
			for _, f := range []string{"--route", "--store"} {
				require.NotContains(t, out, f, "%v offers %s, which means nothing to a client", args, f)
			}
			if cmd != "publish" {
				require.NotContains(t, out, "--identity", "%v: only publish signs", args)
			}
			require.NotRegexp(t, `(^|[\s\[])-[a-z]{2,}`, out, "%v writes every flag --flag, as its synopsis does", args)
		}
	}
}

func TestBadFlagsAndArgumentsExitTwoWithAMessage(t *testing.T) {
	const boot = "--bootstrap=/ip4/127.0.0.1/udp/9"
	id := strings.Repeat("ab", 32)
	keys := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(keys, []byte("# nobody\n"), 0o600))
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"share", boot}, "want at least one PATH"},
		{[]string{"share", "f"}, "--bootstrap is required"},
		{[]string{"share", boot, "--replicas", "0", "f"}, "--replicas must be between 1"},
		{[]string{"share", boot, "--chunk-size", "65536", "f"}, "--chunk-size must be between 1024"},
		{[]string{"share", boot, "--parallel", "0", "f"}, "--parallel must be between 1"},
		{[]string{"share", boot, "--codec", "xml", "f"}, `unknown codec "xml"`},
		{[]string{"fetch", boot}, "want ID, got 0"},
		{[]string{"fetch", boot, "not-hex"}, `bad ID "not-hex"`},
		{[]string{"fetch", boot, "abcd"}, `bad ID "abcd"`},
		{[]string{"fetch", boot, "--trusted", keys, id}, "--trusted applies to --from only"},
		{[]string{"fetch", boot, "--from", "abc", "name"}, "bad public key"},
		{[]string{"fetch", boot, "--from", id, "a/b"}, "path separator"},
		{[]string{"fetch", boot, "--from", id}, "want NAME"},
		{[]string{"ls", boot}, "want ID"},
		{[]string{"publish", boot, "name", id}, "--identity is required"},
		{[]string{"publish", boot, "--identity", "k", "name"}, "want NAME and at least one ID"},
		{[]string{"publish", boot, "--identity", "k", strings.Repeat("n", 60), id}, "share name of 60 bytes"},
		{[]string{"publish", boot, "--identity", "k", "name", "zz"}, `bad ID "zz"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, c.args...)
		require.Equal(t, 2, code, "%v: stderr %s", c.args, errOut)
		require.Contains(t, errOut, c.msg, "%v", c.args)
		require.Empty(t, out, "%v prints nothing on stdout", c.args)
	}
}

func TestTrustedKeyFilesListHexKeys(t *testing.T) {
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte("# friends\n\n"+keyHex(id)+"  alice\n"), 0o600))
	l, err := loadKeyList(path)
	require.NoError(t, err)
	require.NoError(t, l.CheckPublisher(t.Context(), id.PublicKey()))
	other, _ := peer.GenerateIdentity(nil)
	require.ErrorIs(t, l.CheckPublisher(t.Context(), other.PublicKey()), errUntrusted)

	require.NoError(t, os.WriteFile(path, []byte("beef\n"), 0o600))
	_, err = loadKeyList(path)
	require.ErrorContains(t, err, path+":1: bad public key")
}
