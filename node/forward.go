package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
)

// Forwarded routing: proxied, direct-reply and mixed(n). A query travels hop
// by hop, each hop handing it to the peer its table ranks closest to the
// target that the query has not visited, until a hop holds the value, knows
// no closer peer, or the hop budget runs out. The visited list and the hop
// budget bound every query, so the scheme needs no Kademlia geometry: it runs
// over any table, the toy map and trust-ordered tables included.

// forwardResult is what a forwarded query brought back to its originator.
type forwardResult struct {
	// values are the verified values brought back, answers how many
	// paths brought some.
	values  []*trust.Value
	answers int
	peers   []*peer.Record
	stored  int
	rpcs    int
	hops    int
}

// queryTable holds the direct-reply answers a node waits for, by query ID.
type queryTable struct {
	mu      sync.Mutex
	pending map[string]chan *msgenc.ForwardReply
}

func (q *queryTable) init() { q.pending = make(map[string]chan *msgenc.ForwardReply) }

func (q *queryTable) add(id []byte) chan *msgenc.ForwardReply {
	ch := make(chan *msgenc.ForwardReply, 1)
	q.mu.Lock()
	q.pending[string(id)] = ch
	q.mu.Unlock()
	return ch
}

func (q *queryTable) remove(id []byte) {
	q.mu.Lock()
	delete(q.pending, string(id))
	q.mu.Unlock()
}

func (q *queryTable) deliver(r *msgenc.ForwardReply) bool {
	q.mu.Lock()
	ch, ok := q.pending[string(r.QueryID)]
	q.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case ch <- r:
	default:
	}
	return true
}

const queryIDLen = 16

// hopTimeout is how long a hop waits for the rest of a forwarded query: one
// RPC timeout per hop still allowed, so that a hop nearer the originator
// always waits longer than the hops after it.
func (n *Node) hopTimeout(budget uint8) time.Duration {
	return n.cfg.rpcTimeout * time.Duration(int(budget)+1)
}

// forwardQuery starts a forwarded query at the originator. It hands the query
// to its closest peers, o.fanout at a time, until one brings an answer back;
// for a value query, until vq.quorum paths brought values that verify. Each
// path gets its own query ID and salt, so that hops cannot tell two tries
// of one caller apart from two callers.
func (n *Node) forwardQuery(ctx context.Context, mode Mode, op msgenc.Kind, target peer.ID, rec *msgenc.ValueRecord, vq *valueQuery, o callOptions) (forwardResult, error) {
	var res forwardResult
	if err := mode.check(); err != nil {
		return res, err
	}
	first := n.seedsFor(target, n.tries(op))
	if len(first) == 0 {
		return res, ErrNoPeers
	}
	f := msgenc.Forward{
		Op:        op,
		Target:    target.Bytes(),
		Record:    rec,
		CAS:       o.cas,
		ExpectSeq: o.expect,
	}
	width := 1
	if op != msgenc.KindStore && o.fanout > 1 {
		width = o.fanout
		f.Fanout = uint8(o.fanout)
	}
	switch mode.kind {
	case kindProxied:
		f.Mode = msgenc.ModeProxied
	case kindDirectReply:
		f.Mode = msgenc.ModeDirectReply
		f.ReplyTo = addrBytes(n.self.Addrs)
	case kindMixed:
		f.Mode = msgenc.ModeMixed
		f.ProxyHops = uint8(mode.proxy)
	}
	var (
		errs []error
		done bool
		fail error
	)
	try := func(ctx context.Context, p *peer.Record) (*msgenc.ForwardReply, error) {
		g := f
		g.QueryID = n.randBytes(queryIDLen)
		g.Salt = n.randBytes(querySaltLen)
		g.HopBudget = n.startBudget()
		return n.sendForward(ctx, contactOf(p), &g, n.cfg.retries)
	}
	res.rpcs = fanOut(ctx, first, width, try, func(_ *peer.Record, fr *msgenc.ForwardReply, err error) bool {
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				fail = ctxErr(ctx)
				return true
			}
			return false
		}
		if fr.Error != nil && fr.Error.Code != msgenc.CodeNotFound {
			errs = append(errs, remoteError(fr.Error))
			return false
		}
		res.hops = max(res.hops, int(fr.Hops))
		if op != msgenc.KindFindValue {
			res.stored = int(fr.Stored)
			res.peers = n.verifyPeers(fr.Peers)
			done = true
			return true
		}
		// The answer came through strangers: verify before believing it.
		vals := n.acceptReceived(nil, fr.Records, vq)
		if len(vals) == 0 {
			// This path ended without a value that verifies; another
			// first hop may reach a replica this one could not.
			errs = append(errs, ErrNotFound)
			return false
		}
		res.values = append(res.values, vals...)
		res.answers++
		done = res.answers >= vq.quorum
		return done
	})
	switch {
	case fail != nil:
		return res, fail
	case done:
		return res, nil
	case op == msgenc.KindFindValue && (res.answers > 0 || len(errs) > 0 && allNotFound(errs)):
		return res, nil // fewer than the quorum, or none: the caller decides
	}
	return res, fmt.Errorf("node: %s query failed on every first hop: %w", mode, errors.Join(errs...))
}

