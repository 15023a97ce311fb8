package node

import (
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
)

// verifiedCacheSize bounds the records a node remembers as verified beyond
// its table. Each costs about the record itself (a few hundred bytes), and
// the table's own records are found there first, so the cache only needs
// to cover the peers met often but not kept: senders of requests whose
// buckets are full, peers named in answers.
const verifiedCacheSize = 256

// verifiedCache remembers records whose signatures verified, keyed by
// signature, so that a record seen again byte for byte is not verified
// again. A hit must match the cached record in every signed field and in
// the signature (sameRecord): a record that shares a signature but differs
// anywhere is verified afresh, and fails. It holds at most
// verifiedCacheSize records in two generations: when the young one fills,
// the old one is dropped, so records in use stay and the rest age out
// without per-entry bookkeeping.
type verifiedCache struct {
	mu       sync.Mutex
	young    map[[64]byte]*peer.Record
	old      map[[64]byte]*peer.Record
	hits     uint64
	verified uint64
}

// get returns the verified record that w is exactly the wire form of.
func (c *verifiedCache) get(w *msgenc.PeerRecord) (*peer.Record, bool) {
	if len(w.Signature) != 64 {
		return nil, false
	}
	key := [64]byte(w.Signature)
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.young[key]
	if !ok {
		if r, ok = c.old[key]; ok {
			c.putLocked(key, r) // in use: keep it through the next turnover
		}
	}
	if !ok || !sameRecord(r, w) {
		return nil, false
	}
	c.hits++
	return r, true
}

// put remembers r, which has just verified.
func (c *verifiedCache) put(r *peer.Record) {
	if len(r.Signature) != 64 {
		return
	}
	c.mu.Lock()
	c.verified++
	c.putLocked([64]byte(r.Signature), r)
	c.mu.Unlock()
}

func (c *verifiedCache) putLocked(key [64]byte, r *peer.Record) {
	if len(c.young) >= verifiedCacheSize/2 {
		c.old, c.young = c.young, nil
	}
	if c.young == nil {
		c.young = make(map[[64]byte]*peer.Record, verifiedCacheSize/2)
	}
	c.young[key] = r
}

// len is the number of records remembered.
func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.young) + len(c.old)
}
