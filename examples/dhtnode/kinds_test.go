package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

// allEntry is one publisher's value as get --all prints it.
type allEntry struct {
	publisher string
	seq       uint64
	value     string
}

var allHeader = regexp.MustCompile(`^publisher ([0-9a-f]{64}) seq (\d+) bytes (\d+)\n`)

// parseAll reads get --all's output: a header line, the value's bytes and
// a newline, for each publisher.
func parseAll(t *testing.T, out string) []allEntry {
	t.Helper()
	var es []allEntry
	for out != "" {
		m := allHeader.FindStringSubmatch(out)
		require.NotNil(t, m, "want a header line at %q", out)
		seq, err := strconv.ParseUint(m[2], 10, 64)
		require.NoError(t, err)
		n, err := strconv.Atoi(m[3])
		require.NoError(t, err)
		out = out[len(m[0]):]
		require.GreaterOrEqual(t, len(out), n+1, "the value and its newline follow the header")
		require.Equal(t, "\n", out[n:n+1], "a newline follows the value's bytes")
		es = append(es, allEntry{m[1], seq, out[:n]})
		out = out[n+1:]
	}
	return es
}

func TestPutAndGetEveryKindOfValue(t *testing.T) {
	cases := []struct {
		name  string
		parts []string
	}{
		{"udp-cbor-direct", nil},
		{"tcp-json-proxied", []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--codec", "json", "--mode", "proxied"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startServe(t, c.parts...)
			client := append([]string{"--bootstrap", s.addrs[0]}, slicesWithout(c.parts, "--listen")...)
			cmd := func(args ...string) []string { return append(args, client...) }
			keyFile := filepath.Join(t.TempDir(), "me.key")
			_, pub := idOf(t, keyFile)

			// Plain: the newest value, one publisher's, or every publisher's.
			code, _, errOut := runCmd(t, cmd("put", "--identity", keyFile, "k", "mine")...)
			require.Equal(t, 0, code, errOut)
			code, _, errOut = runCmd(t, cmd("put", "k", "someone else's")...)
			require.Equal(t, 0, code, errOut)
			code, out, errOut := runCmd(t, cmd("get", "k")...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, "someone else's", out, "get KEY prints the newest value")
			code, out, errOut = runCmd(t, cmd("get", "--publisher", pub, "k")...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, "mine", out, "--publisher picks that key's value")
			code, out, errOut = runCmd(t, cmd("get", "--all", "k")...)
			require.Equal(t, 0, code, errOut)
			all := parseAll(t, out)
			require.Len(t, all, 2, out)
			require.Equal(t, "someone else's", all[0].value, "newest first")
			require.Equal(t, allEntry{pub, all[1].seq, "mine"}, all[1], "each value with its publisher's key")
			require.Greater(t, all[0].seq, all[1].seq)

			// Immutable: put prints the key, the hash of the value.
			code, out, errOut = runCmd(t, cmd("put", "--immutable", "carved in stone")...)
			require.Equal(t, 0, code, errOut)
			key := trust.ImmutableKey(peer.SHA256(), []byte("carved in stone")).String()
			require.Equal(t, key+"\n", out, "put --immutable prints only the key")
			require.Contains(t, errOut, "1 replica acknowledged")
			code, out, errOut = runCmd(t, cmd("get", "--immutable", key)...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, "carved in stone", out)

			// Mutable: a new value starts at sequence 1.
			code, out, errOut = runCmd(t, cmd("put", "--mutable", "--identity", keyFile, "--salt", "status", "v1")...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, "1\n", out, "put --mutable prints the sequence number used")
			code, out, errOut = runCmd(t, cmd("get", "--mutable", "--publisher", pub, "--salt", "status", "--quorum", "1")...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, "v1", out)
			require.Equal(t, "seq 1\n", errOut, "the sequence number goes to stderr")
		})
	}
}

