package bbolt

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	bolt "go.etcd.io/bbolt"
)

// A record on disk, version 1:
//
//	version  1 byte, recordVersion
//	flags    1 byte; bit 0: expires present; other bits zero
//	expires  8 bytes Unix seconds (int64) and 4 bytes nanoseconds, big
//	         endian, only with bit 0
//	seq      8 bytes, big endian
//	value, publisher, salt, signature
//	         each a uvarint length (minimal encoding) and the bytes
//	crc      4 bytes, big endian, CRC-32C of everything before it
//
// The encoding is canonical: a decoded record encodes to the same bytes.
const (
	recordVersion = 1
	flagExpires   = 1 << 0
	recordCRCLen  = 4
	// recordMinLen: version, flags, seq, four empty lengths, crc.
	recordMinLen = 1 + 1 + 8 + 4 + recordCRCLen
)

// castagnoli is the CRC-32C table, read-only after package init.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordLen returns the encoded size of r.
func recordLen(r *kvstore.Record) uint64 {
	n := uint64(1 + 1 + 8 + recordCRCLen)
	if !r.Expires.IsZero() {
		n += 12
	}
	for _, b := range [][]byte{r.Value, r.Publisher, r.Salt, r.Signature} {
		n += uint64(uvarintLen(uint64(len(b)))) + uint64(len(b))
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// appendRecord appends r's encoding to dst.
func appendRecord(dst []byte, r *kvstore.Record) []byte {
	start := len(dst)
	flags := byte(0)
	if !r.Expires.IsZero() {
		flags |= flagExpires
	}
	dst = append(dst, recordVersion, flags)
	if flags&flagExpires != 0 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(r.Expires.Unix()))
		dst = binary.BigEndian.AppendUint32(dst, uint32(r.Expires.Nanosecond()))
	}
	dst = binary.BigEndian.AppendUint64(dst, r.Seq)
	for _, b := range [][]byte{r.Value, r.Publisher, r.Salt, r.Signature} {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	}
	return appendCRC(dst[start:])
}

// appendCRC seals an encoded body with its checksum.
func appendCRC(body []byte) []byte {
	return binary.BigEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
}

// decodeRecord parses an encoded record. The result owns its bytes (one
// fresh allocation, each field capped at its length), so b may be bbolt
// memory that is only valid inside a transaction. Any deviation from the
// format is an error wrapping ErrCorrupt.
func decodeRecord(b []byte) (kvstore.Record, error) {
	var r kvstore.Record
	if len(b) < recordMinLen {
		return r, corrupt("record of %d bytes is shorter than the minimum %d", len(b), recordMinLen)
	}
	body, sum := b[:len(b)-recordCRCLen], binary.BigEndian.Uint32(b[len(b)-recordCRCLen:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return r, corrupt("record checksum %08x, stored %08x", got, sum)
	}
	if body[0] != recordVersion {
		return r, corrupt("record version %d, want %d", body[0], recordVersion)
	}
	flags, p := body[1], body[2:]
	if flags&^flagExpires != 0 {
		return r, corrupt("unknown record flags %#x", flags)
	}
	if flags&flagExpires != 0 {
		if len(p) < 12 {
			return r, corrupt("record truncated in expiry")
		}
		sec, nsec := int64(binary.BigEndian.Uint64(p)), binary.BigEndian.Uint32(p[8:])
		if nsec >= 1e9 {
			return r, corrupt("record expiry nanoseconds %d out of range", nsec)
		}
		r.Expires = time.Unix(sec, int64(nsec))
		if r.Expires.IsZero() {
			return r, corrupt("record expiry flag set with the zero time")
		}
		p = p[12:]
	}
	if len(p) < 8 {
		return r, corrupt("record truncated in seq")
	}
	r.Seq, p = binary.BigEndian.Uint64(p), p[8:]

	// Two passes: validate the lengths, then copy all fields at once.
	var spans [4][2]int // offsets into p
	off := 0
	for i := range spans {
		n, k := binary.Uvarint(p[off:])
		if k <= 0 {
			return r, corrupt("record field %d: bad length", i)
		}
		if k != uvarintLen(n) {
			return r, corrupt("record field %d: length not minimally encoded", i)
		}
		off += k
		if n > uint64(len(p)-off) {
			return r, corrupt("record field %d: length %d exceeds the %d bytes left", i, n, len(p)-off)
		}
		spans[i] = [2]int{off, off + int(n)}
		off += int(n)
	}
	if off != len(p) {
		return r, corrupt("record has %d trailing bytes", len(p)-off)
	}
	total := 0
	for _, s := range spans {
		total += s[1] - s[0]
	}
	own := make([]byte, 0, total)
	fields := [4]*[]byte{&r.Value, &r.Publisher, &r.Salt, &r.Signature}
	for i, s := range spans {
		if s[0] == s[1] {
			continue
		}
		from := len(own)
		own = append(own, p[s[0]:s[1]]...)
		*fields[i] = own[from:len(own):len(own)]
	}
	return r, nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Expiry index keys: the expiry as 8 bytes of Unix seconds with the sign
// bit flipped (so that byte order is time order), 4 bytes of nanoseconds,
// then the record's key.
const indexPrefixLen = 12

func indexKey(exp time.Time, key []byte) []byte {
	k := make([]byte, 0, indexPrefixLen+len(key))
	k = binary.BigEndian.AppendUint64(k, uint64(exp.Unix())^(1<<63))
	k = binary.BigEndian.AppendUint32(k, uint32(exp.Nanosecond()))
	return append(k, key...)
}

// indexTime returns the expiry an index key holds; ok is false for a key
// too short to be one.
func indexTime(k []byte) (t time.Time, ok bool) {
	if len(k) <= indexPrefixLen {
		return time.Time{}, false
	}
	sec := int64(binary.BigEndian.Uint64(k) ^ (1 << 63))
	nsec := binary.BigEndian.Uint32(k[8:])
	if nsec >= 1e9 {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(nsec)), true
}

// MaxKeySize is the longest key the store accepts: bbolt's limit less the
// expiry index's prefix.
const MaxKeySize = bolt.MaxKeySize - indexPrefixLen

// maxRecordSize is bbolt's limit on a value.
const maxRecordSize = math.MaxInt32 - 1