// tries is how many peers a hop hands a query to, one after another, until
// one brings an answer back: alpha, and k for a value query, whose paths a
// replica that answers with values that do not verify can end.
func (n *Node) tries(op msgenc.Kind) int {
	if op == msgenc.KindFindValue {
		return n.cfg.k
	}
	return n.cfg.alpha
}

func allNotFound(errs []error) bool {
	for _, e := range errs {
		if !errors.Is(e, ErrNotFound) {
			return false
		}
	}
	return true
}

// sendForward passes f to the next hop and waits for its answer: as an RPC
// whose reply retraces the path (proxied, mixed), or one-way with the answer
// arriving straight from the holder (direct reply).
//
// An answer may rightly take long, the query travelling on, but a dead next
// hop never gives one: when none has come within the next hop's adaptive
// timeout, sendForward pings it, with pingRetries resends, and gives it up
// if the pings go unanswered, so that a dead hop costs a few round trips,
// not the hop timeout. A hop pings once: a live peer wrongly given up costs
// it only another path. The originator, whose first hops may be its one
// bootstrap peer, resends as for any request.
func (n *Node) sendForward(ctx context.Context, to contact, f *msgenc.Forward, pingRetries int) (*msgenc.ForwardReply, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the request and the ping end at once
	defer cancel()
	type answer struct {
		fr  *msgenc.ForwardReply
		err error
	}
	answered := make(chan answer, 1)
	wg.Go(func() {
		fr, err := n.forwardAndWait(ctx, to, f)
		answered <- answer{fr, err}
	})
	watch := n.cfg.clock.NewTimer(n.health.timeout(to.id))
	defer watch.Stop()
	select {
	case a := <-answered:
		return a.fr, a.err
	case <-watch.C():
	}
	alive := make(chan error, 1)
	wg.Go(func() { alive <- n.checkAlive(ctx, to, pingRetries) })
	select {
	case a := <-answered:
		return a.fr, a.err
	case err := <-alive:
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
	}
	a := <-answered
	return a.fr, a.err
}

// checkAlive pings a peer a forwarded query was handed to, with retries
// resends, and reports an error wrapping ErrTimeout if it does not answer
// within its adaptive timeout; the failure is recorded, so that lookups and
// forwarded queries soon skip the peer. Every resend adds a timeout to each
// dead hop.
func (n *Node) checkAlive(ctx context.Context, to contact, retries int) error {
	ping := &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}}
	_, err := n.callPatient(ctx, to, ping, n.health.timeout(to.id), retries, 0)
	var re *RemoteError
	if err == nil || errors.As(err, &re) {
		return nil // it answered, if only to refuse
	}
	return fmt.Errorf("node: next hop %s does not answer: %w", to.id.Short(), err)
}

