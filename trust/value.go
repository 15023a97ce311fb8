package trust

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/peer"
)

// Value verification errors. Each is wrapped by the error Verify returns.
var (
	// ErrMalformed: a field is out of bounds or present where the value's
	// kind forbids it.
	ErrMalformed = errors.New("trust: malformed value")
	// ErrKeyMismatch: an unsigned value whose key is not the hash of its
	// bytes. Only immutable values travel unsigned.
	ErrKeyMismatch = errors.New("trust: unsigned value does not hash to its key")
	// ErrBadSignature: the signature does not verify under the publisher's
	// key.
	ErrBadSignature = errors.New("trust: bad value signature")
)

// MaxSaltSize bounds a mutable value's salt.
const MaxSaltSize = 64

// Domain tags keep value signatures and mutable keys apart from every other
// signature and hash an identity makes.
const (
	valueDomain   = "dhtkit/value/v1\x00"
	mutableDomain = "dhtkit/mutable/v1\x00"
)

// Kind is the kind of a value. It is not carried on the wire: KindOf derives
// it from the key, the publisher and the salt.
type Kind uint8

// The value kinds.
const (
	// Immutable: unsigned, and the key is the hash of the bytes. Anyone may
	// store it; no one can change it.
	Immutable Kind = iota + 1
	// Mutable: the key is MutableKey of the publisher's public key and a
	// salt, so only that publisher can write under it. The sequence number
	// only grows.
	Mutable
	// Plain: any key, signed by its publisher. Several publishers may each
	// keep one value under a key; no one but a value's publisher can replace
	// it, and its sequence number only grows.
	Plain
)

func (k Kind) String() string {
	switch k {
	case Immutable:
		return "immutable"
	case Mutable:
		return "mutable"
	case Plain:
		return "plain"
	}
	return "unknown"
}

// Value is a stored value in the one form it keeps from the API to the store:
// what a policy sees, what a replica verifies, what a reader returns.
type Value struct {
	Kind Kind
	// Key is the key-space ID the value is stored under.
	Key peer.ID
	// Value is the stored bytes.
	Value []byte
	// Publisher is the publisher's ed25519 public key; nil for immutable
	// values.
	Publisher ed25519.PublicKey
	// Salt separates several mutable values of one publisher; empty for the
	// other kinds.
	Salt []byte
	// Seq orders versions of one publisher's value under a key; it only
	// grows. Zero for immutable values.
	Seq       uint64
	Signature []byte
}

// MutableKey is the key of publisher's mutable value under salt.
func MutableKey(h peer.Hasher, publisher ed25519.PublicKey, salt []byte) peer.ID {
	b := make([]byte, 0, len(mutableDomain)+len(publisher)+len(salt))
	b = append(b, mutableDomain...)
	b = append(b, publisher...)
	b = append(b, salt...)
	return h.Sum(b)
}

// ImmutableKey is the key of an immutable value: the hash of its bytes.
func ImmutableKey(h peer.Hasher, value []byte) peer.ID { return h.Sum(value) }

// KindOf derives a value's kind from its fields: no publisher means
// immutable; a key that is the publisher's MutableKey under salt means
// mutable; anything else signed is plain.
func KindOf(h peer.Hasher, key peer.ID, publisher, salt []byte) Kind {
	switch {
	case len(publisher) == 0:
		return Immutable
	case len(publisher) == ed25519.PublicKeySize && key == MutableKey(h, publisher, salt):
		return Mutable
	}
	return Plain
}

// NewImmutable returns the immutable value holding value, under its hash.
func NewImmutable(h peer.Hasher, value []byte) *Value {
	return &Value{Kind: Immutable, Key: ImmutableKey(h, value), Value: slices.Clone(value)}
}

// NewMutable returns id's mutable value under salt at sequence seq, signed.
func NewMutable(id *peer.Identity, h peer.Hasher, salt []byte, seq uint64, value []byte) (*Value, error) {
	if len(salt) > MaxSaltSize {
		return nil, fmt.Errorf("%w: salt is %d bytes, at most %d", ErrMalformed, len(salt), MaxSaltSize)
	}
	v := &Value{
		Kind: Mutable, Key: MutableKey(h, id.PublicKey(), salt), Value: slices.Clone(value),
		Publisher: id.PublicKey(), Salt: slices.Clone(salt), Seq: seq,
	}
	v.Signature = id.Sign(v.SigningBytes())
	return v, nil
}

