package node

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// A key may hold several values: an immutable one, a mutable one, and one
// plain value per publisher. The node keeps them as one store record per key
// whose bytes are a value set, so that a key's values are read in one Get
// and changed in one atomic Update whatever the store.
//
// Layout (big-endian): version byte 1, entry count (1 byte), then each entry:
//
//	kind (1) | expires, Unix nanoseconds, 0 for never (8) | seq (8)
//	publisher length (1) + publisher | salt length (1) + salt
//	signature length (1) + signature | value length (4) + value
//
// The key is the store key and is not repeated.

const valueSetVersion = 1

// maxValueSetEntries bounds what a decoder accepts, whatever the node's
// configured values per key.
const maxValueSetEntries = 255

// errCorruptSet: stored bytes that are not a value set.
var errCorruptSet = errors.New("node: corrupt stored value set")

// entry is one stored value and its expiry.
type entry struct {
	v       *trust.Value
	expires time.Time
}

func (e *entry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// sameSlot reports whether a and b occupy the same place under a key: the
// immutable value, or one publisher's signed value.
func sameSlot(a, b *trust.Value) bool {
	if a.Kind == trust.Immutable || b.Kind == trust.Immutable {
		return a.Kind == b.Kind
	}
	return string(a.Publisher) == string(b.Publisher)
}

func encodeSet(es []entry) []byte {
	n := 2
	for _, e := range es {
		n += 1 + 8 + 8 + 3 + len(e.v.Publisher) + len(e.v.Salt) + len(e.v.Signature) + 4 + len(e.v.Value)
	}
	b := make([]byte, 0, n)
	b = append(b, valueSetVersion, byte(len(es)))
	for _, e := range es {
		var exp int64
		if !e.expires.IsZero() {
			exp = e.expires.UnixNano()
		}
		b = append(b, byte(e.v.Kind))
		b = binary.BigEndian.AppendUint64(b, uint64(exp))
		b = binary.BigEndian.AppendUint64(b, e.v.Seq)
		b = append(b, byte(len(e.v.Publisher)))
		b = append(b, e.v.Publisher...)
		b = append(b, byte(len(e.v.Salt)))
		b = append(b, e.v.Salt...)
		b = append(b, byte(len(e.v.Signature)))
		b = append(b, e.v.Signature...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(e.v.Value)))
		b = append(b, e.v.Value...)
	}
	return b
}

// decodeSet parses a value set stored under key. It bounds every length
// before slicing and copies nothing: the entries share b.
func decodeSet(key peer.ID, b []byte) ([]entry, error) {
	bad := func(what string) ([]entry, error) { return nil, fmt.Errorf("%w: %s", errCorruptSet, what) }
	if len(b) < 2 || b[0] != valueSetVersion {
		return bad("unknown version")
	}
	count := int(b[1])
	b = b[2:]
	es := make([]entry, 0, count)
	field := func(max int) ([]byte, bool) {
		if len(b) < 1 || int(b[0]) > max || len(b) < 1+int(b[0]) {
			return nil, false
		}
		f := b[1 : 1+int(b[0])]
		b = b[1+int(b[0]):]
		if len(f) == 0 {
			f = nil
		}
		return f, true
	}
	for range count {
		if len(b) < 17 {
			return bad("truncated entry")
		}
		kind := trust.Kind(b[0])
		if kind < trust.Immutable || kind > trust.Plain {
			return bad("unknown kind")
		}
		v := &trust.Value{Kind: kind, Key: key, Seq: binary.BigEndian.Uint64(b[9:17])}
		var expires time.Time
		if exp := int64(binary.BigEndian.Uint64(b[1:9])); exp != 0 {
			expires = time.Unix(0, exp)
		}
		b = b[17:]
		var ok bool
		var pub, sig []byte
		if pub, ok = field(ed25519.PublicKeySize); !ok {
			return bad("publisher")
		}
		v.Publisher = pub
		if v.Salt, ok = field(trust.MaxSaltSize); !ok {
			return bad("salt")
		}
		if sig, ok = field(ed25519.SignatureSize); !ok {
			return bad("signature")
		}
		v.Signature = sig
		if len(b) < 4 {
			return bad("truncated value")
		}
		n := binary.BigEndian.Uint32(b)
		if n > msgenc.MaxValueSize || uint64(len(b)-4) < uint64(n) {
			return bad("value length")
		}
		if n > 0 {
			v.Value = b[4 : 4+n]
		}
		b = b[4+n:]
		es = append(es, entry{v: v, expires: expires})
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return es, nil
}

// liveEntries drops the expired entries of es, in place.
func liveEntries(es []entry, now time.Time) []entry {
	out := es[:0]
	for _, e := range es {
		if !e.expired(now) {
			out = append(out, e)
		}
	}
	return out
}

// setExpiry is the expiry of the store record holding es: the latest of
// its entries', or never when one never expires.
func setExpiry(es []entry) time.Time {
	var last time.Time
	for _, e := range es {
		if e.expires.IsZero() {
			return time.Time{}
		}
		if e.expires.After(last) {
			last = e.expires
		}
	}
	return last
}
