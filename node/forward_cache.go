package node

import (
	"bytes"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
)

// maxPathCache bounds Builder.PathCache.
const maxPathCache = 4096

// pathCacheBytes bounds the value bytes a path cache holds in all, whatever
// its number of entries: values are up to msgenc.MaxValueSize each.
const pathCacheBytes = 8 << 20

// pathCache keeps values a proxied hop relayed, so that it can answer the
// next forwarded get of the same key itself: mydht's caching along the
// path. Every value in it was verified (signature, key) before it was kept,
// and each lives only as long as the TTL it came with, capped by the
// node's record TTL. Entries and bytes are bounded; the entry that expires
// soonest gives way when full.
type pathCache struct {
	mu      sync.Mutex
	max     int // entries; 0: off
	bytes   int
	entries map[peer.ID][]cachedValue
}

// cachedValue is one cached value record and when it expires.
type cachedValue struct {
	rec     msgenc.ValueRecord
	expires time.Time
}

func (c *pathCache) init(entries int) {
	c.max = entries
	c.entries = make(map[peer.ID][]cachedValue)
}

func recordBytes(r *msgenc.ValueRecord) int {
	return len(r.Key) + len(r.Value) + len(r.Publisher) + len(r.Salt) + len(r.Signature)
}

// put keeps verified records found under key until their TTLs, capped at
// maxTTL, run out. The records are copied: the caller's may be reused.
func (c *pathCache) put(key peer.ID, recs []msgenc.ValueRecord, now time.Time, maxTTL time.Duration) {
	if c.max == 0 || len(recs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(key)
	var vs []cachedValue
	size := 0
	for i := range recs {
		r := recs[i]
		ttl := min(time.Duration(r.TTL)*time.Second, maxTTL)
		if ttl <= 0 || len(vs) == msgenc.MaxRecords {
			continue
		}
		r.Key, r.Value, r.Publisher = bytes.Clone(r.Key), bytes.Clone(r.Value), bytes.Clone(r.Publisher)
		r.Salt, r.Signature = bytes.Clone(r.Salt), bytes.Clone(r.Signature)
		vs = append(vs, cachedValue{rec: r, expires: now.Add(ttl)})
		size += recordBytes(&r)
	}
	if len(vs) == 0 || size > pathCacheBytes {
		return
	}
	for len(c.entries) >= c.max || c.bytes+size > pathCacheBytes {
		c.evictLocked()
	}
	c.entries[key] = vs
	c.bytes += size
}

// get returns the unexpired records kept under key, with TTLs counted
// from now, at most budget encoded bytes of them.
func (c *pathCache) get(key peer.ID, now time.Time, budget int) []msgenc.ValueRecord {
	if c.max == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []msgenc.ValueRecord
	for _, v := range c.entries[key] {
		size := len(v.rec.Value) + valueOverhead
		if !now.Before(v.expires) || size > budget {
			continue
		}
		budget -= size
		r := v.rec
		r.TTL = ttlLeft(v.expires, now)
		out = append(out, r)
	}
	if len(out) == 0 {
		c.dropLocked(key) // all expired, or none fits: make room
	}
	return out
}

// len returns the number of keys cached.
func (c *pathCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *pathCache) dropLocked(key peer.ID) {
	for _, v := range c.entries[key] {
		c.bytes -= recordBytes(&v.rec)
	}
	delete(c.entries, key)
}

// evictLocked drops the entry whose first value expires soonest, the
// expired ones first.
func (c *pathCache) evictLocked() {
	var victim peer.ID
	var soonest time.Time
	found := false
	for k, vs := range c.entries {
		if e := vs[0].expires; !found || e.Before(soonest) {
			victim, soonest, found = k, e, true
		}
	}
	if found {
		c.dropLocked(victim)
	}
}
