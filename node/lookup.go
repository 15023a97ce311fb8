package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/trust"
)

// lookupResult is what an iterative lookup found.
type lookupResult struct {
	// closest are the peers that answered, closest to the target first, at
	// most k.
	closest []*peer.Record
	// values are the verified values found, from answers replicas.
	values  []*trust.Value
	answers int
	rpcs    int
	hops    int
	// why says what happened at the peers that did not answer.
	why lookupFailures
}

// valueQuery asks a lookup for the values under key. It stops once quorum
// replicas have answered with values that verify and that keep accepts.
type valueQuery struct {
	key    peer.ID
	quorum int
	keep   func(*trust.Value) bool
	// seeds are asked besides the table's peers: the bootstrap peers of
	// a node whose policy has not admitted anyone yet.
	seeds []*peer.Record
	// raw keeps signed values the policy would refuse: for a policy
	// fetching what it will judge itself.
	raw bool
	// retryDown asks the peers that failed lately too: for a last resort,
	// when skipping them would mean answering that nothing was found.
	retryDown bool
	// unresolved are values the policy could not judge yet.
	unresolved []*trust.Value
}

type candState uint8

const (
	candNew candState = iota
	candAsking
	candSlow // asked, past its adaptive timeout: no longer holds a slot
	candAnswered
	candFailed
)

// candidate is a peer a lookup may ask. One learned from an answer arrives
// unverified (w set, rec nil) and is verified only when it is about to be
// asked: a lookup asks a dozen or so of the thirty-odd peers it learns, and
// a record's signature check is most of what a lookup costs. The check
// runs in the goroutine that asks (see ask), and nothing is sent before
// it passes; the loop sets rec when that goroutine reports back, and a
// candidate is never part of the result before rec is set.
type candidate struct {
	id    peer.ID
	rec   *peer.Record         // verified; nil until then
	w     *msgenc.PeerRecord   // the wire form, until verified
	alts  []*msgenc.PeerRecord // other records claiming the same ID
	state candState
	depth int       // hops from the originator: 1 for peers from its own table
	due   time.Time // when an asked candidate stops holding its slot
}

// maxAlternates bounds the other records a lookup keeps for a peer it has
// not verified yet, and so the signature checks one peer can cost it.
const maxAlternates = 2

// sameWire reports whether a and b are the same record, byte for byte.
func sameWire(a, b *msgenc.PeerRecord) bool {
	return a.Seq == b.Seq && bytes.Equal(a.ID, b.ID) && bytes.Equal(a.PublicKey, b.PublicKey) &&
		bytes.Equal(a.Signature, b.Signature) && slices.EqualFunc(a.Addrs, b.Addrs, bytes.Equal)
}

type lookupAnswer struct {
	c   *candidate
	rec *peer.Record // c's verified record; nil if it did not verify
	rep reply
	err error
}

// askJob is one request of a lookup: verify c's record if it was learned
// (rec is nil), send msg to it, and hand the answer to the lookup.
type askJob struct {
	n       *Node
	c       *candidate
	rec     *peer.Record
	w       *msgenc.PeerRecord
	alts    []*msgenc.PeerRecord
	msg     *msgenc.Message
	answers chan<- lookupAnswer
}

// run does j under ctx, the lookup's.
func (j askJob) run(ctx context.Context) {
	a := lookupAnswer{c: j.c, rec: j.rec}
	if j.rec == nil {
		a.rec = j.n.verifyCandidate(j.c.id, j.w, j.alts)
	}
	if a.rec == nil {
		a.err = errUnverified
	} else {
		m := *j.msg
		a.rep, a.err = j.n.call(ctx, contactOf(a.rec), &m)
	}
	select {
	case j.answers <- a:
	case <-ctx.Done(): // the lookup is over
	}
}

// askers are a lookup's request goroutines. A job goes to one that waits
// for work, or else to a new one; each waits for the next job until the
// lookup's ctx ends. A lookup has as many as it had requests in flight at
// once: alpha, and one more for each request that turned slow.
type askers struct {
	ctx  context.Context
	work chan askJob // unbuffered: a send succeeds only to a waiting goroutine
}

func (a *askers) do(j askJob) {
	select {
	case a.work <- j:
	default:
		go a.serve(j)
	}
}

func (a *askers) serve(j askJob) {
	for {
		j.run(a.ctx)
		select {
		case j = <-a.work:
		case <-a.ctx.Done():
			return
		}
	}
}

// errUnverified is a lookup answer's error for a candidate that was not
// asked: none of its records verified.
var errUnverified = errors.New("node: no record of the peer verified")