func TestGetOfMissingValuesOfEachKindExitsOne(t *testing.T) {
	s := startServe(t)
	boot := "--bootstrap=" + s.addrs[0]
	_, pub := idOf(t, filepath.Join(t.TempDir(), "me.key"))
	zero := strings.Repeat("0", 64)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"get", boot, "--all", "nobody"}, `key "nobody" not found`},
		{[]string{"get", boot, "--publisher", pub, "nobody"}, `key "nobody" holds no value of publisher ` + pub},
		{[]string{"get", boot, "--immutable", zero}, "immutable value " + zero + " not found"},
		{[]string{"get", boot, "--mutable", "--publisher", pub, "--salt", "s"}, `no mutable value of publisher ` + pub + ` under salt "s"`},
	} {
		code, out, errOut := runCmd(t, c.args...)
		require.Equal(t, 1, code, "%v", c.args)
		require.Empty(t, out, "%v", c.args)
		require.Contains(t, errOut, c.msg, "%v", c.args)
	}
}

func TestMutablePutBelowTheHeldSequenceExitsOneNamingIt(t *testing.T) {
	s := startServe(t)
	keyFile := filepath.Join(t.TempDir(), "me.key")
	put := func(args ...string) (int, string, string) {
		return runCmd(t, append([]string{"put", "--bootstrap", s.addrs[0], "--mutable", "--identity", keyFile, "--salt", "s"}, args...)...)
	}
	code, out, errOut := put("--seq", "5", "five")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "5\n", out)

	code, out, errOut = put("--seq", "3", "three")
	require.Equal(t, 1, code, "an older sequence number is a conflict")
	require.Empty(t, out)
	require.Contains(t, errOut, "conflict: a replica holds sequence 5")

	code, out, errOut = put("--cas", "4", "cas on the wrong version")
	require.Equal(t, 1, code, "a compare-and-swap naming another version is a conflict")
	require.Empty(t, out)
	require.Contains(t, errOut, "conflict: a replica holds sequence 5")

	code, out, errOut = put("--cas", "5", "six")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "6\n", out, "without --seq, a put with --cas N stores at N+1")

	_, pub := idOf(t, keyFile)
	code, out, errOut = runCmd(t, "get", "--bootstrap", s.addrs[0], "--mutable", "--publisher", pub, "--salt", "s")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "six", out, "the refused puts changed nothing")
	require.Equal(t, "seq 6\n", errOut)
}

func TestIdentityKeepsThePublisherAcrossInvocations(t *testing.T) {
	s := startServe(t)
	boot := "--bootstrap=" + s.addrs[0]
	keyFile := filepath.Join(t.TempDir(), "me.key")

	// The first put makes the key and says so; the second uses it.
	code, out, errOut := runCmd(t, "put", boot, "--mutable", "--identity", keyFile, "--salt", "s", "first")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "1\n", out)
	require.Contains(t, errOut, "generated a new identity and saved it to "+keyFile)
	code, out, errOut = runCmd(t, "put", boot, "--mutable", "--identity", keyFile, "--salt", "s", "second")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "2\n", out, "the second put found the first one's sequence number under the same key")
	require.NotContains(t, errOut, "generated")

	_, pub := idOf(t, keyFile)
	code, out, errOut = runCmd(t, "get", boot, "--mutable", "--publisher", pub, "--salt", "s")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "second", out)
	require.Equal(t, "seq 2\n", errOut)

	// Plain values: with one identity the second put replaces the first;
	// without, each put is another publisher's.
	for _, v := range []string{"old", "new"} {
		code, _, errOut = runCmd(t, "put", boot, "--identity", keyFile, "same", v)
		require.Equal(t, 0, code, errOut)
		code, _, errOut = runCmd(t, "put", boot, "fresh", v)
		require.Equal(t, 0, code, errOut)
	}
	code, out, errOut = runCmd(t, "get", boot, "--all", "same")
	require.Equal(t, 0, code, errOut)
	all := parseAll(t, out)
	require.Len(t, all, 1, out)
	require.Equal(t, pub, all[0].publisher)
	require.Equal(t, "new", all[0].value)
	code, out, errOut = runCmd(t, "get", boot, "--all", "fresh")
	require.Equal(t, 0, code, errOut)
	require.Len(t, parseAll(t, out), 2, "without --identity each put signs with a fresh key:\n%s", out)
}

