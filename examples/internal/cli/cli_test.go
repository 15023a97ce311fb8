package cli

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

func TestFlagsMayFollowPositionalArguments(t *testing.T) {
	fs := NewFlagSet("prog", "put", "put", "")
	var c Client
	c.Register(fs, "")
	var out, errOut strings.Builder
	pos, _, done := fs.Parse([]string{"key", "--codec", "json", "value", "--", "--not-a-flag"}, &out, &errOut)
	require.False(t, done, errOut.String())
	require.Equal(t, []string{"key", "value", "--not-a-flag"}, pos)
	require.Equal(t, "json", c.Codec)
}

func TestHelpGoesToStdoutAndBadFlagsExitTwo(t *testing.T) {
	fs := NewFlagSet("prog", "get", "get KEY", "Gets.")
	var c Client
	c.Register(fs, "")
	var out, errOut strings.Builder
	_, code, done := fs.Parse([]string{"--help"}, &out, &errOut)
	require.True(t, done)
	require.Equal(t, ExitOK, code)
	require.Contains(t, out.String(), "usage: prog get KEY")
	require.Contains(t, out.String(), "\n  --bootstrap multiaddr\n")
	require.Contains(t, out.String(), "\n  --timeout duration\n")
	require.Contains(t, out.String(), "(default 10s)")
	require.NotContains(t, out.String(), "\n  -bootstrap", "help writes flags as the usage does: --flag")
	require.Empty(t, errOut.String())

	out.Reset()
	_, code, done = fs.Parse([]string{"--codec", "xml"}, &out, &errOut)
	require.True(t, done)
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errOut.String(), `unknown codec "xml"`)
	require.Contains(t, errOut.String(), "run 'prog get --help'")
	require.Empty(t, out.String())
}

func TestProgramDispatchesHelpAndRejectsUnknownCommands(t *testing.T) {
	ran := ""
	p := &Program{Name: "prog", About: "prog does things.", Commands: []Command{
		{"one", "the first", func(_ context.Context, args []string, _ io.Reader, _, _ io.Writer) int {
			ran = "one " + strings.Join(args, " ")
			return 0
		}},
	}}
	var out, errOut strings.Builder
	require.Equal(t, ExitOK, p.Run(context.Background(), []string{"help"}, nil, &out, &errOut))
	require.Contains(t, out.String(), "\n  one ")
	require.Equal(t, ExitOK, p.Run(context.Background(), []string{"help", "one"}, nil, &out, &errOut))
	require.Equal(t, "one --help", ran)
	require.Equal(t, ExitUsage, p.Run(context.Background(), nil, nil, &out, &errOut))
	require.Equal(t, ExitUsage, p.Run(context.Background(), []string{"two"}, nil, &out, &errOut))
	require.Contains(t, errOut.String(), `unknown command "two"`)
}

func TestClientListensWhereItsBootstrapPeersCanAnswer(t *testing.T) {
	got := listenFor([]ma.Multiaddr{
		ma.StringCast("/ip4/10.1.2.3/udp/4001"),
		ma.StringCast("/ip4/127.0.0.1/udp/4002"),
		ma.StringCast("/ip4/127.0.0.1/tcp/4003"),
		ma.StringCast("/ip6/::1/udp/4004"),
		ma.StringCast("/dns4/localhost/tcp/4005"),
		ma.StringCast("/dns6/example.org/udp/4006"),
	})
	var s []string
	for _, a := range got {
		s = append(s, a.String())
	}
	require.Equal(t, []string{"/ip4/0.0.0.0/udp/0", "/ip4/127.0.0.1/udp/0", "/ip4/127.0.0.1/tcp/0", "/ip6/::1/udp/0", "/ip6/::/udp/0"}, s)
}

func TestBootstrapTakesDNSAddressesButListenDoesNot(t *testing.T) {
	var peers PeerList
	require.NoError(t, peers.Set("/dns4/localhost/udp/4001"))
	require.NoError(t, peers.Set("/ip4/127.0.0.1/tcp/4002"))
	require.Len(t, peers, 2)
	var listen AddrList
	require.Error(t, listen.Set("/dns4/localhost/udp/4001"))
}

func TestPlural(t *testing.T) {
	require.Equal(t, "1 chunk", Plural(1, "chunk"))
	require.Equal(t, "0 chunks", Plural(0, "chunk"))
	require.Equal(t, "2 replicas", Plural(2, "replica"))
	require.Equal(t, "3 forwarded queries", Plural(3, "forwarded query"))
}

func TestHelpWritesLongFlagsWithTwoDashesAndOneLetterFlagsWithOne(t *testing.T) {
	fs := NewFlagSet("prog", "fetch", "fetch [-o PATH] [--parallel N] ID", "Fetches.")
	fs.String("o", "", "write to `PATH`")
	fs.Int("parallel", 64, "fetch at most `N` chunks at once")
	fs.Bool("quiet", false, "say nothing")
	var out, errOut strings.Builder
	_, code, _ := fs.Parse([]string{"-h"}, &out, &errOut)
	require.Equal(t, ExitOK, code)
	require.Equal(t, "usage: prog fetch [-o PATH] [--parallel N] ID\n\nFetches.\n\nflags:\n"+
		"  -o PATH\n    \twrite to PATH\n"+
		"  --parallel N\n    \tfetch at most N chunks at once (default 64)\n"+
		"  --quiet\n    \tsay nothing\n", out.String())
}

func TestFlagErrorsNameFlagsAsTheUsageDoes(t *testing.T) {
	for args, want := range map[string]string{
		"--no-such-flag": "flag provided but not defined: --no-such-flag",
		"-no-such-flag":  "flag provided but not defined: --no-such-flag",
		"--parallel=x":   `invalid value "x" for flag --parallel`,
		"--parallel":     "flag needs an argument: --parallel",
		"-x":             "flag provided but not defined: -x",
	} {
		fs := NewFlagSet("prog", "fetch", "fetch", "")
		fs.Int("parallel", 64, "")
		var out, errOut strings.Builder
		_, code, done := fs.Parse([]string{args}, &out, &errOut)
		require.True(t, done)
		require.Equal(t, ExitUsage, code)
		require.Contains(t, errOut.String(), "prog fetch: "+want, args)
	}
}

func TestTheZeroPartsAreNodesDefaults(t *testing.T) {
	var p Parts
	b, err := p.Builder(io.Discard)
	require.NoError(t, err)
	n, err := b.Build(context.Background())
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, "direct", n.Mode().String())
}

func TestStoreIsADirectoryOfOneFilePerNode(t *testing.T) {
	for in, want := range map[string]string{"memory": "memory", "bbolt:/d": "bbolt:/d"} {
		s, err := parseStore(in)
		require.NoError(t, err)
		require.Equal(t, want, s.String())
	}
	for _, bad := range []string{"bbolt:", "bbolt", "redis:x"} {
		_, err := parseStore(bad)
		require.Error(t, err, bad)
	}
	dir := filepath.Join(t.TempDir(), "made", "if-missing")
	s, err := parseStore("bbolt:" + dir)
	require.NoError(t, err)
	for _, name := range []string{"node-0000", "node-0001"} {
		st, err := s.open(name)
		require.NoError(t, err)
		require.NoError(t, st.Close())
		require.FileExists(t, filepath.Join(dir, name+".db"))
	}
}
