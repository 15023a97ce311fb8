package peer

import (
	"crypto/sha1" //nolint:gosec // SHA-1 is a key-space hasher here, not a security primitive
	"crypto/sha256"
)

// A Hasher maps bytes into the key space. Implementations are safe for
// concurrent use.
type Hasher interface {
	// Name identifies the hash function, such as "sha256".
	Name() string
	// Size is the length of the IDs it produces, in bytes (20 or 32).
	Size() int
	// Sum returns the ID of data.
	Sum(data []byte) ID
}

// SHA256 returns the default hasher: 256-bit IDs.
func SHA256() Hasher { return sha256Hasher{} }

// SHA1 returns the hasher of 160-bit networks.
func SHA1() Hasher { return sha1Hasher{} }

type sha256Hasher struct{}

func (sha256Hasher) Name() string { return "sha256" }
func (sha256Hasher) Size() int    { return IDLen256 }
func (sha256Hasher) Sum(data []byte) ID {
	id := ID{n: IDLen256}
	id.b = sha256.Sum256(data)
	return id
}

type sha1Hasher struct{}

func (sha1Hasher) Name() string { return "sha1" }
func (sha1Hasher) Size() int    { return IDLen160 }
func (sha1Hasher) Sum(data []byte) ID {
	sum := sha1.Sum(data) //nolint:gosec
	id := ID{n: IDLen160}
	copy(id.b[:], sum[:])
	return id
}
