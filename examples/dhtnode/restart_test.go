package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestARestartedServeRejoinsThroughItsSavedContacts(t *testing.T) {
	seed := startServe(t)
	key := filepath.Join(t.TempDir(), "node.key")
	first := startServe(t, "--identity", key, "--bootstrap", seed.addrs[0])
	require.Zero(t, first.stop(t))

	again := startServe(t, "--identity", key)
	require.Contains(t, again.stderr.String(), "rejoined through saved contacts: 1 peer known",
		"a node with an identity file rejoins with no --bootstrap")
	require.Equal(t, first.id, again.id)

	// A first start with a fresh identity has nothing to rejoin and says
	// nothing of it.
	fresh := startServe(t, "--identity", filepath.Join(t.TempDir(), "new.key"))
	require.False(t, strings.Contains(fresh.stderr.String(), "rejoined"))
}