// forwardAndWait is sendForward without the check that the next hop lives.
func (n *Node) forwardAndWait(ctx context.Context, to contact, f *msgenc.Forward) (*msgenc.ForwardReply, error) {
	wait := n.hopTimeout(f.HopBudget)
	m := &msgenc.Message{Kind: msgenc.KindForward, Forward: f}
	if f.Mode != msgenc.ModeDirectReply {
		// Resend soon if the frame was lost; the next hop ignores a resend
		// of a query it is still handling (forwardDups).
		rep, err := n.callPatient(ctx, to, m, n.cfg.rpcTimeout, n.cfg.retries, wait)
		if err != nil {
			return nil, err
		}
		if rep.msg.Kind != msgenc.KindForwardReply {
			return nil, fmt.Errorf("node: forward answered with %s", rep.msg.Kind)
		}
		return rep.msg.ForwardReply, nil
	}
	ch := n.queries.add(f.QueryID)
	defer n.queries.remove(f.QueryID)
	t, addr, err := n.transportFor(to.addrs)
	if err != nil {
		return nil, err
	}
	m.Sender = n.senderWire() // nil for a client, which must not enter peers' tables
	n.stats.requests.Add(1)
	// No hop acknowledges a direct-reply query, so a frame lost anywhere on
	// the path is recovered only by sending the query again, at doubling
	// intervals until the hop timeout; queries.deliver drops extra answers.
	data, err := n.encodeDirectReplyForward(m)
	if err != nil {
		return nil, fmt.Errorf("node: encode %s: %w", m.Kind, err)
	}
	if len(data) > t.MaxFrameSize() {
		return nil, fmt.Errorf("node: a direct-reply query of %d bytes exceeds the transport's %d-byte frames", len(data), t.MaxFrameSize())
	}
	start := n.cfg.clock.Now()
	for attempt := 0; ; attempt++ {
		if err := t.Send(ctx, addr, data); err != nil {
			n.stats.sendErrors.Add(1)
			return nil, err
		}
		n.stats.sentMsg(m)
		d, last := resendWait(attempt, n.cfg.rpcTimeout, n.cfg.retries, n.cfg.clock.Now().Sub(start), wait)
		timer := n.cfg.clock.NewTimer(d)
		select {
		case r := <-ch:
			timer.Stop()
			return r, nil
		case <-timer.C():
			if last {
				n.stats.timeouts.Add(1)
				return nil, fmt.Errorf("%w: direct reply to query", ErrTimeout)
			}
		case <-ctx.Done():
			timer.Stop()
			return nil, ctxErr(ctx)
		}
	}
}

