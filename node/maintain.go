package node

import (
	"context"
	"sync"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
)

// maxRefreshPerRound bounds the bucket refreshes one maintenance round runs.
const maxRefreshPerRound = 16

// publishedSet holds the values this node published, to republish them.
type publishedSet struct {
	mu   sync.Mutex
	recs map[peer.ID]*msgenc.ValueRecord
}

func (p *publishedSet) init() { p.recs = make(map[peer.ID]*msgenc.ValueRecord) }

func (p *publishedSet) add(id peer.ID, r *msgenc.ValueRecord) {
	p.mu.Lock()
	p.recs[id] = r
	p.mu.Unlock()
}

func (p *publishedSet) snapshot() []*msgenc.ValueRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*msgenc.ValueRecord, 0, len(p.recs))
	for _, r := range p.recs {
		out = append(out, r)
	}
	return out
}

// maintain runs the periodic work on the node's clock: refresh stale
// buckets, republish records, drop expired ones.
func (n *Node) maintain() {
	c := n.cfg.clock
	refresh := c.NewTimer(n.cfg.refresh)
	republish := c.NewTimer(n.cfg.republish)
	sweep := c.NewTimer(n.cfg.sweep)
	defer refresh.Stop()
	defer republish.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-refresh.C():
			n.refreshBuckets(n.ctx)
			refresh.Reset(n.cfg.refresh)
		case <-republish.C():
			n.republish(n.ctx)
			republish.Reset(n.cfg.republish)
		case <-sweep.C():
			if removed, err := n.cfg.store.Sweep(n.ctx); err == nil && removed > 0 {
				n.cfg.logger.Debug("expired records dropped", "count", removed)
			}
			sweep.Reset(n.cfg.sweep)
		}
	}
}

// refreshBuckets looks up a random ID in every range of the key space that
// has seen no lookup for the refresh interval.
func (n *Node) refreshBuckets(ctx context.Context) {
	due := n.table.DueForRefresh(n.cfg.clock.Now(), n.cfg.refresh)
	for i, r := range due {
		if i == maxRefreshPerRound || ctx.Err() != nil {
			return
		}
		n.rngMu.Lock()
		target := r.Random(n.rng)
		n.rngMu.Unlock()
		if target.IsZero() {
			continue
		}
		if _, err := n.lookup(ctx, target, nil); err == nil {
			n.table.Refreshed(target, n.cfg.clock.Now())
		}
	}
}

// republish stores again, at the k closest peers of today's network, the
// values this node published (with a fresh lifetime) and the replicas it
// holds for others (with what is left of theirs), so that values outlive
// the peers that held them.
func (n *Node) republish(ctx context.Context) {
	mine := make(map[string]bool)
	direct := callOptions{mode: &Mode{}}
	for _, r := range n.published.snapshot() {
		mine[string(r.Key)] = true
		if _, err := n.putRecord(ctx, r, direct); err != nil && ctx.Err() == nil {
			n.cfg.logger.Debug("republish failed", "key", r.Key, "err", err)
		}
	}
	ranger, ok := n.cfg.store.(kvstore.Ranger)
	if !ok || n.cfg.client {
		return
	}
	now := n.cfg.clock.Now()
	var replicas []*msgenc.ValueRecord
	_ = ranger.Range(ctx, func(key []byte, rec kvstore.Record) bool {
		id, err := n.keyID(key)
		if err == nil && !mine[string(key)] {
			replicas = append(replicas, toWireValue(id, rec, now))
		}
		return ctx.Err() == nil
	})
	for _, r := range replicas {
		if ctx.Err() != nil {
			return
		}
		id, _ := n.keyID(r.Key)
		res, err := n.lookup(ctx, id, nil)
		if err != nil {
			continue
		}
		n.storeAt(ctx, res.closest, r)
	}
}
