package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// Quotas bounds what the node's store holds for others, whatever the store
// (memory, bbolt or another). Each value is charged, by its size with its
// metadata, to the total and to one account: its publisher's when it is
// signed (plain and mutable values: the signature proves who made it), the
// address prefix (IPv4 /24, IPv6 /64) that stored it when it is not
// (immutable values). ValuesPerKey bounds the values under one key.
//
// A store that would take an account or the total over its quota is
// refused with msgenc.CodeQuota (ErrQuota), never acknowledged. When the
// total is full the node refuses new values and keeps what it holds: the
// values it holds expire unless republished, and the space they held is
// given back at the next sweep. Replacing a value with a newer version, or
// republishing it, needs only the room it adds.
//
// The accounts are kept in memory and rebuilt from the store when the node
// starts and after every sweep, if the store implements kvstore.Ranger (the
// built-in ones do): a node restarted on a durable store keeps its total
// and its publishers' accounts. Which prefix stored an immutable value is
// not kept in the store, so after a restart the values already held count
// only in the total.
type Quotas struct {
	// TotalBytes bounds all values held. Default: DefaultTotalBytes.
	TotalBytes int64
	// PublisherBytes and PublisherValues bound one publisher's values.
	// Defaults: DefaultPublisherBytes, DefaultPublisherValues.
	PublisherBytes  int64
	PublisherValues int
	// SourceBytes and SourceValues bound the unsigned values stored from
	// one address prefix. Defaults: DefaultSourceBytes, DefaultSourceValues.
	SourceBytes  int64
	SourceValues int
}

// Quota defaults, for a small machine: 256 MiB in all, half of it per
// publisher or source prefix, so that one machine may share a file of a
// few hundred MiB over a handful of nodes (examples/filemanager) but no
// one source may fill a node.
const (
	DefaultTotalBytes      = 256 << 20
	DefaultPublisherBytes  = 128 << 20
	DefaultPublisherValues = 65536
	DefaultSourceBytes     = 128 << 20
	DefaultSourceValues    = 65536
)

// NoQuota, for any field of Quotas, removes that bound.
const NoQuota = -1

// Quotas sets the storage quotas. Zero fields take their defaults; NoQuota
// removes a bound. Default: every field's default.
func (b *Builder) Quotas(q Quotas) *Builder { b.cfg.quotas = q; return b }

// check fills the defaults of q and reports what is wrong with it.
func (q *Quotas) check() []error {
	var errs []error
	fill := func(name string, v *int64, def int64) {
		switch {
		case *v == 0:
			*v = def
		case *v == NoQuota:
		case *v < 0:
			errs = append(errs, fmt.Errorf("%w: %s quota must be positive or NoQuota, got %d", ErrConfig, name, *v))
		}
	}
	pv, sv := int64(q.PublisherValues), int64(q.SourceValues)
	fill("total bytes", &q.TotalBytes, DefaultTotalBytes)
	fill("publisher bytes", &q.PublisherBytes, DefaultPublisherBytes)
	fill("publisher values", &pv, DefaultPublisherValues)
	fill("source bytes", &q.SourceBytes, DefaultSourceBytes)
	fill("source values", &sv, DefaultSourceValues)
	q.PublisherValues, q.SourceValues = int(pv), int(sv)
	return errs
}

// entrySize is what a value costs: its bytes, its metadata, and the key
// and framing the store keeps beside it.
func entrySize(v *trust.Value) int64 {
	return int64(len(v.Value)+len(v.Publisher)+len(v.Salt)+len(v.Signature)) + entryFixedCost
}

// entryFixedCost is the key, expiry, sequence number and lengths of an
// entry in a value set, and the store's key.
const entryFixedCost = 2*msgenc.MaxKeySize + 32

// usage is one account's holdings.
type usage struct {
	bytes  int64
	values int
}

// quotaBook keeps the accounts. Its maps hold only accounts with values,
// so they are bounded by what the total quota lets the store hold.
type quotaBook struct {
	q      Quotas
	mu     sync.Mutex
	total  int64
	pubs   map[string]usage
	srcs   map[string]usage
	owners map[peer.ID]string // the prefix charged for the immutable value under a key
}

func newQuotaBook(q Quotas) *quotaBook {
	return &quotaBook{q: q, pubs: make(map[string]usage), srcs: make(map[string]usage), owners: make(map[peer.ID]string)}
}

// charge is one change to one account.
type charge struct {
	pub    bool
	name   string
	bytes  int64
	values int
}

