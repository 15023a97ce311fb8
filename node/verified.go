package node

import (
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
)

// verifiedCacheSize is the fewest records a node remembers as verified
// beyond its table; a node with a table of more than half of it remembers
// twice its table's size, so that the peers it meets again as often as
// those it keeps stay checked once. An entry is a 16-byte digest, not the record, so that the
// cache costs an idle node a few KiB: the table's records are checked
// against the table first, and the cache covers the peers met often but
// not kept (senders of requests whose buckets are full, peers named in
// answers).
const verifiedCacheSize = 256

// verifiedCache remembers the records whose signatures verified, by a
// digest of every field of their wire form (ID, key, sequence, addresses,
// signature): a record seen again byte for byte is not verified again, and
// a record that differs anywhere, even under the same ID and signature,
// has another digest and is verified afresh. It holds at most the size put
// is given, in two generations: when the young one fills, the old one is
// dropped, so digests in use stay and the rest age out without per-entry
// bookkeeping.
//
// A digest is the first 128 bits of SHA-256 over a secret of the node's
// and the fields: half a full digest's memory, and as hard to forge as the
// signature it stands for (ed25519 offers 128-bit security). The secret
// is what makes 128 bits enough: without it, two records with one
// truncated digest, one genuine and one forged, could be searched for
// offline in about 2^64 hashes; with it, they cannot be searched for at
// all.
type verifiedCache struct {
	mu       sync.Mutex
	secret   [32]byte // set once by init
	young    map[recordDigest]struct{}
	old      map[recordDigest]struct{}
	size     int // the limit the last put was given
	hits     uint64
	verified uint64
}

// recordDigest is what verifiedCache keeps of a verified record.
type recordDigest [16]byte

// init draws the cache's secret.
func (c *verifiedCache) init() error {
	if _, err := crand.Read(c.secret[:]); err != nil {
		return fmt.Errorf("node: verified-cache secret: %w", err)
	}
	return nil
}

// digest is the digest of every field of w, each length-prefixed so that
// no two records share an encoding, under the cache's secret.
func (c *verifiedCache) digest(w *msgenc.PeerRecord) recordDigest {
	var stack [512]byte
	b := append(stack[:0], c.secret[:]...)
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
	sum := sha256.Sum256(b)
	return recordDigest(sum[:16])
}

// has reports whether a record with digest d verified before.
func (c *verifiedCache) has(d recordDigest) bool {
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
func (c *verifiedCache) put(d recordDigest, size int) {
	c.mu.Lock()
	c.verified++
	c.size = size
	c.putLocked(d)
	c.mu.Unlock()
}

func (c *verifiedCache) putLocked(d recordDigest) {
	if len(c.young) >= max(c.size, verifiedCacheSize)/2 {
		c.old, c.young = c.young, nil
	}
	if c.young == nil {
		c.young = make(map[recordDigest]struct{})
	}
	c.young[d] = struct{}{}
}

// len is the number of digests remembered.
func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.young) + len(c.old)
}
