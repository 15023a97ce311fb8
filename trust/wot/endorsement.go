package wot

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// ErrBadEndorsement is wrapped by every error ParseEndorsement and
// NewEndorsement return. When the value itself failed Value.Verify, the
// error wraps the trust sentinel too.
var ErrBadEndorsement = errors.New("wot: bad endorsement")

// MaxEncodableLevel is the highest level an endorsement can state: the
// level travels in one byte.
const MaxEncodableLevel = math.MaxUint8

// EndorsementSize is the size of an endorsement's value bytes in a key
// space of idLen bytes: the tag, the endorsee's length and bytes, the level
// and the expiry.
func EndorsementSize(idLen int) int { return len(endorsementTag) + 1 + idLen + 1 + 8 }

// Domain tags. keyDomain separates endorsement keys from every other hash
// in the key space; endorsementTag opens every endorsement's bytes, so that
// no other plain value a peer signs can be read as an endorsement.
const (
	keyDomain      = "dhtkit/endorsements/v1\x00"
	endorsementTag = "dhtkit/endorsement/v1\x00"
)

// EndorsementKey is the key under which endorsements of endorsee are
// stored: h's hash of a domain tag and the endorsee's bytes. Every endorser
// publishes its endorsement of endorsee there, as a plain value, so they
// are all found from the endorsee.
func EndorsementKey(h peer.Hasher, endorsee peer.ID) peer.ID {
	b := make([]byte, 0, len(keyDomain)+endorsee.Len())
	b = append(b, keyDomain...)
	return h.Sum(endorsee.AppendBytes(b))
}

// An Endorsement is one peer's signed statement that it trusts another at a
// level until an expiry. It travels as a plain trust.Value published by the
// endorser under EndorsementKey(endorsee); the value's sequence number
// orders one endorser's statements about one endorsee, and a higher one with
// level 0 revokes.
type Endorsement struct {
	// Endorser is the endorser's public key: the value's publisher.
	Endorser ed25519.PublicKey
	// Endorsee is the endorsed peer.
	Endorsee peer.ID
	// Level is the trust stated, 0 (a revocation) to MaxEncodableLevel. A
	// policy caps it at its own MaxLevel.
	Level int
	// Expires is when the endorsement stops counting, to the second, in
	// UTC; the zero time means it does not expire.
	Expires time.Time
	// Seq is the sequence number of the value that carried it.
	Seq uint64
}

// EndorserID is the endorser's peer ID under h.
func (e Endorsement) EndorserID(h peer.Hasher) peer.ID { return peer.IDFromPublicKey(h, e.Endorser) }

// Expired reports whether e has stopped counting at now.
func (e Endorsement) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// NewEndorsement returns endorser's endorsement of endorsee at level (0
// revokes an earlier one) until expires (the zero time: no expiry; it is
// kept to the second), as the plain value to publish, at sequence number
// seq. A peer cannot endorse itself.
func NewEndorsement(endorser *peer.Identity, h peer.Hasher, endorsee peer.ID, level int, expires time.Time, seq uint64) (*trust.Value, error) {
	if endorser == nil {
		return nil, fmt.Errorf("%w: no endorser", ErrBadEndorsement)
	}
	if endorsee.Len() != h.Size() {
		return nil, fmt.Errorf("%w: endorsee is %d bytes, the key space %d", ErrBadEndorsement, endorsee.Len(), h.Size())
	}
	if endorser.ID(h) == endorsee {
		return nil, fmt.Errorf("%w: a peer cannot endorse itself", ErrBadEndorsement)
	}
	if level < 0 || level > MaxEncodableLevel {
		return nil, fmt.Errorf("%w: level %d, want 0 to %d", ErrBadEndorsement, level, MaxEncodableLevel)
	}
	var secs int64
	if !expires.IsZero() {
		if secs = expires.Unix(); secs <= 0 {
			return nil, fmt.Errorf("%w: expiry %v is not after 1970", ErrBadEndorsement, expires)
		}
	}
	v, err := trust.NewPlain(endorser, EndorsementKey(h, endorsee), seq, encode(endorsee, level, secs))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadEndorsement, err)
	}
	return v, nil
}

