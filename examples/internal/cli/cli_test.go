package cli

import (
	"context"
	"io"
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
	require.Contains(t, out.String(), "-bootstrap")
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
		{"one", "the first", func(_ context.Context, args []string, _, _ io.Writer) int {
			ran = "one " + strings.Join(args, " ")
			return 0
		}},
	}}
	var out, errOut strings.Builder
	require.Equal(t, ExitOK, p.Run(context.Background(), []string{"help"}, &out, &errOut))
	require.Contains(t, out.String(), "\n  one ")
	require.Equal(t, ExitOK, p.Run(context.Background(), []string{"help", "one"}, &out, &errOut))
	require.Equal(t, "one --help", ran)
	require.Equal(t, ExitUsage, p.Run(context.Background(), nil, &out, &errOut))
	require.Equal(t, ExitUsage, p.Run(context.Background(), []string{"two"}, &out, &errOut))
	require.Contains(t, errOut.String(), `unknown command "two"`)
}

func TestClientListensWhereItsBootstrapPeersCanAnswer(t *testing.T) {
	got := ListenFor([]ma.Multiaddr{
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

func TestPlural(t *testing.T) {
	require.Equal(t, "1 chunk", Plural(1, "chunk"))
	require.Equal(t, "0 chunks", Plural(0, "chunk"))
	require.Equal(t, "2 replicas", Plural(2, "replica"))
	require.Equal(t, "3 forwarded queries", Plural(3, "forwarded query"))
}