// handleForward is a hop of a forwarded query: answer it here, or pass it
// on and see that the answer gets back.
func (n *Node) handleForward(in *incoming) {
	f := in.msg.Forward
	n.stats.forwarded.Add(1)
	if err := n.cfg.policy.AcceptRelay(in.from); err != nil {
		n.stats.drop(DropPolicy)
		n.answerForward(in, &msgenc.ForwardReply{QueryID: f.QueryID, Error: &msgenc.Error{Code: msgenc.CodeRejected, Message: err.Error()}})
		return
	}
	target, err := n.keyID(f.Target)
	if err != nil {
		n.answerForward(in, &msgenc.ForwardReply{QueryID: f.QueryID, Error: &msgenc.Error{Code: msgenc.CodeBadRequest, Message: err.Error()}})
		return
	}
	if f.Mode != msgenc.ModeDirectReply && len(f.Salt) > 0 {
		// A proxied query names none of the hops it passed: this hop
		// knows it by its salt while it runs here, and refuses it if it
		// comes back, so that the previous hop tries another peer.
		if !n.fwdDups.beginSalt(f.Salt) {
			n.answerForward(in, &msgenc.ForwardReply{QueryID: f.QueryID, Error: &msgenc.Error{Code: msgenc.CodeHopLimit, Message: errLoopText}})
			return
		}
		defer n.fwdDups.endSalt(f.Salt)
	}
	switch f.Op {
	case msgenc.KindFindValue:
		budget := in.t.MaxFrameSize() - replyReserve
		vs := n.localValues(target, budget)
		if len(vs) == 0 {
			vs = n.pathVals.get(target, n.cfg.clock.Now(), budget)
		}
		if len(vs) > 0 {
			n.answerForward(in, &msgenc.ForwardReply{QueryID: f.QueryID, Hops: hopsOf(f), Records: vs})
			return
		}
	case msgenc.KindStore:
		// Carry nothing onwards that this hop would not keep itself.
		if refused := n.checkValue(in.from, f.Record, target); refused != nil {
			n.stats.refuse(refused.wire().Code)
			n.answerForward(in, &msgenc.ForwardReply{QueryID: f.QueryID, Error: refused.wire()})
			return
		}
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.hopTimeout(f.HopBudget))
	defer cancel()
	// A hop that knows the peer sought has the answer, whatever the order.
	_, knows := n.table.Get(target)
	found := f.Op == msgenc.KindFindNode && (knows || target == n.id)
	if f.HopBudget > 0 && !found && !n.visited(f, n.id) {
		hops, skipped := n.nextHops(target, f, in.from, nil)
		fr, handed, failed := n.handOn(ctx, hops, f, target)
		if !handed && len(skipped) > 0 && ctx.Err() == nil {
			// Rather than end the query here, give the peers that failed
			// lately another chance: a partition may have healed.
			var again int
			fr, handed, again = n.handOn(ctx, skipped, f, target)
			failed += again
		}
		if !handed && failed > 0 && ctx.Err() == nil && f.Op != msgenc.KindFindValue {
			// Every peer this hop knows nearer the target is dead: its
			// table has not caught up with the churn yet. (A value query
			// ends here instead: answerHere looks the value up.)
			hops = n.liveHops(ctx, target, f, in.from)
			fr, handed, _ = n.handOn(ctx, hops, f, target)
		}
		if handed {
			n.answerForward(in, fr)
			return
		}
	}
	n.answerForward(in, n.answerHere(ctx, f, target, in.from, in.t.MaxFrameSize()-replyReserve))
}

// handOn passes f to hops, best first, until one takes it: it returns that
// hop's answer (nil when the query went on statelessly) with handed set,
// and how many hops failed before. A proxied find goes to up to
// hopFanout(f) of them at once, the first good answer winning.
func (n *Node) handOn(ctx context.Context, hops []*peer.Record, f *msgenc.Forward, target peer.ID) (fr *msgenc.ForwardReply, handed bool, failed int) {
	try := func(ctx context.Context, next *peer.Record) (*msgenc.ForwardReply, error) {
		return n.passOn(ctx, next, f, target)
	}
	fanOut(ctx, hops, n.hopFanout(f), try, func(_ *peer.Record, r *msgenc.ForwardReply, err error) bool {
		if err == nil {
			fr, handed = r, true
			return true
		}
		if ctx.Err() != nil {
			return true
		}
		failed++ // that hop failed: try the next best
		return false
	})
	return fr, handed, failed
}

// liveHops finds, for a hop whose table offers only dead peers nearer the
// target, live ones: it looks the target up, as a direct query would, and
// returns the peers that answered and that its policy would admit to its
// table, as nextHops would rank them. Only an XOR-ordered table says which
// peers are nearer; over any other the query keeps to the table's peers.
func (n *Node) liveHops(ctx context.Context, target peer.ID, f *msgenc.Forward, prev *peer.Record) []*peer.Record {
	if !route.XOROrdered(n.table) {
		return nil
	}
	res, err := n.lookup(ctx, target, nil)
	if err != nil {
		return nil
	}
	admitted := slices.DeleteFunc(res.closest, func(r *peer.Record) bool { return n.cfg.policy.AcceptPeer(r) != nil })
	hops, _ := n.nextHops(target, f, prev, admitted)
	return hops
}

