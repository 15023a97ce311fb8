package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStateRoundTripsAndRefusesDamage(t *testing.T) {
	id := randomKeys(t, 1, 32)[0]
	fn := &fileNode{KeyLen: 32, Name: "f", Size: 100*1024 + 1, ChunkSize: 1024}
	st := newFetchState(id, fn)
	for _, i := range []uint64{0, 7, 8, 100} {
		st.set(i)
	}
	got, err := decodeState(st.encode())
	require.NoError(t, err)
	require.True(t, got.matches(id, fn))
	require.Equal(t, uint64(4), got.count())
	require.True(t, got.has(100))
	require.False(t, got.has(99))
	require.Equal(t, int64(3*1024+1), got.bytes(fn), "the last chunk holds one byte")

	b := st.encode()
	for i := range b {
		bad := []byte(string(b))
		bad[i] ^= 0x40
		_, err := decodeState(bad)
		require.ErrorIs(t, err, errState, "byte %d flipped", i)
	}
	_, err = decodeState(b[:len(b)-1])
	require.ErrorIs(t, err, errState, "truncated")
	require.False(t, got.matches(randomKeys(t, 1, 32)[0], fn), "another file's state")
}

func TestSidecarsOfLongNamesFitAFileSystem(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, strings.Repeat("é", MaxNameLen/2))
	b := filepath.Join(dir, strings.Repeat("é", MaxNameLen/2-1)+"x")
	pa, sa := sidecars(a)
	pb, sb := sidecars(b)
	for _, p := range []string{pa, sa, pb, sb} {
		require.LessOrEqual(t, len(filepath.Base(p)), MaxNameLen)
		require.NoError(t, writeFileAtomic(p, []byte("x")), "a sidecar can be written")
	}
	require.NotEqual(t, pa, pb)
	require.Equal(t, filepath.Join(dir, "short"+partSuffix), func() string { p, _ := sidecars(filepath.Join(dir, "short")); return p }())
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 4, "no temporary files are left behind")
}