// ParseEndorsement verifies v (Value.Verify under h) and reads the
// endorsement it carries. v must be a plain value whose bytes are a
// well-formed endorsement and whose key is the EndorsementKey of the
// endorsee it names; an endorsement of its own endorser is refused.
func ParseEndorsement(h peer.Hasher, v *trust.Value) (Endorsement, error) {
	if v == nil {
		return Endorsement{}, fmt.Errorf("%w: no value", ErrBadEndorsement)
	}
	if err := v.Verify(h); err != nil {
		return Endorsement{}, fmt.Errorf("%w: %w", ErrBadEndorsement, err)
	}
	if v.Kind != trust.Plain {
		return Endorsement{}, fmt.Errorf("%w: a %s value, want plain", ErrBadEndorsement, v.Kind)
	}
	e, err := decode(h, v.Value)
	if err != nil {
		return Endorsement{}, err
	}
	if v.Key != EndorsementKey(h, e.Endorsee) {
		return Endorsement{}, fmt.Errorf("%w: endorsement of %s stored under %s, not its endorsement key",
			ErrBadEndorsement, e.Endorsee.Short(), v.Key.Short())
	}
	e.Endorser = slices.Clone(v.Publisher)
	if e.EndorserID(h) == e.Endorsee {
		return Endorsement{}, fmt.Errorf("%w: %s endorses itself", ErrBadEndorsement, e.Endorsee.Short())
	}
	e.Seq = v.Seq
	return e, nil
}

// encode returns an endorsement's value bytes:
//
//	tag       "dhtkit/endorsement/v1\x00" (22 bytes)
//	idLen     1 byte, 20 or 32
//	endorsee  idLen bytes
//	level     1 byte
//	expires   8 bytes, big-endian unix seconds; 0: never
func encode(endorsee peer.ID, level int, expires int64) []byte {
	b := make([]byte, 0, EndorsementSize(endorsee.Len()))
	b = append(b, endorsementTag...)
	b = append(b, byte(endorsee.Len()))
	b = endorsee.AppendBytes(b)
	b = append(b, byte(level))
	return binary.BigEndian.AppendUint64(b, uint64(expires))
}

// decode reads what encode wrote, for h's key space. It accepts exactly one
// encoding of each endorsement: a size other than EndorsementSize, another
// tag, an ID length other than h's, or a negative expiry is refused. It
// never panics and allocates only the result.
func decode(h peer.Hasher, b []byte) (Endorsement, error) {
	n := h.Size()
	if len(b) != EndorsementSize(n) {
		return Endorsement{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadEndorsement, len(b), EndorsementSize(n))
	}
	if string(b[:len(endorsementTag)]) != endorsementTag {
		return Endorsement{}, fmt.Errorf("%w: not tagged as an endorsement", ErrBadEndorsement)
	}
	b = b[len(endorsementTag):]
	if int(b[0]) != n {
		return Endorsement{}, fmt.Errorf("%w: endorsee is %d bytes, the key space %d", ErrBadEndorsement, b[0], n)
	}
	endorsee, err := peer.IDFromBytes(b[1 : 1+n])
	if err != nil {
		return Endorsement{}, fmt.Errorf("%w: %w", ErrBadEndorsement, err)
	}
	b = b[1+n:]
	e := Endorsement{Endorsee: endorsee, Level: int(b[0])}
	switch secs := int64(binary.BigEndian.Uint64(b[1:])); {
	case secs < 0:
		return Endorsement{}, fmt.Errorf("%w: expiry %d before 1970", ErrBadEndorsement, secs)
	case secs > 0:
		e.Expires = time.Unix(secs, 0).UTC()
	}
	return e, nil
}
