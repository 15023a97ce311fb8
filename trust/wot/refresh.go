package wot

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// maxValuesPerFetch bounds the values Refresh reads from one fetch. Values
// whose publishers stand highest are read first, so a flood of sybil
// endorsements cannot push a real one out.
const maxValuesPerFetch = 4 * MaxEndorsements

// Refresh fetches the endorsements of the peers that need them and derives
// every level again. It implements trust.Refresher.
//
// It fetches, at most FetchesPerRefresh times, in this order: the peers
// above level 0 whose endorsements are older than CacheTTL, oldest first;
// the peers the gates queued; the endorsers named by what it fetched that it
// does not know yet, so that chains of endorsements converge within one
// Refresh when the budget allows and over a few when it does not; last, the
// stale peers at level 0. Roots are never fetched. Peers the budget or ctx
// leaves unreached stay queued (or stale) for the next Refresh. Each fetched
// value must parse as an endorsement of the peer fetched for; others are
// discarded and counted. Levels are then derived anew at the clock's time, so an expired endorsement stops counting
// at the first Refresh after its expiry, and a revocation at the first
// Refresh after its endorsee's CacheTTL.
//
// fetch should return every endorsement stored under the key, not filter
// them through this policy's AcceptValue: an endorser is often resolved in
// the same Refresh as the peer it endorses.
//
// Refresh returns ctx's error if ctx ended first, and otherwise an error if
// any fetch failed; what it learned is kept either way.
func (p *Policy) Refresh(ctx context.Context, fetch trust.Fetcher) error {
	if fetch == nil {
		return errors.New("wot: refresh: no fetcher")
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	now := p.cfg.clock.Now()

	// Two work lists. First: the stale peers that stand above 0 (whose
	// revocations matter most), oldest first, then the queue, then the
	// endorsers learned along the way. Last: the stale peers at level 0.
	var first, last []peer.ID
	for id, e := range p.cache {
		if now.Sub(e.fetched) < p.cfg.cacheTTL {
			continue
		}
		if e.level > 0 {
			first = append(first, id)
		} else {
			last = append(last, id)
		}
	}
	oldest := func(a, b peer.ID) int {
		return cmp.Or(p.cache[a].fetched.Compare(p.cache[b].fetched), peer.Compare(a, b))
	}
	slices.SortFunc(first, oldest)
	slices.SortFunc(last, oldest)
	seen := make(map[peer.ID]struct{}, len(first)+len(last))
	for _, id := range slices.Concat(first, last) {
		seen[id] = struct{}{}
	}
	p.pmu.Lock()
	for _, id := range p.pending {
		if _, ok := seen[id]; ok {
			continue
		}
		if _, fresh := p.cache[id]; fresh {
			continue // queued by a gate that read the levels just before they changed
		}
		first = append(first, id)
		seen[id] = struct{}{}
	}
	p.pmu.Unlock()

	var (
		fetched, failed int
		firstErr        error
		ctxErr          error
		done            = make(map[peer.ID]struct{}) // resolved by this Refresh
		left            []peer.ID                    // not reached, or failed
	)
	for len(first)+len(last) > 0 {
		if fetched >= p.cfg.fetchesPerRefresh {
			break
		}
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		var id peer.ID
		if len(first) > 0 {
			id, first = first[0], first[1:]
		} else {
			id, last = last[0], last[1:]
		}
		fetched++
		vals, err := fetch(ctx, EndorsementKey(p.cfg.hasher, id))
		if err != nil {
			left = append(left, id)
			if ctxErr = ctx.Err(); ctxErr != nil {
				break
			}
			failed++
			p.stats.fetchErrors.Add(1)
			if firstErr == nil {
				firstErr = fmt.Errorf("wot: refresh: fetch endorsements of %s: %w", id.Short(), err)
			}
			continue
		}
		done[id] = struct{}{}
		for _, endorser := range p.learn(id, vals, now) {
			if _, root := p.cfg.roots[endorser]; root {
				continue
			}
			if _, ok := seen[endorser]; ok {
				continue
			}
			if _, cached := p.cache[endorser]; cached {
				continue // fresh: known already
			}
			first = append(first, endorser)
			seen[endorser] = struct{}{}
		}
	}
	left = append(left, first...)

	p.derive(now)
	p.evict(now)
	p.publish()
	p.requeue(done, left)

	p.cfg.logger.Debug("wot: refresh", slog.Int("fetched", fetched), slog.Int("failed", failed),
		slog.Int("known", len(p.cache)), slog.Int("left", len(left)))
	switch {
	case ctxErr != nil:
		return fmt.Errorf("wot: refresh: %w", ctxErr)
	case firstErr != nil && failed > 1:
		return fmt.Errorf("%w (and %d more failed fetches)", firstErr, failed-1)
	}
	return firstErr
}

// learn merges the endorsements fetched for id into its entry and returns
// the endorsers of those that count now, highest level first.
func (p *Policy) learn(id peer.ID, vals []*trust.Value, now time.Time) []peer.ID {
	h := p.cfg.hasher
	// Read the values whose publishers stand highest first, and no more
	// than maxValuesPerFetch of them.
	if len(vals) > 1 {
		type ranked struct {
			v     *trust.Value
			level int
		}
		rs := make([]ranked, len(vals))
		for i, v := range vals {
			rs[i] = ranked{v, -1}
			if v != nil && len(v.Publisher) != 0 {
				rs[i].level, _ = p.lookup(peer.IDFromPublicKey(h, v.Publisher))
			}
		}
		slices.SortStableFunc(rs, func(a, b ranked) int { return cmp.Compare(b.level, a.level) })
		vals = make([]*trust.Value, len(rs))
		for i, r := range rs {
			vals[i] = r.v
		}
	}
	if len(vals) > maxValuesPerFetch {
		p.stats.excess.Add(uint64(len(vals) - maxValuesPerFetch))
		vals = vals[:maxValuesPerFetch]
	}

	e := p.cache[id]
	if e == nil {
		e = &entry{by: make(map[peer.ID]Endorsement)}
		p.cache[id] = e
	}
	for _, v := range vals {
		if v != nil && len(v.Publisher) == ed25519.PublicKeySize {
			// What cannot replace the version held is not worth verifying
			// again: this keeps a Refresh of known peers cheap.
			if old, ok := e.by[peer.IDFromPublicKey(h, v.Publisher)]; ok && old.Seq >= v.Seq {
				continue
			}
		}
		en, err := ParseEndorsement(h, v)
		if err == nil && en.Endorsee != id {
			err = fmt.Errorf("%w: an endorsement of %s fetched for %s", ErrBadEndorsement, en.Endorsee.Short(), id.Short())
		}
		if err != nil {
			p.stats.bad.Add(1)
			p.cfg.logger.Debug("wot: discarded a bad endorsement", slog.String("endorsee", id.Short()), slog.Any("err", err))
			continue
		}
		e.by[en.EndorserID(h)] = en
	}
	if over := len(e.by) - MaxEndorsements; over > 0 {
		// Keep the endorsements whose endorsers stand highest, then the
		// newest; drop the rest.
		ids := make([]peer.ID, 0, len(e.by))
		for by := range e.by {
			ids = append(ids, by)
		}
		slices.SortFunc(ids, func(a, b peer.ID) int {
			la, _ := p.lookup(a)
			lb, _ := p.lookup(b)
			return cmp.Or(cmp.Compare(la, lb), cmp.Compare(e.by[a].Seq, e.by[b].Seq), peer.Compare(a, b))
		})
		for _, by := range ids[:over] {
			delete(e.by, by)
		}
		p.stats.excess.Add(uint64(over))
	}
	e.fetched = now
	p.stats.resolved.Add(1)

	var endorsers []peer.ID
	for by, en := range e.by {
		if en.Level > 0 && !en.Expired(now) {
			endorsers = append(endorsers, by)
		}
	}
	slices.SortFunc(endorsers, func(a, b peer.ID) int {
		return cmp.Or(cmp.Compare(e.by[b].Level, e.by[a].Level), peer.Compare(a, b))
	})
	return endorsers
}

// derive recomputes the level of every cached peer at now.
func (p *Policy) derive(now time.Time) {
	vouches := make(map[peer.ID][]vouch, len(p.cache))
	for id, e := range p.cache {
		for by, en := range e.by {
			if en.Level > 0 && !en.Expired(now) {
				vouches[id] = append(vouches[id], vouch{by: by, level: en.Level})
			}
		}
	}
	levels := derive(p.cfg.roots, p.cfg.maxLevel, p.cfg.threshold, vouches)
	for id, e := range p.cache {
		e.level = levels[id]
	}
}

// evict drops the lowest-level, longest-resolved peers until the cache fits
// MaxCache; if any of them stood above 0, the levels they supported are
// derived again.
func (p *Policy) evict(now time.Time) {
	over := len(p.cache) - p.cfg.maxCache
	if over <= 0 {
		return
	}
	ids := make([]peer.ID, 0, len(p.cache))
	for id := range p.cache {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b peer.ID) int {
		ea, eb := p.cache[a], p.cache[b]
		return cmp.Or(cmp.Compare(ea.level, eb.level), ea.fetched.Compare(eb.fetched), peer.Compare(a, b))
	})
	again := false
	for _, id := range ids[:over] {
		again = again || p.cache[id].level > 0
		delete(p.cache, id)
	}
	p.stats.evicted.Add(uint64(over))
	if again {
		p.derive(now)
	}
}

// publish replaces the table the gates read.
func (p *Policy) publish() {
	levels := make(map[peer.ID]int, len(p.cache))
	for id, e := range p.cache {
		levels[id] = e.level
	}
	p.levels.Store(&levels)
}

// requeue rebuilds the queue: peers resolved by this Refresh or known leave
// it (one resolved and then evicted is queued again only when a gate meets
// it again), and left (peers this Refresh did not reach) join it, as far as
// MaxPending allows.
func (p *Policy) requeue(done map[peer.ID]struct{}, left []peer.ID) {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	kept := p.pending[:0]
	for _, id := range p.pending {
		_, resolved := p.cache[id]
		if _, fetched := done[id]; resolved || fetched {
			delete(p.queued, id)
			continue
		}
		kept = append(kept, id)
	}
	clear(p.pending[len(kept):])
	p.pending = kept
	for _, id := range left {
		if _, resolved := p.cache[id]; resolved {
			continue // a stale entry not refreshed this time: still known
		}
		if _, ok := p.queued[id]; ok {
			continue
		}
		if len(p.pending) >= p.cfg.maxPending {
			p.stats.dropped.Add(1)
			continue
		}
		p.pending = append(p.pending, id)
		p.queued[id] = struct{}{}
	}
}