// NewPlain returns id's value under key at sequence seq, signed.
func NewPlain(id *peer.Identity, key peer.ID, seq uint64, value []byte) (*Value, error) {
	if key.IsZero() {
		return nil, fmt.Errorf("%w: no key", ErrMalformed)
	}
	v := &Value{Kind: Plain, Key: key, Value: slices.Clone(value), Publisher: id.PublicKey(), Seq: seq}
	v.Signature = id.Sign(v.SigningBytes())
	return v, nil
}

// SigningBytes returns the canonical byte string a publisher signs: a domain
// tag, the kind, then the key, salt, sequence number and value, each
// length-prefixed in a fixed order. It does not depend on any wire codec, so
// a value verifies whatever encoding carried it.
func (v *Value) SigningBytes() []byte {
	b := make([]byte, 0, len(valueDomain)+2+v.Key.Len()+2+len(v.Salt)+8+4+len(v.Value))
	b = append(b, valueDomain...)
	b = append(b, byte(v.Kind), byte(v.Key.Len()))
	b = v.Key.AppendBytes(b)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v.Salt)))
	b = append(b, v.Salt...)
	b = binary.BigEndian.AppendUint64(b, v.Seq)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v.Value)))
	return append(b, v.Value...)
}

// Verify checks that v is what its kind promises under h: an immutable
// value hashes to its key and carries nothing else; a signed value's key
// matches its kind and its signature covers every field. A stated Kind must
// be the one KindOf derives.
func (v *Value) Verify(h peer.Hasher) error {
	if v.Key.Len() != h.Size() {
		return fmt.Errorf("%w: key is %d bytes, the key space %d", ErrMalformed, v.Key.Len(), h.Size())
	}
	if len(v.Salt) > MaxSaltSize {
		return fmt.Errorf("%w: salt is %d bytes, at most %d", ErrMalformed, len(v.Salt), MaxSaltSize)
	}
	if len(v.Publisher) != 0 && len(v.Publisher) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: publisher key is %d bytes", ErrMalformed, len(v.Publisher))
	}
	kind := KindOf(h, v.Key, v.Publisher, v.Salt)
	if v.Kind != kind {
		return fmt.Errorf("%w: stated kind %s, fields say %s", ErrMalformed, v.Kind, kind)
	}
	switch kind {
	case Immutable:
		if len(v.Salt) != 0 || v.Seq != 0 || len(v.Signature) != 0 {
			return fmt.Errorf("%w: an unsigned value carries salt, sequence or signature", ErrMalformed)
		}
		if ImmutableKey(h, v.Value) != v.Key {
			return fmt.Errorf("%w: key %s", ErrKeyMismatch, v.Key.Short())
		}
		return nil
	case Plain:
		if len(v.Salt) != 0 {
			return fmt.Errorf("%w: salt on a value whose key is not its publisher's", ErrMalformed)
		}
	}
	if len(v.Signature) != ed25519.SignatureSize || !ed25519.Verify(v.Publisher, v.SigningBytes(), v.Signature) {
		return fmt.Errorf("%w: %s value under %s", ErrBadSignature, kind, v.Key.Short())
	}
	return nil
}

// Same reports whether v and o are the same signed version: same kind, key,
// publisher, salt, sequence, bytes and signature.
func (v *Value) Same(o *Value) bool {
	return v.Kind == o.Kind && v.Key == o.Key && v.Seq == o.Seq &&
		bytes.Equal(v.Publisher, o.Publisher) && bytes.Equal(v.Salt, o.Salt) &&
		bytes.Equal(v.Value, o.Value) && bytes.Equal(v.Signature, o.Signature)
}

// Clone returns a deep copy of v.
func (v *Value) Clone() *Value {
	c := *v
	c.Value = slices.Clone(v.Value)
	c.Publisher = slices.Clone(v.Publisher)
	c.Salt = slices.Clone(v.Salt)
	c.Signature = slices.Clone(v.Signature)
	return &c
}
