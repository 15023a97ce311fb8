package main

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHelpListsEverySubcommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}} {
		code, out, _ := runCmd(t, args...)
		require.Equal(t, 0, code, "%v", args)
		for _, c := range []string{"serve", "put", "get", "id", "testnet"} {
			require.Contains(t, out, "\n  "+c+" ", "%v lists %s", args, c)
		}
	}
	code, _, errOut := runCmd(t)
	require.Equal(t, 2, code, "no arguments is a usage error")
	require.Contains(t, errOut, "commands:")
}

func TestHelpOfEverySubcommandShowsItsFlags(t *testing.T) {
	// Every node takes the part flags; servers add the table and the
	// store, clients where to join and for how long.
	parts := []string{"--codec", "--mode", "--listen", "--rpc-timeout", "--verbose"}
	server := append([]string{"--route", "--store"}, parts...)
	client := append([]string{"--bootstrap", "--timeout"}, parts...)
	want := map[string]struct {
		flags, absent []string
	}{
		"serve":   {append([]string{"--bootstrap", "--identity", "--metrics", "/debug/pprof/", "DIR/node.db"}, server...), []string{"--timeout"}},
		"testnet": {append([]string{"--nodes", "--lookups", "90%", "node-0000.db"}, server...), []string{"--bootstrap", "--identity"}},
		"put":     {append([]string{"KEY VALUE", "--identity", "--immutable", "--mutable", "--salt", "--seq", "--cas", `"-"`}, client...), []string{"--route", "--store"}},
		"get":     {append([]string{"KEY", "HEXKEY", "--immutable", "--mutable", "--publisher", "--salt", "--all", "--quorum"}, client...), []string{"--route", "--store", "--identity"}},
		"endorse": {append([]string{"PEER", "--identity", "--level", "--valid"}, client...), []string{"--route", "--store"}},
		"revoke":  {append([]string{"PEER", "--identity"}, client...), []string{"--route", "--store", "--level"}},
		"id":      {[]string{"--identity FILE", "publickey HEX"}, append([]string{"--bootstrap"}, server...)},
	}
	for cmd, w := range want {
		for _, args := range [][]string{{cmd, "--help"}, {cmd, "-h"}, {"help", cmd}} {
			code, out, errOut := runCmd(t, args...)
			require.Equal(t, 0, code, "%v", args)
			require.Empty(t, errOut, "%v: help goes to stdout", args)
			require.Contains(t, out, "usage: dhtnode "+cmd)
			for _, f := range w.flags {
				require.Contains(t, out, f, "%v documents %s", args, f)
			}
			for _, f := range w.absent {
				require.NotContains(t, out, f, "%v offers %s, which means nothing to it", args, f)
			}
			require.NotRegexp(t, `(^|[\s\[])-[a-z]{2,}`, out, "%v writes every flag --flag, as its synopsis does", args)
		}
	}
}