func TestDashReadsTheValueFromStdin(t *testing.T) {
	// TCP carries the largest value there is; UDP datagrams could not.
	s := startServe(t, "--listen", "/ip4/127.0.0.1/tcp/0")
	boot := "--bootstrap=" + s.addrs[0]
	value := "two\nlines, a NUL \x00 and bytes that are not UTF-8: \xff\xfe"
	code, _, errOut := runCmdStdin(t, value, "put", boot, "k", "-")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := runCmd(t, "get", boot, "k")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, value, out, "stdin is stored byte for byte")

	largest := bytes.Repeat([]byte{'x'}, msgenc.MaxValueSize)
	code, out, errOut = runCmdStdin(t, string(largest), "put", boot, "--immutable", "-")
	require.Equal(t, 0, code, errOut)
	key := trust.ImmutableKey(peer.SHA256(), largest).String()
	require.Equal(t, key+"\n", out, "the key of exactly the bytes of stdin, at the size limit")
	code, out, errOut = runCmd(t, "get", boot, "--immutable", key)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, len(largest), len(out))

	keyFile := filepath.Join(t.TempDir(), "me.key")
	code, out, errOut = runCmdStdin(t, "from stdin", "put", boot, "--mutable", "--identity", keyFile, "-")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "1\n", out)
	_, pub := idOf(t, keyFile)
	code, out, errOut = runCmd(t, "get", boot, "--mutable", "--publisher", pub)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "from stdin", out, "an omitted --salt is the empty salt on both sides")
}

func TestValueOverTheLimitFailsBeforeJoining(t *testing.T) {
	// Nothing listens at the bootstrap address: a put that tried to join
	// would fail for that reason instead.
	boot := "--bootstrap=" + deadAddr(t)
	tooLarge := strings.Repeat("x", msgenc.MaxValueSize+1)
	for _, args := range [][]string{
		{"put", boot, "k", "-"},
		{"put", boot, "--immutable", "-"},
	} {
		code, out, errOut := runCmdStdin(t, tooLarge, args...)
		require.Equal(t, 1, code, "%v", args)
		require.Empty(t, out)
		require.Contains(t, errOut, "value too large: stdin holds more than 524288 bytes", "%v", args)
		require.NotContains(t, errOut, "bootstrap", "%v: the size is checked first", args)
	}
}

func TestWriteValueAddsANewlineOnlyOnATerminal(t *testing.T) {
	for _, c := range []struct {
		value    string
		terminal bool
		want     string
	}{
		{"v", false, "v"},
		{"v\n", false, "v\n"},
		{"", false, ""},
		{"v", true, "v\n"},
		{"v\n", true, "v\n"},
		{"", true, "\n"},
	} {
		var b bytes.Buffer
		require.NoError(t, writeValue(&b, []byte(c.value), c.terminal))
		require.Equal(t, c.want, b.String(), "%q on a terminal: %v", c.value, c.terminal)
	}

	require.False(t, isTerminal(&bytes.Buffer{}))
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	require.False(t, isTerminal(f), "a redirect to a file is not a terminal")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.False(t, isTerminal(w), "a pipe is not a terminal")
}

func TestPublisherFlagTakesWhatIDPrints(t *testing.T) {
	_, pub := idOf(t, filepath.Join(t.TempDir(), "me.key"))
	var p pubKeyFlag
	require.NoError(t, p.Set(pub))
	require.Equal(t, pub, hex.EncodeToString(p.key))
	require.Error(t, p.Set(pub[:62]), "a key one byte short")
}
