package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// maxRefreshPerRound bounds the bucket refreshes one maintenance round runs.
const maxRefreshPerRound = 16

// publishedSet holds the values this node published, signed as they were,
// to republish them verbatim.
type publishedSet struct {
	mu   sync.Mutex
	recs map[slotKey]*msgenc.ValueRecord
}

// slotKey names one slot under a key: the key and the publisher (empty for
// the immutable value).
type slotKey struct {
	key       peer.ID
	publisher string
}

func slotOf(v *trust.Value) slotKey { return slotKey{v.Key, string(v.Publisher)} }

func (p *publishedSet) init() { p.recs = make(map[slotKey]*msgenc.ValueRecord) }

func (p *publishedSet) add(v *trust.Value, r *msgenc.ValueRecord) {
	p.mu.Lock()
	p.recs[slotOf(v)] = r
	p.mu.Unlock()
}

func (p *publishedSet) has(s slotKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.recs[s]
	return ok
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

// The node's periodic work, each task at its own interval.
const (
	taskCheck     = iota // ping quiet peers (checkQuiet)
	taskRefresh          // refresh stale buckets (refreshRound)
	taskRepublish        // republish records (republish)
	taskSweep            // drop expired records, rebuild quotas
	numTasks
)

// taskInterval is how long task waits after it ran.
func (n *Node) taskInterval(task int) time.Duration {
	switch task {
	case taskCheck:
		return n.livenessInterval()
	case taskRefresh:
		return n.cfg.refresh
	case taskRepublish:
		return n.cfg.republish
	}
	return n.cfg.sweep
}

// runTask runs one periodic task.
func (n *Node) runTask(task int) {
	switch task {
	case taskCheck:
		n.checkQuiet(n.ctx)
	case taskRefresh:
		n.refreshRound(n.ctx)
	case taskRepublish:
		n.republish(n.ctx)
	case taskSweep:
		if removed, err := n.cfg.store.Sweep(n.ctx); err == nil && removed > 0 {
			n.cfg.logger.Debug("expired records dropped", "count", removed)
		}
		n.rebuildQuotas(n.ctx)
	}
}

// startMaintenance starts the periodic work. On a clock with AfterFunc (the
// system clock, clock.Manual) one timer waits for the task due first and
// a goroutine runs only while tasks run: an idle node keeps one goroutine,
// its receive loop, not two, and one timer, not four. On another clock a
// goroutine waits on the four timers (maintain).
func (n *Node) startMaintenance() {
	af, ok := n.cfg.clock.(clock.AfterFuncer)
	if !ok {
		n.goroutine(n.maintain)
		return
	}
	m := &maintTimer{n: n}
	now := n.cfg.clock.Now()
	for task := range numTasks {
		m.due[task] = now.Add(n.taskInterval(task))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.timer = af.AfterFunc(m.wait(now), m.fire)
	n.maint = m
}

// maintTimer runs the periodic work from one AfterFunc timer.
type maintTimer struct {
	n       *Node
	mu      sync.Mutex
	stopped bool // Close began: fire starts nothing more
	timer   clock.Timer
	// due is when each task runs next. Only fire reads and writes it
	// once the timer is armed, and fire runs once at a time: the timer is
	// armed again only when it ends.
	due [numTasks]time.Time
}

// wait is how long from now until the first task is due.
func (m *maintTimer) wait(now time.Time) time.Duration {
	first := m.due[0]
	for _, t := range m.due[1:] {
		if t.Before(first) {
			first = t
		}
	}
	return max(first.Sub(now), 0)
}

// fire runs the tasks that are due, each on the node's context, and arms
// the timer for the next. Close waits for it (the node's WaitGroup); the
// count is taken under mu, so that no fire starts once stop has run.
func (m *maintTimer) fire() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.n.wg.Add(1)
	m.mu.Unlock()
	defer m.n.wg.Done()
	n := m.n
	now := n.cfg.clock.Now()
	for task := range numTasks {
		if !now.Before(m.due[task]) && n.ctx.Err() == nil {
			n.runTask(task)
			m.due[task] = n.cfg.clock.Now().Add(n.taskInterval(task))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.stopped {
		m.timer.Reset(m.wait(n.cfg.clock.Now()))
	}
}

// stop keeps the timer from firing again; a fire under way ends with the
// node's context. Nil-safe: a node without the timer has nothing to stop.
func (m *maintTimer) stop() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	m.timer.Stop()
}

// maintain is the periodic work on a clock without AfterFunc: a goroutine
// waits on a timer per task.
func (n *Node) maintain() {
	c := n.cfg.clock
	var t [numTasks]clock.Timer
	for task := range numTasks {
		t[task] = c.NewTimer(n.taskInterval(task))
		defer t[task].Stop()
	}
	for {
		var task int
		select {
		case <-n.ctx.Done():
			return
		case <-t[taskCheck].C():
			task = taskCheck
		case <-t[taskRefresh].C():
			task = taskRefresh
		case <-t[taskRepublish].C():
			task = taskRepublish
		case <-t[taskSweep].C():
			task = taskSweep
		}
		n.runTask(task)
		t[task].Reset(n.taskInterval(task))
	}
}

// Refresh runs one round of table maintenance now, more thorough than the
// one the node runs every refresh interval: a policy that learns from the
// DHT (a web of trust) reads what it needs, peers it no longer accepts
// leave the table, and the node looks itself up and up to 16 ranges of the
// key space, whether due or not, meeting its peers again. Use it after
// changing trust, or to drive maintenance in tests.
func (n *Node) Refresh(ctx context.Context) error {
	if err := n.live(); err != nil {
		return err
	}
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	n.refreshPolicy(ctx, nil)
	if _, err := n.lookup(ctx, n.id, nil); err != nil && ctx.Err() == nil {
		n.cfg.logger.Debug("self lookup failed", "err", err)
	}
	n.refreshDue(ctx, 0)
	return ctxErr(ctx)
}

// refreshRound is the maintenance of every refresh interval.
func (n *Node) refreshRound(ctx context.Context) {
	n.refreshPolicy(ctx, nil)
	n.refreshBuckets(ctx)
	n.saveState()
}

// refreshBuckets looks up a random ID in every range of the key space that
// has seen no lookup for the refresh interval.
func (n *Node) refreshBuckets(ctx context.Context) { n.refreshDue(ctx, n.cfg.refresh) }

// joinLookup is a join's self lookup: lookup's, run once more if no peer
// answered, keeping the records it learned and did not ask for the fills
// that follow (fillBuckets).
func (n *Node) joinLookup(ctx context.Context) (lookupResult, []*msgenc.PeerRecord, error) {
	scan := &bucketFill{collect: true}
	res, err := n.lookupUntil(ctx, n.id, nil, nil, scan)
	if errors.Is(err, ErrNoAnswer) && ctx.Err() == nil {
		scan = &bucketFill{collect: true}
		again, err := n.lookupUntil(ctx, n.id, nil, nil, scan)
		again.rpcs += res.rpcs
		return again, scan.unasked, err
	}
	return res, scan.unasked, err
}

// fillBuckets is a joining node's refresh of the ranges its self lookup
// (whose answer was self) left empty. A range nearer the node than the
// farthest of the k closest peers self found is left as it is: any peer in
// it would be nearer still, so the self lookup met every one of them.
// Each other range gets a lookup of a random ID in it that ends as soon as
// alpha peers of the range have answered, starting from the peers of the
// range the self lookup learned (met) as well as from the table, so that
// its first requests already land in the range. Those peers enter the
// table and learn of the node; the range fills further as the network
// contacts it and at the periodic refreshes. A full lookup for each range
// would make a join cost more as the network grows and its tables get
// deeper.
func (n *Node) fillBuckets(ctx context.Context, self lookupResult, met []*msgenc.PeerRecord) {
	if len(self.closest) < n.cfg.k {
		return // fewer peers answered than k: the self lookup met them all
	}
	known := n.id.CommonPrefixLen(self.closest[len(self.closest)-1].ID) + 1
	due := n.table.DueForRefresh(n.cfg.clock.Now(), n.cfg.refresh)
	filled := 0
	for _, r := range due {
		if filled == maxRefreshPerRound || ctx.Err() != nil {
			return
		}
		n.rngMu.Lock()
		target := r.Random(n.rng)
		n.rngMu.Unlock()
		if target.IsZero() {
			continue
		}
		if r.Bits > known {
			n.table.Refreshed(target, n.cfg.clock.Now())
			continue
		}
		filled++
		var inRange []*msgenc.PeerRecord
		for _, w := range met {
			if id, err := peer.IDFromBytes(w.ID); err == nil && r.Contains(id) {
				inRange = append(inRange, w)
			}
		}
		if _, err := n.lookupUntil(ctx, target, nil, nil, &bucketFill{rng: r, want: n.cfg.alpha, met: inRange}); err == nil {
			n.table.Refreshed(target, n.cfg.clock.Now())
		}
	}
}

// refreshDue looks up a random ID in every range with no lookup for
// interval, at most maxRefreshPerRound of them.
func (n *Node) refreshDue(ctx context.Context, interval time.Duration) {
	due := n.table.DueForRefresh(n.cfg.clock.Now(), interval)
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
	direct := n.options([]CallOption{WithMode(Direct())})
	for _, r := range n.published.snapshot() {
		if _, err := n.putRecord(ctx, r, direct); err != nil && ctx.Err() == nil {
			n.cfg.logger.Debug("republish failed", "key", r.Key, "err", err)
		}
	}
	ranger, ok := n.cfg.store.(kvstore.Ranger)
	if !ok || n.cfg.client {
		return
	}
	now := n.cfg.clock.Now()
	byKey := make(map[peer.ID][]entry)
	_ = ranger.Range(ctx, func(key []byte, rec kvstore.Record) bool {
		id, err := n.keyID(key)
		if err != nil {
			return ctx.Err() == nil
		}
		es, err := decodeSet(id, rec.Value)
		if err != nil {
			n.cfg.logger.Warn("stored values unreadable", "key", id.Short(), "err", err)
			return ctx.Err() == nil
		}
		for _, e := range liveEntries(es, now) {
			if !n.published.has(slotOf(e.v)) {
				byKey[id] = append(byKey[id], e)
			}
		}
		return ctx.Err() == nil
	})
	for id, es := range byKey {
		if ctx.Err() != nil {
			return
		}
		res, err := n.lookup(ctx, id, nil)
		if err != nil {
			continue
		}
		for _, e := range es {
			// Verbatim, signature included, with what is left of its life
			// as it leaves: counted from the round's start, the lookup's
			// time would be added to its life at every round, and replicas
			// would keep it past its publisher's lifetime.
			now := n.cfg.clock.Now()
			if e.expired(now) {
				continue
			}
			rec := wireValue(e.v.Clone(), ttlLeft(e.expires, now))
			n.storeAt(ctx, res.closest, &rec, n.self, direct)
		}
	}
}

// refreshPolicy lets a policy that learns from the DHT read what it needs,
// then drops the table peers it no longer accepts, so that a revoked peer
// leaves within one refresh interval. seeds are asked besides the table
// and offered to the table afterwards.
func (n *Node) refreshPolicy(ctx context.Context, seeds []*peer.Record) {
	r, ok := n.cfg.policy.(trust.Refresher)
	if !ok {
		return
	}
	fetch := func(ctx context.Context, key peer.ID) ([]*trust.Value, error) {
		vq := &valueQuery{key: key, quorum: 1, seeds: seeds, raw: true}
		res, err := n.lookup(ctx, key, vq)
		if err != nil && len(res.values) == 0 {
			if errors.Is(err, ErrNoPeers) {
				return nil, nil
			}
			return nil, err
		}
		local := n.storedEntries(key)
		vals := res.values
		for _, e := range local {
			vals = append(vals, e.v.Clone())
		}
		return newestPerSlot(vals), nil
	}
	if err := r.Refresh(ctx, fetch); err != nil && ctx.Err() == nil {
		n.cfg.logger.Debug("policy refresh failed", "err", err)
	}
	for _, p := range n.table.Closest(n.id, n.table.Len()) {
		if n.cfg.policy.AcceptPeer(p) != nil {
			n.table.Remove(p.ID)
		}
	}
	for _, s := range seeds {
		n.sawPeer(s)
	}
}

// livenessInterval is how long a table peer may stay silent before it is
// questioned: a quarter of the refresh interval (15 minutes by default, as
// BEP 5 has it).
func (n *Node) livenessInterval() time.Duration { return max(n.cfg.refresh/4, time.Second) }

// maxLivenessPings bounds the pings one liveness round sends.
const maxLivenessPings = 64

// checkQuiet keeps the table honest: every peer not heard from for the
// liveness interval is pinged, a few at a time, and dropped if it does not
// answer (BEP 5's good, questionable and bad). Lookups then hand out only
// peers believed alive.
func (n *Node) checkQuiet(ctx context.Context) {
	since := n.cfg.clock.Now().Add(-n.livenessInterval())
	var quiet []*peer.Record
	for _, p := range n.table.Closest(n.id, n.table.Len()) {
		if len(quiet) == maxLivenessPings {
			break
		}
		if n.health.quiet(p.ID, since) {
			quiet = append(quiet, p)
		}
	}
	var wg sync.WaitGroup
	limit := make(chan struct{}, 8)
	for _, p := range quiet {
		wg.Go(func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			_, err := n.call(ctx, contactOf(p), &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
			if err != nil && ctx.Err() == nil && n.table.Remove(p.ID) {
				n.cfg.logger.Debug("silent peer dropped", "peer", p.ID.Short(), "err", err)
			}
		})
	}
	wg.Wait()
}