// verifyCandidate returns the first of a learned candidate's records, w
// then its alternates, that verifies as id's; nil if none does.
func (n *Node) verifyCandidate(id peer.ID, w *msgenc.PeerRecord, alts []*msgenc.PeerRecord) *peer.Record {
	for i := -1; i < len(alts); i++ {
		if i >= 0 {
			w = alts[i]
		}
		r, err := n.verifyRecord(w, checkLearned)
		if err != nil || r.ID != id {
			n.stats.drop(DropBadRecord)
			continue
		}
		return r
	}
	return nil
}

// lookup runs an iterative (direct-mode) lookup for target: alpha requests in
// flight, each answer naming closer peers, until the k closest peers that
// answered are known. A request that outlives its peer's adaptive timeout
// gives its slot to the next candidate, and its answer is still used if it
// comes; peers that failed, or that failed recently, never hold a lookup
// open. With vq set it asks for values and stops once vq.quorum peers
// returned values that verify; a peer whose values do not verify counts as
// one that has none.
//
// A lookup that no peer answered at all runs once more: a one-shot client
// starts from its bootstrap peer alone, and over a lossy link a request and
// its resend may both be lost.
func (n *Node) lookup(ctx context.Context, target peer.ID, vq *valueQuery) (lookupResult, error) {
	res, err := n.lookupOnce(ctx, target, vq, nil)
	if errors.Is(err, ErrNoAnswer) && ctx.Err() == nil {
		again, err := n.lookupOnce(ctx, target, vq, nil)
		again.rpcs += res.rpcs
		return again, err
	}
	return res, err
}

// lookupOnce is one run of lookup; with lp, one path of a disjoint lookup
// (lookup_disjoint.go), which starts from its own seeds and asks only the
// peers no other path met first.
func (n *Node) lookupOnce(ctx context.Context, target peer.ID, vq *valueQuery, lp *lookupPath) (lookupResult, error) {
	return n.lookupUntil(ctx, target, vq, lp, nil)
}

// bucketFill shapes the lookups of a join. With want set it ends a lookup
// once want peers within rng have answered: a joining node needs a few live
// peers in each range of the key space to route through, not the k closest
// to a random point in it, which would cost a full lookup for each range.
type bucketFill struct {
	rng      route.Range
	want     int
	answered int
	// met are records, not verified yet, of peers an earlier lookup of the
	// join learned and did not ask: they join the candidates, and like
	// any learned peer are verified only if they are to be asked.
	met []*msgenc.PeerRecord
	// asking counts requests in flight, not yet slow, to peers within
	// rng: no more are sent than could make up want. outside counts those
	// to other peers: while the fill knows no peer of its range it asks
	// one at a time, as one answer from near the range names many in it.
	asking, outside int
	// collect keeps, in unasked, the learned records the lookup did not
	// ask, for the fills that follow it.
	collect bool
	unasked []*msgenc.PeerRecord
}

func (f *bucketFill) done() bool { return f != nil && f.want > 0 && f.answered >= f.want }

// covered reports whether the answers in hand and the requests in flight
// within rng would make up want: then asking more would only cost
// requests the lookup does not wait for.
func (f *bucketFill) covered() bool {
	return f != nil && f.want > 0 && f.answered+f.asking >= f.want
}

// asked notes a request to id going out (+1) or coming to an end (-1).
func (f *bucketFill) asked(id peer.ID, d int) {
	switch {
	case f == nil || f.want == 0:
	case f.rng.Contains(id):
		f.asking += d
	default:
		f.outside += d
	}
}

// holds reports whether a request to id, the closest candidate left, must
// wait: id is outside the range (so no peer of the range is known) and a
// request to another such peer is in flight.
func (f *bucketFill) holds(id peer.ID) bool {
	return f != nil && f.want > 0 && f.outside > 0 && !f.rng.Contains(id)
}