// apply charges the change of key's values from old to new, the new ones
// stored by src (a prefix, "" when unknown), if no account and not the
// total go over quota; otherwise it changes nothing and says why.
func (b *quotaBook) apply(key peer.ID, old, new []entry, src string) *RemoteError {
	var cs [8]charge
	changes := cs[:0]
	add := func(pub bool, name string, bytes int64, values int) {
		for i := range changes {
			if changes[i].pub == pub && changes[i].name == name {
				changes[i].bytes += bytes
				changes[i].values += values
				return
			}
		}
		changes = append(changes, charge{pub, name, bytes, values})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	owner, hadImm := b.owners[key]
	var total int64
	newOwner, hasImm := "", false
	for _, e := range old {
		s := entrySize(e.v)
		total -= s
		if e.v.Kind == trust.Immutable {
			if hadImm && owner != "" {
				add(false, owner, -s, -1)
			}
			continue
		}
		add(true, string(e.v.Publisher), -s, -1)
	}
	for _, e := range new {
		s := entrySize(e.v)
		total += s
		if e.v.Kind == trust.Immutable {
			hasImm = true
			newOwner = src
			if hadImm {
				newOwner = owner // a republish does not move the charge
			}
			if newOwner != "" {
				add(false, newOwner, s, 1)
			}
			continue
		}
		add(true, string(e.v.Publisher), s, 1)
	}
	if total > 0 && b.q.TotalBytes != NoQuota && b.total+total > b.q.TotalBytes {
		return refusal(msgenc.CodeQuota, 0, "store full: %d of %d bytes held", b.total, b.q.TotalBytes)
	}
	for _, c := range changes {
		m, maxBytes, maxValues, what := b.srcs, b.q.SourceBytes, int64(b.q.SourceValues), "source"
		if c.pub {
			m, maxBytes, maxValues, what = b.pubs, b.q.PublisherBytes, int64(b.q.PublisherValues), "publisher"
		}
		u := m[c.name]
		if c.bytes > 0 && maxBytes != NoQuota && u.bytes+c.bytes > maxBytes {
			return refusal(msgenc.CodeQuota, 0, "%s holds %d of %d bytes", what, u.bytes, maxBytes)
		}
		if c.values > 0 && maxValues != NoQuota && int64(u.values+c.values) > maxValues {
			return refusal(msgenc.CodeQuota, 0, "%s holds %d of %d values", what, u.values, maxValues)
		}
	}
	b.total += total
	for _, c := range changes {
		m := b.srcs
		if c.pub {
			m = b.pubs
		}
		u := m[c.name]
		u.bytes += c.bytes
		u.values += c.values
		if u.values <= 0 {
			delete(m, c.name)
		} else {
			m[c.name] = u
		}
	}
	switch {
	case hasImm && newOwner != "":
		b.owners[key] = newOwner
	case hasImm && hadImm:
	default:
		delete(b.owners, key)
	}
	return nil
}

// usageOf returns the total and the accounts of a publisher and a source,
// for tests and Stats.
func (b *quotaBook) usageOf(pub, src string) (total int64, p, s usage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total, b.pubs[pub], b.srcs[src]
}

// rebuildQuotas recomputes the accounts from what the store holds, when it
// can be walked: at start, the values a durable store kept; after a sweep,
// without the values that expired. Stores made while it walks may be
// counted twice or not at all until the next rebuild.
func (n *Node) rebuildQuotas(ctx context.Context) {
	r, ok := n.cfg.store.(kvstore.Ranger)
	if !ok {
		return
	}
	now := n.cfg.clock.Now()
	var total int64
	pubs := make(map[string]usage)
	imm := make(map[peer.ID]int64)
	err := r.Range(ctx, func(key []byte, rec kvstore.Record) bool {
		id, err := n.keyID(key)
		if err != nil {
			return true // not a value set: the node's own bookkeeping
		}
		es, err := decodeSet(id, rec.Value)
		if err != nil {
			return true
		}
		for _, e := range liveEntries(es, now) {
			s := entrySize(e.v)
			total += s
			if e.v.Kind == trust.Immutable {
				imm[id] = s
				continue
			}
			u := pubs[string(e.v.Publisher)]
			u.bytes += s
			u.values++
			pubs[string(e.v.Publisher)] = u
		}
		return true
	})
	if err != nil {
		if ctx.Err() == nil {
			n.cfg.logger.Warn("quota accounts not rebuilt", "err", err)
		}
		return
	}
	b := n.quotas
	b.mu.Lock()
	defer b.mu.Unlock()
	srcs := make(map[string]usage)
	for id, owner := range b.owners {
		s, ok := imm[id]
		if !ok {
			delete(b.owners, id)
			continue
		}
		u := srcs[owner]
		u.bytes += s
		u.values++
		srcs[owner] = u
	}
	b.total, b.pubs, b.srcs = total, pubs, srcs
}