// hopsOf is the hops a query took to the hop that answers it: itself and
// those of the direct-reply leg that led to it (the proxied hops behind
// count themselves on the way back, in passOn).
func hopsOf(f *msgenc.Forward) uint8 {
	if f.Mode != msgenc.ModeDirectReply {
		return 1
	}
	return uint8(min(len(f.Visited)+1, 255))
}

// nextHops returns the peers to try next, best first: in the table's order
// (or of cands, when not nil), not yet visited and not the previous hop,
// and for an XOR-ordered table only those nearer the target than this
// node. At most tries(op) are tried. The peers that failed moments ago are
// left out, and returned as skipped.
func (n *Node) nextHops(target peer.ID, f *msgenc.Forward, prev *peer.Record, cands []*peer.Record) (out, skipped []*peer.Record) {
	if cands == nil {
		// Ask for enough peers that visited ones cannot crowd out the rest.
		cands = n.table.Closest(target, n.cfg.k+len(f.Visited)+1)
	}
	// A table ordered by XOR distance says where this node itself ranks,
	// so the query can converge. Any other order (trust, latency) does not:
	// the query follows the table's order and only finding the answer, the
	// visited list and the budget stop it.
	xor := route.XOROrdered(n.table)
	now := n.cfg.clock.Now()
	for _, r := range cands {
		if len(out) == n.tries(f.Op) {
			break
		}
		if (prev != nil && r.ID == prev.ID) || n.visited(f, r.ID) {
			continue
		}
		// Hand the query only to peers nearer the target than this node,
		// so that it converges; visited and the budget bound it regardless.
		if xor && peer.CompareDistance(target, r.ID, n.id) >= 0 {
			break
		}
		// Failed moments ago: handing it the query would only wait on it
		// again. The peer sought is still tried: only it can say it is back.
		if r.ID != target && n.health.down(r.ID, now) {
			if len(skipped) < n.tries(f.Op) {
				skipped = append(skipped, r)
			}
			continue
		}
		out = append(out, r)
	}
	return out, skipped
}

// passOn forwards f to next with this hop recorded and returns the answer.
// In proxied mode, and in mixed mode while proxied hops remain, the answer
// comes back to this hop; the last proxy of a mixed query switches to
// direct reply towards itself.
func (n *Node) passOn(ctx context.Context, next *peer.Record, f *msgenc.Forward, target peer.ID) (*msgenc.ForwardReply, error) {
	nf := *f
	// A kept budget gives the next hop the same hop timeout as this one;
	// this hop started waiting first, so it gives up first, by one transit,
	// and a path that slow fails as it would have at the next hop.
	if !n.keepsBudget() {
		nf.HopBudget--
	}
	// Only direct-reply hops, which keep no state, leave a trace, and it
	// is salted: a proxied query carries none past this hop.
	nf.Visited = nil
	switch f.Mode {
	case msgenc.ModeDirectReply:
		nf.Visited = n.addVisited(f.Visited, f.Salt)
		// Stateless: send it on and forget it; the holder replies to ReplyTo.
		t, addr, err := n.transportFor(next.Addrs)
		if err != nil {
			return nil, err
		}
		m := &msgenc.Message{Kind: msgenc.KindForward, Forward: &nf, Sender: &n.selfWire}
		data, err := n.encodeDirectReplyForward(m)
		if err != nil {
			return nil, fmt.Errorf("node: encode %s: %w", m.Kind, err)
		}
		if err := t.Send(ctx, addr, data); err != nil {
			n.stats.sendErrors.Add(1)
			return nil, err
		}
		n.stats.sentMsg(m)
		// No answer comes back this way to show that next lives: ask it,
		// and hand the query to the next best peer if it is dead.
		if err := n.checkAlive(ctx, contactOf(next), 0); err != nil {
			return nil, err
		}
		return nil, nil
	case msgenc.ModeMixed:
		if f.ProxyHops <= 1 {
			nf.Mode = msgenc.ModeDirectReply
			nf.ProxyHops = 0
			nf.ReplyTo = addrBytes(n.self.Addrs)
			nf.Visited = n.addVisited(nil, f.Salt)
		} else {
			nf.ProxyHops--
		}
	}
	nf.QueryID = n.randBytes(queryIDLen) // never link the two sides of a proxy
	fr, err := n.sendForward(ctx, contactOf(next), &nf, 0)
	if err != nil {
		return nil, err
	}
	if fr.Error != nil && fr.Error.Code == msgenc.CodeHopLimit {
		// next is already on this query's path: it is no way on.
		return nil, fmt.Errorf("node: next hop %s: %w", next.ID.Short(), errLoop)
	}
	out := *fr
	out.QueryID = f.QueryID
	if nf.Mode != msgenc.ModeDirectReply && out.Hops < 255 {
		// The hops behind count themselves on the way back; those of a
		// direct-reply leg are counted by its visited tags.
		out.Hops++
	}
	if f.Op == msgenc.KindFindValue && len(fr.Records) > 0 {
		// Relay only values that verify; a path that brought none failed.
		out.Records = nil
		for i := range fr.Records {
			// Verified, not judged: whose values to believe is the
			// reader's policy's call.
			if _, err := n.checkReceived(nil, target, &fr.Records[i], false); err == nil {
				out.Records = append(out.Records, fr.Records[i])
			}
		}
		if len(out.Records) == 0 {
			return nil, fmt.Errorf("%w: forwarded answer held no valid value", ErrInvalidValue)
		}
		n.pathVals.put(target, out.Records, n.cfg.clock.Now(), n.cfg.recordTTL)
	}
	return &out, nil
}

