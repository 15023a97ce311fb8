package peer

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	ma "github.com/multiformats/go-multiaddr"
)

// Record verification errors.
var (
	// ErrBadSignature: the record's signature does not verify under its key.
	ErrBadSignature = errors.New("peer: bad record signature")
	// ErrIDMismatch: the record's ID is not the hash of its public key.
	ErrIDMismatch = errors.New("peer: ID does not match public key")
	// ErrBadRecord: the record is malformed (key size, too many addresses,
	// an empty or oversized address).
	ErrBadRecord = errors.New("peer: malformed record")
)

// MaxRecordAddrs is the most addresses a record may carry.
const MaxRecordAddrs = 16

// recordDomain separates record signatures from every other signature an
// identity makes.
const recordDomain = "dhtkit/peer-record/v1\x00"

// Record is a peer's self-signed statement of who it is and where it listens.
// A verified Record is treated as immutable: share it, do not modify it.
type Record struct {
	ID        ID
	PublicKey ed25519.PublicKey
	Addrs     []ma.Multiaddr
	// Seq orders records of the same peer: a higher Seq replaces a lower one.
	Seq       uint64
	Signature []byte
}

// NewRecord returns a record for id under h, listing addrs, signed by id.
func NewRecord(id *Identity, h Hasher, seq uint64, addrs ...ma.Multiaddr) (*Record, error) {
	if err := checkAddrs(addrs); err != nil {
		return nil, err
	}
	r := &Record{
		ID:        id.ID(h),
		PublicKey: id.PublicKey(),
		Addrs:     slices.Clone(addrs),
		Seq:       seq,
	}
	r.Signature = id.Sign(r.SigningBytes())
	return r, nil
}

// SigningBytes returns the canonical byte string the signature covers:
// a domain tag, then each field length-prefixed in a fixed order. It does
// not depend on any wire codec.
func (r *Record) SigningBytes() []byte {
	n := len(recordDomain) + 1 + r.ID.Len() + 2 + len(r.PublicKey) + 8 + 2
	for _, a := range r.Addrs {
		n += 2 + len(a.Bytes())
	}
	b := make([]byte, 0, n)
	b = append(b, recordDomain...)
	b = append(b, byte(r.ID.Len()))
	b = r.ID.AppendBytes(b)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.PublicKey)))
	b = append(b, r.PublicKey...)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Addrs)))
	for _, a := range r.Addrs {
		ab := a.Bytes()
		b = binary.BigEndian.AppendUint16(b, uint16(len(ab)))
		b = append(b, ab...)
	}
	return b
}

// Verify checks that the record is well formed, that its ID is h's hash of
// its public key, and that its signature covers every field.
func (r *Record) Verify(h Hasher) error {
	if len(r.PublicKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key is %d bytes", ErrBadRecord, len(r.PublicKey))
	}
	if err := checkAddrs(r.Addrs); err != nil {
		return err
	}
	if r.ID != IDFromPublicKey(h, r.PublicKey) {
		return fmt.Errorf("%w: %s", ErrIDMismatch, r.ID.Short())
	}
	if !ed25519.Verify(r.PublicKey, r.SigningBytes(), r.Signature) {
		return fmt.Errorf("%w: %s", ErrBadSignature, r.ID.Short())
	}
	return nil
}

// checkAddrs bounds the address list. An address must be non-empty (an empty
// multiaddr cannot travel: decoders reject it) and short enough for its
// 16-bit length prefix in SigningBytes, which would otherwise wrap and make
// two different address lists sign the same bytes.
func checkAddrs(addrs []ma.Multiaddr) error {
	if len(addrs) > MaxRecordAddrs {
		return fmt.Errorf("%w: %d addresses, at most %d", ErrBadRecord, len(addrs), MaxRecordAddrs)
	}
	for i, a := range addrs {
		if n := len(a.Bytes()); n == 0 || n > math.MaxUint16 {
			return fmt.Errorf("%w: address %d is %d bytes", ErrBadRecord, i, n)
		}
	}
	return nil
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	c := *r
	c.PublicKey = slices.Clone(r.PublicKey)
	// A Multiaddr is a slice of components: copy each one so that writing to
	// c.Addrs[i][j] cannot reach r.
	if r.Addrs != nil {
		c.Addrs = make([]ma.Multiaddr, len(r.Addrs))
		for i, a := range r.Addrs {
			c.Addrs[i] = slices.Clone(a)
		}
	}
	c.Signature = slices.Clone(r.Signature)
	return &c
}
