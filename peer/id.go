package peer

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// MaxIDLen is the longest key space supported, in bytes.
const MaxIDLen = 32

// Supported ID lengths in bytes.
const (
	IDLen160 = 20 // SHA-1 networks
	IDLen256 = 32 // SHA-256 networks, the default
)

// ErrIDLength reports an ID whose length is not a supported key-space size.
var ErrIDLength = errors.New("peer: ID must be 20 or 32 bytes")

// ID is a point in the key space. It is comparable and usable as a map key.
// The zero ID is empty (Len 0) and is not a valid peer ID.
type ID struct {
	n uint8
	b [MaxIDLen]byte
}

// IDFromBytes returns the ID holding a copy of b, which must be 20 or 32 bytes.
func IDFromBytes(b []byte) (ID, error) {
	if len(b) != IDLen160 && len(b) != IDLen256 {
		return ID{}, fmt.Errorf("%w, got %d", ErrIDLength, len(b))
	}
	var id ID
	id.n = uint8(len(b))
	copy(id.b[:], b)
	return id, nil
}

// ParseID parses the hexadecimal form printed by String.
func ParseID(s string) (ID, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return ID{}, fmt.Errorf("peer: parse ID: %w", err)
	}
	return IDFromBytes(b)
}

// Len returns the length of the ID in bytes.
func (id ID) Len() int { return int(id.n) }

// Bits returns the length of the ID in bits.
func (id ID) Bits() int { return int(id.n) * 8 }

// IsZero reports whether id is the empty zero value.
func (id ID) IsZero() bool { return id.n == 0 }

// Bytes returns a copy of the ID's bytes.
func (id ID) Bytes() []byte { return slices.Clone(id.b[:id.n]) }

// AppendBytes appends the ID's bytes to dst.
func (id ID) AppendBytes(dst []byte) []byte { return append(dst, id.b[:id.n]...) }

// String returns the ID in lower-case hexadecimal.
func (id ID) String() string { return hex.EncodeToString(id.b[:id.n]) }

// Short returns the first eight hexadecimal digits, for logs.
func (id ID) Short() string {
	s := id.String()
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// Bit returns bit i of the ID, counting from the most significant bit.
// It returns 0 for i out of range.
func (id ID) Bit(i int) int {
	if i < 0 || i >= id.Bits() {
		return 0
	}
	return int(id.b[i/8]>>(7-uint(i%8))) & 1
}

// Xor returns the XOR distance between id and other as an ID of id's length.
// IDs from different key spaces are never meant to meet; if they do, the
// missing bytes of the shorter one count as zero.
func (id ID) Xor(other ID) ID {
	d := ID{n: id.n}
	for i := 0; i < int(id.n); i++ {
		d.b[i] = id.b[i] ^ other.b[i]
	}
	return d
}

// CommonPrefixLen returns the number of leading bits id and other share.
func (id ID) CommonPrefixLen(other ID) int {
	n := min(id.n, other.n)
	for i := 0; i < int(n); i++ {
		if x := id.b[i] ^ other.b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return int(n) * 8
}

// Compare orders IDs as big-endian unsigned integers.
func Compare(a, b ID) int {
	if c := bytes.Compare(a.b[:a.n], b.b[:b.n]); c != 0 {
		return c
	}
	return int(a.n) - int(b.n)
}

// CompareDistance reports whether a is closer to target than b (-1), farther
// (+1) or at the same distance (0). For IDs of target's key space, 0 means
// a == b; only the first target.Len() bytes are compared.
func CompareDistance(target, a, b ID) int {
	for i := 0; i < int(target.n); i++ {
		da, db := a.b[i]^target.b[i], b.b[i]^target.b[i]
		if da != db {
			if da < db {
				return -1
			}
			return 1
		}
	}
	return 0
}

// SortByDistance sorts ids in place, closest to target first.
func SortByDistance(target ID, ids []ID) {
	slices.SortFunc(ids, func(a, b ID) int { return CompareDistance(target, a, b) })
}
