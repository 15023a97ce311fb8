package peer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/peer"
)

func seedIdentity(t testing.TB, b byte) *peer.Identity {
	t.Helper()
	id, err := peer.IdentityFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestIdentitySaveLoadRoundTrip(t *testing.T) {
	id, err := peer.GenerateIdentity(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "identity.pem")
	if err := id.Save(path); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := peer.LoadIdentity(path)
	if err != nil {
		t.Fatalf("LoadIdentity: %v", err)
	}
	if !got.PublicKey().Equal(id.PublicKey()) {
		t.Fatal("loaded identity has another public key")
	}
	for _, h := range []peer.Hasher{peer.SHA1(), peer.SHA256()} {
		if got.ID(h) != id.ID(h) {
			t.Fatalf("%s: loaded ID %v, want %v", h.Name(), got.ID(h), id.ID(h))
		}
	}
	// The loaded private key signs like the original one.
	msg := []byte("hello")
	if !ed25519.Verify(id.PublicKey(), msg, got.Sign(msg)) {
		t.Fatal("a signature of the loaded identity does not verify under the original key")
	}
}

func TestIdentitySaveWritesMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity.pem")
	if err := seedIdentity(t, 1).Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("identity file mode %04o, want 0600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(data); block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("identity file is not a PRIVATE KEY PEM block:\n%s", data)
	}
}

func TestLoadIdentityMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.pem")
	_, err := peer.LoadIdentity(path)
	if !errors.Is(err, peer.ErrNoIdentity) {
		t.Fatalf("error %v, want ErrNoIdentity", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v does not match fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the path", err)
	}
}

func TestLoadIdentityRejectsCorruptFiles(t *testing.T) {
	good, err := os.ReadFile(savedIdentity(t, seedIdentity(t, 2)))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(good)

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(seedIdentity(t, 2).PublicKey())
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a key\x00\xff\xfe")},
		{"truncated PEM", good[:len(good)/2]},
		{"truncated DER in PEM", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes[:len(block.Bytes)-5]})},
		{"wrong PEM type", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: block.Bytes})},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})},
		{"ECDSA key in PKCS8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})},
		{"raw DER without PEM", block.Bytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "identity.pem")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			id, err := peer.LoadIdentity(path)
			if !errors.Is(err, peer.ErrCorruptIdentity) {
				t.Fatalf("LoadIdentity = %v, %v; want ErrCorruptIdentity", id, err)
			}
			if id != nil {
				t.Fatal("LoadIdentity returned an identity with an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the path", err)
			}
		})
	}
}

func TestLoadIdentityRefusesFilesOthersCanAccess(t *testing.T) {
	src := savedIdentity(t, seedIdentity(t, 3))
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602, 0o620, 0o666} {
		t.Run(mode.String(), func(t *testing.T) {
			if err := os.Chmod(src, mode); err != nil {
				t.Fatal(err)
			}
			_, err := peer.LoadIdentity(src)
			if !errors.Is(err, peer.ErrIdentityPermissions) {
				t.Fatalf("mode %04o: LoadIdentity error %v, want ErrIdentityPermissions", mode, err)
			}
			if !strings.Contains(err.Error(), src) {
				t.Fatalf("error %q does not name the path", err)
			}
		})
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
		t.Run(mode.String(), func(t *testing.T) {
			if err := os.Chmod(src, mode); err != nil {
				t.Fatal(err)
			}
			if _, err := peer.LoadIdentity(src); err != nil {
				t.Fatalf("mode %04o is owner-only but LoadIdentity failed: %v", mode, err)
			}
		})
	}
}

func TestIdentitySaveReplacesExistingFileAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "identity.pem")
	first, second := seedIdentity(t, 4), seedIdentity(t, 5)
	if err := first.Save(path); err != nil {
		t.Fatal(err)
	}
	oldData, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A reader holding the old file open keeps seeing the old key: Save
	// renames a new file into place instead of rewriting the old one.
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// Loosen the old file's mode: the replacement must still be 0600.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := second.Save(path); err != nil {
		t.Fatalf("Save over an existing file: %v", err)
	}
	got, err := peer.LoadIdentity(path)
	if err != nil {
		t.Fatalf("LoadIdentity after replace: %v", err)
	}
	if !got.PublicKey().Equal(second.PublicKey()) {
		t.Fatal("file still holds the first identity")
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(old); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), oldData) {
		t.Fatal("the old file was rewritten in place, not replaced by rename")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "identity.pem" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only identity.pem (temporary files left behind)", names)
	}
}

func TestIdentitySaveIntoMissingDirectoryFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "identity.pem")
	err := seedIdentity(t, 6).Save(path)
	if err == nil || !strings.HasPrefix(err.Error(), "peer: ") {
		t.Fatalf("Save into a missing directory = %v, want a peer: error", err)
	}
}

func TestIdentityFromSeedIsDeterministic(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	a, err := peer.IdentityFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := peer.IdentityFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if !a.PublicKey().Equal(b.PublicKey()) || a.ID(peer.SHA256()) != b.ID(peer.SHA256()) {
		t.Fatal("the same seed gave different identities")
	}
	want := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if !a.PublicKey().Equal(want) {
		t.Fatal("IdentityFromSeed does not use the seed as an ed25519 seed")
	}
	if a.ID(peer.SHA256()) != peer.SHA256().Sum(want) {
		t.Fatal("ID is not the hash of the public key")
	}
	if seedIdentity(t, 8).PublicKey().Equal(a.PublicKey()) {
		t.Fatal("different seeds gave the same key")
	}
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := peer.IdentityFromSeed(make([]byte, n)); err == nil {
			t.Errorf("IdentityFromSeed(%d bytes) succeeded", n)
		}
	}
}

func TestGenerateIdentityUsesGivenRandomness(t *testing.T) {
	seed := bytes.Repeat([]byte{9}, ed25519.SeedSize)
	a, err := peer.GenerateIdentity(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, err := peer.GenerateIdentity(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	fromSeed, err := peer.IdentityFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if !a.PublicKey().Equal(b.PublicKey()) || !a.PublicKey().Equal(fromSeed.PublicKey()) {
		t.Fatal("GenerateIdentity from the same bytes gave different keys")
	}
	if _, err := peer.GenerateIdentity(bytes.NewReader(seed[:10])); err == nil {
		t.Fatal("GenerateIdentity from a short reader succeeded")
	}
	c, err := peer.GenerateIdentity(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := peer.GenerateIdentity(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicKey().Equal(d.PublicKey()) {
		t.Fatal("two identities from crypto/rand are equal")
	}
}

func TestIdentityPublicKeyIsCopy(t *testing.T) {
	id := seedIdentity(t, 10)
	pub := id.PublicKey()
	want := bytes.Clone(pub)
	pub[0] ^= 0xff
	if !id.PublicKey().Equal(ed25519.PublicKey(want)) {
		t.Fatal("mutating PublicKey's result changed the identity")
	}
	msg := []byte("m")
	if !ed25519.Verify(want, msg, id.Sign(msg)) {
		t.Fatal("signature does not verify after mutating a returned key")
	}
}

func savedIdentity(t *testing.T, id *peer.Identity) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "identity.pem")
	if err := id.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}