// answerHere answers a forwarded query at the hop where it stops: the
// closest peers this hop knows (itself included), the value if it holds
// it, or the acknowledgements of storing at the closest peers.
func (n *Node) answerHere(ctx context.Context, f *msgenc.Forward, target peer.ID, from *peer.Record, budget int) *msgenc.ForwardReply {
	fr := &msgenc.ForwardReply{QueryID: f.QueryID, Hops: hopsOf(f)}
	closest := n.table.Closest(target, n.cfg.k)
	switch f.Op {
	case msgenc.KindStore:
		o := n.options(nil)
		o.cas, o.expect = f.CAS, f.ExpectSeq
		acks, _, errs := n.storeAt(ctx, closest, f.Record, from, o)
		if more := n.liveReplicas(ctx, target, closest, errs); len(more) > 0 {
			a, e := n.storeRemote(ctx, more, f.Record, o)
			acks, errs = acks+a, append(errs, e...)
		}
		fr.Stored = uint16(acks)
		if acks == 0 {
			fr.Error = firstRefusal(errs)
		}
		return fr
	case msgenc.KindFindValue:
		if vs := n.localValues(target, budget); len(vs) > 0 {
			fr.Records = vs
			return fr
		}
		if vs := n.valuesNearby(ctx, target, budget); len(vs) > 0 {
			fr.Records = vs
			return fr
		}
		fr.Error = &msgenc.Error{Code: msgenc.CodeNotFound, Message: "value not found"}
	case msgenc.KindFindNode:
		// A table not ordered by XOR may rank the peer sought low.
		if r, ok := n.table.Get(target); ok && !slices.ContainsFunc(closest, func(c *peer.Record) bool { return c.ID == target }) {
			closest = append(closest, r)
		}
	}
	all := append([]*peer.Record{n.self}, closest...)
	slices.SortFunc(all, func(a, b *peer.Record) int { return peer.CompareDistance(target, a.ID, b.ID) })
	for _, r := range all[:min(len(all), n.cfg.k)] {
		fr.Peers = append(fr.Peers, msgenc.FromRecord(r))
	}
	return fr
}

