package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/stretchr/testify/require"
)

func TestServeThenPutThenGetPrintsTheValueExactly(t *testing.T) {
	cases := []struct {
		name  string
		parts []string
	}{
		{"udp-cbor-kademlia-direct", []string{"--listen", "/ip4/127.0.0.1/udp/0"}},
		{"tcp-json-toymap-proxied", []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--codec", "json", "--route", "toymap", "--mode", "proxied"}},
		{"udp-bencode-direct-reply", []string{"--codec", "bencode", "--mode", "direct-reply"}},
		{"udp-cbor-mixed", []string{"--mode", "mixed:1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startServe(t, c.parts...)
			// The client takes the same part flags, minus --listen (it
			// listens on the bootstrap address's kind by itself) and
			// --route, which only a server's table has.
			clientParts := slicesWithout(slicesWithout(c.parts, "--listen"), "--route")
			const value = "hello,\tworld — no newline"
			args := append([]string{"put", "--bootstrap", s.addrs[0]}, clientParts...)
			code, out, errOut := runCmd(t, append(args, "greeting", value)...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, "stored \"greeting\": 1 replica acknowledged\n", out)

			// Flags after the key work too.
			code, out, errOut = runCmd(t, append([]string{"get", "greeting", "--bootstrap", s.addrs[0]}, clientParts...)...)
			require.Equal(t, 0, code, errOut)
			require.Equal(t, value, out, "get prints exactly the stored bytes")
			require.Equal(t, 0, s.stop(t), "serve exits 0 when its context ends")
			require.Contains(t, s.stderr.String(), "stopped: served")
		})
	}
}

// slicesWithout drops flag and the value after it from args.
func slicesWithout(args []string, flag string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func TestGetOfAMissingKeyExitsOneWithAMessage(t *testing.T) {
	s := startServe(t)
	code, out, errOut := runCmd(t, "get", "--bootstrap", s.addrs[0], "nobody-put-this")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, `key "nobody-put-this" not found`)
}

// deadAddr returns a loopback UDP address nothing listens on.
func deadAddr(t *testing.T) string {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := c.LocalAddr().(*net.UDPAddr).Port
	require.NoError(t, c.Close())
	return "/ip4/127.0.0.1/udp/" + strconv.Itoa(port)
}

func TestUnreachableBootstrapFailsWithinSeconds(t *testing.T) {
	dead := deadAddr(t)
	for _, args := range [][]string{
		{"put", "--bootstrap", dead, "k", "v"},
		{"get", "--bootstrap", dead, "k"},
		{"serve", "--bootstrap", dead},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, _, errOut := runCmd(t, args...)
			elapsed := time.Since(start)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "bootstrap failed")
			// A ping and its resend, twice for a client (it tries its
			// bootstrap peers again before it gives up).
			require.Less(t, elapsed, 2*2*node.DefaultRPCTimeout+2*time.Second, "took %v", elapsed)
		})
	}
}

func TestIdentityFileIsCreatedPrivateAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.key")
	first := startServe(t, "--identity", path)
	require.Contains(t, first.stderr.String(), "generated a new identity and saved it to "+path)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.Equal(t, 0, first.stop(t))

	second := startServe(t, "--identity", path)
	require.Equal(t, first.id, second.id, "a restart with the same file keeps the ID")
	require.NotContains(t, second.stderr.String(), "generated")

	other := startServe(t)
	require.NotEqual(t, first.id, other.id, "without --identity every start has a fresh ID")
}

func TestCorruptOrExposedIdentityFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.key")
	require.NoError(t, os.WriteFile(corrupt, []byte("not a key"), 0o600))
	code, out, errOut := runCmd(t, "serve", "--identity", corrupt)
	require.Equal(t, 1, code)
	require.Empty(t, out, "no node started")
	require.Contains(t, errOut, "identity file is corrupt")

	exposed := filepath.Join(dir, "exposed.key")
	id, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	require.NoError(t, id.Save(exposed))
	require.NoError(t, os.Chmod(exposed, 0o644))
	code, out, errOut = runCmd(t, "serve", "--identity", exposed)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "accessible to other users")
	before, err := os.ReadFile(exposed)
	require.NoError(t, err)
	require.Contains(t, string(before), "PRIVATE KEY", "the refused file is left as it was")
}

func TestBboltStoreKeepsValuesAcrossServeRestart(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--identity", filepath.Join(dir, "node.key"), "--store", "bbolt:" + filepath.Join(dir, "state")}
	first := startServe(t, args...)
	code, _, errOut := runCmd(t, "put", "--bootstrap", first.addrs[0], "durable", "survives restarts")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, 0, first.stop(t))
	require.Contains(t, first.stderr.String(), "held 1 record\n")
	require.FileExists(t, filepath.Join(dir, "state", "node.db"), "--store bbolt:DIR keeps serve's records in DIR/node.db")

	// The restarted node is alone: the value can only come from its store.
	second := startServe(t, args...)
	require.Equal(t, first.id, second.id)
	code, out, errOut := runCmd(t, "get", "--bootstrap", second.addrs[0], "durable")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "survives restarts", out)
}