// lookupUntil is lookupOnce that also ends when fill, if set, is done.
func (n *Node) lookupUntil(ctx context.Context, target peer.ID, vq *valueQuery, lp *lookupPath, fill *bucketFill) (lookupResult, error) {
	var res lookupResult
	seeds := n.seedsFor(target, n.cfg.k)
	if vq != nil {
		seeds = append(seeds, vq.seeds...)
	}
	if lp != nil {
		seeds = lp.seeds
	}
	if len(seeds) == 0 {
		return res, ErrNoPeers
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	now := n.cfg.clock.Now()
	seen := make(map[peer.ID]*candidate, 4*n.cfg.k)
	var cands []*candidate
	var why lookupFailures
	add := func(c *candidate) {
		if old, ok := seen[c.id]; ok {
			// Another record for a peer not verified yet: keep a few
			// as alternates, so that a forged record sent first cannot
			// hide the genuine one.
			if old != nil && old.rec == nil && old.state == candNew && len(old.alts) < maxAlternates && !slices.ContainsFunc(old.alts, func(w *msgenc.PeerRecord) bool { return sameWire(w, c.w) }) && !sameWire(old.w, c.w) {
				old.alts = append(old.alts, c.w)
			}
			return
		}
		if lp != nil {
			// A disjoint path claims a peer on meeting it: verify it
			// first, so that a forged record cannot claim a genuine
			// peer away from the other paths.
			if c.rec == nil {
				r, err := n.verifyRecord(c.w, checkPath)
				if err != nil || r.ID != c.id {
					n.stats.drop(DropBadRecord)
					return
				}
				c.rec, c.w = r, nil
			}
			seen[c.id] = nil
			if !lp.claim(c.id) {
				return // another path's
			}
		}
		seen[c.id] = c
		if c.id != target && n.health.down(c.id, now) && (vq == nil || !vq.retryDown) {
			// Failed moments ago: do not wait on it again. The peer
			// sought is still asked: only it can say it is back.
			c.state = candFailed
			why.skipped++
		}
		i, _ := slices.BinarySearchFunc(cands, c.id, func(c *candidate, id peer.ID) int {
			return peer.CompareDistance(target, c.id, id)
		})
		cands = slices.Insert(cands, i, c)
	}
	for _, r := range seeds {
		if !n.isSelf(r) {
			add(&candidate{id: r.ID, rec: r, depth: 1})
		}
	}
	if fill != nil {
		for _, w := range fill.met {
			if id, err := peer.IDFromBytes(w.ID); err == nil && id.Len() == n.id.Len() && id != n.id {
				add(&candidate{id: id, w: w, depth: 2})
			}
		}
	}
	answers := make(chan lookupAnswer, n.cfg.alpha)
	inflight, pending := 0, 0 // holding a slot; all outstanding
	msg := &msgenc.Message{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: target.Bytes()}}
	if vq != nil {
		msg = &msgenc.Message{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: vq.key.Bytes()}}
	}
	// ask sends the request to c from a goroutine of the lookup's own,
	// which first verifies c's record if it was learned from an answer:
	// the check is most of what asking a new peer costs, and there it
	// runs beside the other requests in flight instead of holding up the
	// loop. Nothing is sent to a peer whose record does not verify. The
	// goroutines serve one request after another until the lookup ends
	// (askers): a signature check needs a deep stack, and a goroutine
	// per request grew one for every request.
	asks := askers{ctx: ctx, work: make(chan askJob)}
	ask := func(c *candidate) {
		c.state = candAsking
		c.due = n.cfg.clock.Now().Add(n.health.timeout(c.id))
		inflight++
		pending++
		res.rpcs++
		asks.do(askJob{n: n, c: c, rec: c.rec, w: c.w, alts: c.alts, msg: msg, answers: answers})
	}
	// next returns the closest unasked candidate among the k closest that
	// have not failed, or nil when those are all asked.
	next := func() *candidate {
		live := 0
		for _, c := range cands {
			if c.state == candFailed {
				continue
			}
			if live++; live > n.cfg.k {
				return nil
			}
			if c.state == candNew {
				return c
			}
		}
		return nil
	}
	// done reports whether the k closest candidates that have not failed
	// have all answered.
	done := func() bool {
		live := 0
		for _, c := range cands {
			if c.state == candFailed {
				continue
			}
			if live++; live > n.cfg.k {
				return true
			}
			if c.state != candAnswered {
				return false
			}
		}
		return true
	}
	// One timer serves every wait of the lookup, reset for each. A tick
	// left unread when an answer came first is harmless: it only marks as
	// slow requests that were already due.
	var timer clock.Timer
	var err error
	for {
		for inflight < n.cfg.alpha && !res.enough(vq) && !fill.covered() && err == nil {
			c := next()
			if c == nil || fill.holds(c.id) {
				break
			}
			ask(c)
			fill.asked(c.id, +1)
		}
		// Slow requests give up their slots, not their places among the
		// k closest: one that answers late is still heard.
		if pending == 0 || err != nil || res.enough(vq) || fill.done() || done() {
			break
		}
		var soonest time.Time
		for _, c := range cands {
			if c.state == candAsking && (soonest.IsZero() || c.due.Before(soonest)) {
				soonest = c.due
			}
		}
		var timeout <-chan time.Time
		if !soonest.IsZero() {
			d := max(soonest.Sub(n.cfg.clock.Now()), 0)
			if timer == nil {
				timer = n.cfg.clock.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			timeout = timer.C()
		}
		select {
		case a := <-answers:
			if timeout != nil {
				timer.Stop()
			}
			pending--
			if a.c.state == candAsking {
				inflight--
				fill.asked(a.c.id, -1)
			}
			a.c.rec, a.c.w, a.c.alts = a.rec, nil, nil
			if a.err == errUnverified {
				// Never asked: it gives its place among the k closest
				// to the next.
				a.c.state = candFailed
				res.rpcs--
				continue
			}
			if a.err != nil {
				a.c.state = candFailed
				why.add(a.err)
				if ctx.Err() != nil && err == nil {
					err = ctxErr(ctx)
				}
				continue
			}
			a.c.state = candAnswered
			if fill != nil && fill.rng.Contains(a.c.id) {
				fill.answered++
			}
			n.lookupAnswered(&res, a, vq, cancel, add)
		case <-ctx.Done():
			if timeout != nil {
				timer.Stop()
			}
			if err == nil {
				err = ctxErr(ctx)
			}
		case now := <-timeout:
			for _, c := range cands {
				if c.state == candAsking && !now.Before(c.due) {
					c.state = candSlow
					inflight--
					fill.asked(c.id, -1)
					why.slow++
				}
			}
		}
	}
	if err != nil && res.answers == 0 {
		return res, err
	}
	for _, c := range cands {
		if c.state == candAnswered {
			res.closest = append(res.closest, c.rec)
			if len(res.closest) == n.cfg.k {
				break
			}
		}
	}
	if fill != nil && fill.collect {
		for _, c := range cands {
			if c.state == candNew && c.rec == nil {
				fill.unasked = append(fill.unasked, c.w)
				fill.unasked = append(fill.unasked, c.alts...)
			}
		}
	}
	if len(res.closest) == 0 && res.answers == 0 {
		return res, fmt.Errorf("%w: no peer answered: %s", ErrNoAnswer, why.String())
	}
	res.why = why
	return res, nil
}