// valuesNearby looks up the values under target held by the k peers
// closest to it, for a forwarded value query that ends at this hop without
// one. A forwarded query ends at the one peer closest to the key, but a
// value is kept by several, and the closest may not be among them yet: it
// joined after the value was stored, or was cut off when it was. A direct
// lookup asks them all, those that failed lately included. The values are verified, not judged (whose to
// believe is the reader's call), and carry this node's record TTL: it does
// not know the holder's. Only an XOR-ordered table says which peers are
// closest; over any other the query keeps to the table's peers.
func (n *Node) valuesNearby(ctx context.Context, target peer.ID, budget int) []msgenc.ValueRecord {
	if !route.XOROrdered(n.table) {
		return nil
	}
	// The last resort: peers that failed lately are asked too, for a
	// partition may have healed since.
	res, err := n.lookup(ctx, target, &valueQuery{key: target, quorum: 1, raw: true, retryDown: true})
	if err != nil {
		return nil
	}
	var out []msgenc.ValueRecord
	for _, v := range res.values {
		size := len(v.Value) + valueOverhead
		if len(out) == msgenc.MaxRecords || size > budget {
			continue
		}
		budget -= size
		out = append(out, wireValue(v, ttlSeconds(n.cfg.recordTTL)))
	}
	return out
}

// liveReplicas finds, for a forwarded store whose replicas from this hop's
// table did not all take it (some are dead, or cut off), live peers among
// the k closest to take it instead: those a lookup finds that were not
// asked yet, as many as failed. Only an XOR-ordered table says which peers
// are closest.
func (n *Node) liveReplicas(ctx context.Context, target peer.ID, asked []*peer.Record, errs []error) []*peer.Record {
	failed := 0
	for _, err := range errs {
		if errors.Is(err, ErrTimeout) { // not a refusal: that peer lives
			failed++
		}
	}
	if failed == 0 || ctx.Err() != nil || !route.XOROrdered(n.table) {
		return nil
	}
	res, err := n.lookup(ctx, target, nil)
	if err != nil {
		return nil
	}
	var more []*peer.Record
	for _, r := range res.closest {
		if len(more) < failed && !slices.ContainsFunc(asked, func(a *peer.Record) bool { return a.ID == r.ID }) {
			more = append(more, r)
		}
	}
	return more
}

// answerForward returns a hop's answer the way the query came: as the reply
// to the previous hop's request, or straight to ReplyTo in direct reply. A
// nil answer means the query went on statelessly and someone else answers.
func (n *Node) answerForward(in *incoming, fr *msgenc.ForwardReply) {
	if fr == nil {
		return
	}
	f := in.msg.Forward
	if in.msg.TxID != 0 {
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindForwardReply, ForwardReply: fr})
		return
	}
	addrs := make([]ma.Multiaddr, 0, len(f.ReplyTo))
	for _, b := range f.ReplyTo {
		if a, err := ma.NewMultiaddrBytes(b); err == nil {
			addrs = append(addrs, a)
		}
	}
	t, to, err := n.transportFor(addrs)
	if err != nil {
		n.stats.drop(DropUnexpected)
		return
	}
	m := &msgenc.Message{Kind: msgenc.KindForwardReply, Sender: &n.selfWire, ForwardReply: fr}
	data, err := n.directReplyAnswer(to, m, len(in.pkt.Data))
	if err != nil || data == nil || len(data) > t.MaxFrameSize() {
		n.stats.drop(DropUnproven)
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.rpcTimeout)
	defer cancel()
	if err := t.Send(ctx, to, data); err != nil {
		n.stats.sendErrors.Add(1)
		return
	}
	n.stats.sentMsg(m)
}

// verifyPeers verifies the records of a reply, dropping any that fail.
func (n *Node) verifyPeers(ws []msgenc.PeerRecord) []*peer.Record {
	out := make([]*peer.Record, 0, len(ws))
	for i := range ws {
		r, err := n.verifyRecord(&ws[i], checkRelayed)
		if err != nil {
			n.stats.drop(DropBadRecord)
			continue
		}
		out = append(out, r)
	}
	return out
}

func addrBytes(as []ma.Multiaddr) [][]byte {
	out := make([][]byte, len(as))
	for i, a := range as {
		out[i] = a.Bytes()
	}
	return out
}
