package node

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
)

// verifiedCacheSize is the fewest records a node remembers as verified
// beyond its table; a node with a table of more than half of it remembers
// twice its table's size, so that the peers it meets again as often as
// those it keeps stay checked once. An entry is a 32-byte digest, not the record, so that the
// cache costs an idle node a few KiB: the table's records are checked
// against the table first, and the cache covers the peers met often but
// not kept (senders of requests whose buckets are full, peers named in
// answers).
const verifiedCacheSize = 256

// verifiedCache remembers the records whose signatures verified, by a
// SHA-256 digest of every field of their wire form (ID, key, sequence,
// addresses, signature): a record seen again byte for byte is not verified
// again, and a record that differs anywhere, even under the same ID and
// signature, has another digest and is verified afresh. It holds at most
// the size put is given, in two generations: when the young one fills,
// the old one is dropped, so digests in use stay and the rest age out
// without per-entry bookkeeping.
type verifiedCache struct {
	mu       sync.Mutex
	young    map[[32]byte]struct{}
	old      map[[32]byte]struct{}
	size     int // the limit the last put was given
	hits     uint64
	verified uint64
}

// wireDigest is the digest of every field of w, each length-prefixed so
// that no two records share an encoding.
func wireDigest(w *msgenc.PeerRecord) [32]byte {
	var stack [512]byte
	b := stack[:0]
	field := func(f []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	field(w.ID)
	field(w.PublicKey)
	b = binary.BigEndian.AppendUint64(b, w.Seq)
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.Addrs)))
	for _, a := range w.Addrs {
		field(a)
	}
	field(w.Signature)
	return sha256.Sum256(b)
}

// has reports whether a record with digest d verified before.
func (c *verifiedCache) has(d [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.young[d]
	if !ok {
		if _, ok = c.old[d]; ok {
			c.putLocked(d) // in use: keep it through the next turnover
		}
	}
	if ok {
		c.hits++
	}
	return ok
}

// put remembers that the record with digest d has just verified, keeping
// at most about size digests.
func (c *verifiedCache) put(d [32]byte, size int) {
	c.mu.Lock()
	c.verified++
	c.size = size
	c.putLocked(d)
	c.mu.Unlock()
}

func (c *verifiedCache) putLocked(d [32]byte) {
	if len(c.young) >= max(c.size, verifiedCacheSize)/2 {
		c.old, c.young = c.young, nil
	}
	if c.young == nil {
		c.young = make(map[[32]byte]struct{})
	}
	c.young[d] = struct{}{}
}

// len is the number of digests remembered.
func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.young) + len(c.old)
}