func TestBadFlagsAndArgumentsExitTwoWithAMessage(t *testing.T) {
	const boot = "--bootstrap=/ip4/127.0.0.1/udp/9"
	pubHex, keyHex := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	t.Chdir(t.TempDir()) // a usage error must not create the --identity file
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"serve", "--codec", "xml"}, `unknown codec "xml"`},
		{[]string{"serve", "--route", "chord"}, `unknown routing table "chord"`},
		{[]string{"serve", "--store", "redis:x"}, `unknown store "redis:x"`},
		{[]string{"serve", "--store", "bbolt:"}, "bbolt store needs a directory"},
		{[]string{"put", boot, "--store", "memory", "k", "v"}, "flag provided but not defined: --store"},
		{[]string{"get", boot, "--route", "toymap", "k"}, "flag provided but not defined: --route"},
		{[]string{"serve", "--listen", "not-an-addr"}, `bad multiaddr "not-an-addr"`},
		{[]string{"serve", "--listen", "/dns4/example.com/udp/1"}, "unsupported address"},
		{[]string{"serve", "--no-such-flag"}, "flag provided but not defined: --no-such-flag"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"serve", "--metrics", "9101"}, "want HOST:PORT"},
		{[]string{"serve", "--k", "0"}, "want a number between 1 and"},
		{[]string{"get", boot, "--k", "x", "k"}, "want a number between 1 and"},
		{[]string{"put", "--mode", "sideways", boot, "k", "v"}, `unknown query mode "sideways"`},
		{[]string{"put", "--mode", "mixed:0", boot, "k", "v"}, `unknown query mode "mixed:0"`},
		{[]string{"put", "k", "v"}, "--bootstrap is required"},
		{[]string{"put", boot, "k"}, "want KEY VALUE"},
		{[]string{"put", boot, "--timeout", "0s", "k", "v"}, "--timeout must be positive"},
		{[]string{"put", boot, "--immutable", "--mutable", "v"}, "--immutable and --mutable exclude each other"},
		{[]string{"put", boot, "--immutable", "k", "v"}, "want VALUE, got 2"},
		{[]string{"put", boot, "--salt", "s", "k", "v"}, "--salt needs --mutable"},
		{[]string{"put", boot, "--seq", "2", "k", "v"}, "--seq and --cas need --mutable"},
		{[]string{"put", boot, "--immutable", "--cas", "0", "v"}, "--seq and --cas need --mutable"},
		{[]string{"put", boot, "--mutable", "v"}, "--mutable needs --identity FILE"},
		{[]string{"put", boot, "--mutable", "--identity", "unused.key", "--seq", "0", "v"}, "--seq must be at least 1"},
		{[]string{"put", boot, "--mutable", "--identity", "unused.key", "--seq", "-1", "v"}, `invalid value "-1" for flag --seq`},
		{[]string{"put", boot, "--mutable", "--identity", "unused.key", "--salt", strings.Repeat("s", 65), "v"}, "--salt is 65 bytes, at most 64"},
		{[]string{"get", "--bootstrap", "/ip4/127.0.0.1/udp/notaport", "k"}, "bad multiaddr"},
		{[]string{"get", boot}, "want KEY"},
		{[]string{"get", boot, "--publisher", "abc", "k"}, "want the 64 hex digits of an ed25519 public key"},
		{[]string{"get", boot, "--all", "--publisher", pubHex, "k"}, "--all lists the plain values of every publisher"},
		{[]string{"get", boot, "--all", "--immutable", "k"}, "--all lists the plain values of every publisher"},
		{[]string{"get", boot, "--immutable", "--publisher", pubHex, keyHex}, "--publisher does not apply to --immutable"},
		{[]string{"get", boot, "--immutable", "k"}, `HEXKEY "k" is not the 64 hex digits`},
		{[]string{"get", boot, "--immutable"}, "want HEXKEY"},
		{[]string{"get", boot, "--mutable", "--salt", "s"}, "--mutable needs --publisher PUBKEY"},
		{[]string{"get", boot, "--mutable", "--publisher", pubHex, "k"}, "want no arguments with --mutable"},
		{[]string{"get", boot, "--salt", "s", "k"}, "--salt needs --mutable"},
		{[]string{"get", boot, "--quorum", "0", "k"}, "--quorum must be at least 1"},
		{[]string{"id", "--identity", "x.key", "extra"}, `unexpected argument "extra"`},
		{[]string{"testnet", "--nodes", "1"}, "--nodes must be between 2"},
		{[]string{"testnet", "--listen", "/ip4/127.0.0.1/udp/4000"}, "port must be 0"},
		{[]string{"testnet", "--codec", "protobuf"}, `unknown codec "protobuf"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, c.args...)
		require.Equal(t, 2, code, "%v: stderr %s", c.args, errOut)
		require.Contains(t, errOut, c.msg, "%v", c.args)
		require.Empty(t, out, "%v prints nothing on stdout", c.args)
	}
	_, err := os.Stat("unused.key")
	require.ErrorIs(t, err, fs.ErrNotExist, "no identity file is made before the arguments are checked")
}