// lookupAnswered takes in one answer: the values it brings, if asked for,
// and the closer peers it names, as candidates to verify if they are asked.
func (n *Node) lookupAnswered(res *lookupResult, a lookupAnswer, vq *valueQuery, cancel func(), add func(*candidate)) {
	res.hops = max(res.hops, a.c.depth)
	var peers []msgenc.PeerRecord
	switch m := a.rep.msg; m.Kind {
	case msgenc.KindPeers:
		peers = m.Peers.Peers
	case msgenc.KindValue:
		if len(m.Value.Records) > 0 && vq != nil && !res.enough(vq) {
			vals := n.acceptReceived(a.rep.from, m.Value.Records, vq)
			if len(vals) > 0 {
				res.values = append(res.values, vals...)
				res.answers++
				if res.enough(vq) {
					cancel() // enough replicas answered: stop the requests in flight
				}
			}
		}
		peers = m.Value.Peers
	}
	// One allocation for the answer's candidates, not one each: a lookup
	// learns thirty-odd peers.
	cs := make([]candidate, len(peers))
	for i := range peers {
		id, err := peer.IDFromBytes(peers[i].ID)
		if err != nil || id.Len() != n.id.Len() {
			n.stats.drop(DropBadRecord)
			continue
		}
		if id != n.id {
			cs[i] = candidate{id: id, w: &peers[i], depth: a.c.depth + 1}
			add(&cs[i])
		}
	}
}

// enough reports whether a value lookup has heard from its quorum.
func (r *lookupResult) enough(vq *valueQuery) bool {
	return vq != nil && r.answers >= vq.quorum
}

// lookupFailures counts what happened at the peers a lookup could not use,
// so that a failed lookup says why.
type lookupFailures struct {
	timeouts, sendErrors, other int
	refused                     map[string]int // by error code
	skipped                     int            // failed recently, not asked
	slow                        int            // outlived their adaptive timeout
	last                        error
}

func (f *lookupFailures) add(err error) {
	var re *RemoteError
	switch {
	case errors.As(err, &re):
		if f.refused == nil {
			f.refused = make(map[string]int)
		}
		f.refused[re.Code.String()]++
	case errors.Is(err, ErrTimeout):
		f.timeouts++
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return
	case errors.Is(err, ErrNoTransport), errors.Is(err, transport.ErrUnreachable):
		f.sendErrors++
	default:
		f.other++
	}
	f.last = err
}

func (f lookupFailures) String() string {
	var parts []string
	if f.timeouts > 0 {
		parts = append(parts, fmt.Sprintf("%d timed out", f.timeouts))
	}
	for _, code := range slices.Sorted(maps.Keys(f.refused)) {
		parts = append(parts, fmt.Sprintf("%d refused (%s)", f.refused[code], code))
	}
	if f.sendErrors > 0 {
		parts = append(parts, fmt.Sprintf("%d unreachable", f.sendErrors))
	}
	if f.other > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (last: %v)", f.other, f.last))
	}
	if f.skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped as recently failed", f.skipped))
	}
	if len(parts) == 0 {
		return "no peer to ask"
	}
	return strings.Join(parts, ", ")
}
