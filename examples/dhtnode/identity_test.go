package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var idOutput = regexp.MustCompile(`^id ([0-9a-f]{64})\npublickey ([0-9a-f]{64})\n$`)

// idOf runs "id --identity path" and returns the ID and public key it prints.
func idOf(t *testing.T, path string) (id, pub string) {
	t.Helper()
	code, out, errOut := runCmd(t, "id", "--identity", path)
	require.Equal(t, 0, code, errOut)
	m := idOutput.FindStringSubmatch(out)
	require.NotNil(t, m, "id prints two lines, id HEX and publickey HEX:\n%s", out)
	return m[1], m[2]
}

func TestIDMakesAKeyOnceAndPrintsTheIDServeUses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "me.key")
	code, _, errOut := runCmd(t, "id", "--identity", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "generated a new identity and saved it to "+path)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	id, pub := idOf(t, path)
	again, pubAgain := idOf(t, path)
	require.Equal(t, id, again, "the same file, the same ID")
	require.Equal(t, pub, pubAgain)
	require.NotEqual(t, id, pub, "the ID is the hash of the public key, not the key")

	s := startServe(t, "--identity", path)
	require.Equal(t, id, s.id, "serve --identity FILE has the ID that id prints")
}

func TestIDNeedsAnIdentityFile(t *testing.T) {
	code, out, errOut := runCmd(t, "id")
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "--identity is required")

	corrupt := filepath.Join(t.TempDir(), "corrupt.key")
	require.NoError(t, os.WriteFile(corrupt, []byte("not a key"), 0o600))
	code, out, errOut = runCmd(t, "id", "--identity", corrupt)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "identity file is corrupt")
}
