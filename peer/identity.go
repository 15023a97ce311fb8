package peer

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Identity errors. LoadIdentity wraps them with the file's path.
var (
	// ErrNoIdentity: the identity file does not exist. It also matches
	// fs.ErrNotExist.
	ErrNoIdentity = errors.New("peer: identity file not found")
	// ErrCorruptIdentity: the file is not a PEM-encoded ed25519 private key.
	ErrCorruptIdentity = errors.New("peer: identity file is corrupt")
	// ErrIdentityPermissions: the file can be read or written by group or
	// others; it must be mode 0600 or stricter.
	ErrIdentityPermissions = errors.New("peer: identity file is accessible to other users")
)

const pemType = "PRIVATE KEY"

// Identity is an ed25519 key pair. It is immutable and safe for concurrent use.
type Identity struct {
	priv ed25519.PrivateKey
}

// GenerateIdentity makes a new identity from the randomness of r, or from
// crypto/rand when r is nil.
func GenerateIdentity(r io.Reader) (*Identity, error) {
	if r == nil {
		r = rand.Reader
	}
	_, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("peer: generate identity: %w", err)
	}
	return &Identity{priv: priv}, nil
}

// IdentityFromSeed derives an identity from a 32-byte ed25519 seed. Tests and
// simulations use it to make reproducible peers.
func IdentityFromSeed(seed []byte) (*Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("peer: identity seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	return &Identity{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// PublicKey returns a copy of the public key.
func (i *Identity) PublicKey() ed25519.PublicKey {
	return slices.Clone(i.priv.Public().(ed25519.PublicKey))
}

// Sign signs msg with the private key.
func (i *Identity) Sign(msg []byte) []byte { return ed25519.Sign(i.priv, msg) }

// ID returns the identity's peer ID under h: the hash of its public key.
func (i *Identity) ID(h Hasher) ID { return IDFromPublicKey(h, i.priv.Public().(ed25519.PublicKey)) }

// IDFromPublicKey returns the peer ID of pub under h.
func IDFromPublicKey(h Hasher, pub ed25519.PublicKey) ID { return h.Sum(pub) }

// Save writes the identity to path as a PKCS#8 PEM file with mode 0600. The
// write goes through a temporary file and a rename, so a crash never leaves a
// half-written key behind.
func (i *Identity) Save(path string) error {
	der, err := x509.MarshalPKCS8PrivateKey(i.priv)
	if err != nil {
		return fmt.Errorf("peer: save identity: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
	tmp, err := os.CreateTemp(filepath.Dir(path), ".identity-*")
	if err != nil {
		return fmt.Errorf("peer: save identity: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("peer: save identity: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("peer: save identity: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("peer: save identity: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("peer: save identity: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("peer: save identity: %w", err)
	}
	// Sync the directory so the rename itself survives a crash; otherwise a
	// node could restart with its old key, or none, after Save returned.
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		syncErr := dir.Sync()
		dir.Close()
		if syncErr != nil {
			return fmt.Errorf("peer: save identity: sync directory: %w", syncErr)
		}
	}
	return nil
}

// LoadIdentity reads an identity written by Save. It refuses a file that group
// or others may access (ErrIdentityPermissions), reports a missing file as
// ErrNoIdentity and anything unreadable as ErrCorruptIdentity.
func LoadIdentity(path string) (*Identity, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoIdentity, path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("peer: load identity: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("peer: load identity: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want 0600 (chmod 600 %s)", ErrIdentityPermissions, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("peer: load identity: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("%w: %s: no %q PEM block", ErrCorruptIdentity, path, pemType)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptIdentity, path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: key is %T, not ed25519", ErrCorruptIdentity, path, key)
	}
	return &Identity{priv: priv}, nil
}
