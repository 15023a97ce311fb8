package node

import (
	"bytes"
	"errors"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// receiveLoop reads frames from t until the node closes.
func (n *Node) receiveLoop(t transport.Transport) {
	for {
		p, err := t.Receive(n.ctx)
		if err != nil {
			if errors.Is(err, transport.ErrClosed) || n.ctx.Err() != nil {
				return
			}
			n.cfg.logger.Warn("receive failed", "err", err)
			continue
		}
		n.handlePacket(t, p)
	}
}

// incoming is a decoded request and where to answer it.
type incoming struct {
	t    transport.Transport
	pkt  transport.Packet
	msg  *msgenc.Message
	from *peer.Record // verified sender; nil for clients and unverified senders
	// claimed is the ID an unverified sender named (see senderNeedsCheck):
	// used only to leave it out of its own answer, never trusted.
	claimed peer.ID
	src     source // sourceOf(pkt.From); zero on a client, which limits no one
}

func isReply(k msgenc.Kind) bool {
	switch k {
	case msgenc.KindPong, msgenc.KindPeers, msgenc.KindValue, msgenc.KindStoreAck,
		msgenc.KindError, msgenc.KindForwardReply:
		return true
	}
	return false
}

// handlePacket decodes one frame and routes it: replies to their waiting
// requests, requests to their handlers. Bad input is dropped and counted,
// never answered with a panic.
func (n *Node) handlePacket(t transport.Transport, p transport.Packet) {
	n.stats.received.Add(1)
	var src source // worked out once: it costs allocations
	if !n.cfg.client {
		src = sourceOf(p.From)
		if n.limits.blocked(src) {
			n.stats.drop(DropRateLimited)
			return
		}
	}
	m, err := n.cfg.codec.Unmarshal(p.Data)
	if err != nil {
		n.stats.drop(DropDecode)
		return
	}
	n.stats.receivedMsg(m.Kind)
	var in *incoming // a request to serve; made once, here
	if !isReply(m.Kind) && !n.cfg.client {
		in = &incoming{t: t, pkt: p, msg: m, src: src}
		if !n.admitSource(in) {
			return
		}
	}
	var from, contender *peer.Record
	var claimed peer.ID
	var later *senderCheck // a sender to check once its answer is sent
	if m.Sender != nil {
		var check bool
		if check, contender = n.senderNeedsCheck(m); check && answersAnyone(m.Kind) {
			from, later, err = n.recallSender(m.Sender)
			if later != nil {
				claimed = later.rec.ID
			}
		} else if check {
			from, err = n.verifySender(m)
		} else {
			n.stats.unverified.Add(1)
			claimed, _ = peer.IDFromBytes(m.Sender.ID)
		}
		if err != nil {
			n.stats.drop(DropBadRecord)
			return
		}
	}
	if isReply(m.Kind) {
		if m.Kind == msgenc.KindForwardReply && m.TxID == 0 {
			if !n.queries.deliver(m.ForwardReply) {
				n.stats.drop(DropUnsolicited)
				return
			}
			n.sawPeer(from)
			return
		}
		// The table learns the sender before the caller wakes: a
		// Bootstrap's ping must leave a peer for its lookup.
		if !n.rpc.deliver(m, from, func() {
			n.amp.learn(p.From, m.Token)
			if from != nil {
				n.health.heard(from.ID) // a reply to our own request: alive
			}
			n.sawPeer(from)
		}) {
			n.stats.drop(DropUnsolicited)
		}
		return
	}
	if n.cfg.client {
		n.stats.drop(DropClient)
		return
	}
	n.sawPeerFrom(from, p.From)
	in.from, in.claimed = from, claimed
	if !n.admitPeer(in) {
		return
	}
	if contender != nil {
		n.pingBeforeEvict(contender, src.eviction(), claimed, m.Sender)
	}
	if m.Kind == msgenc.KindForward {
		dup := forwardKey{from: string(p.From.Bytes()), tx: m.TxID}
		if m.TxID != 0 && !n.fwdDups.begin(dup) {
			return // a resend of a query in progress: its answer is coming
		}
		release, ok := n.forwardSlot(in)
		if !ok {
			n.fwdDups.end(dup)
			return
		}
		select {
		case n.forwards <- struct{}{}:
			n.goroutine(func() {
				defer release()
				defer func() { <-n.forwards }()
				defer n.fwdDups.end(dup)
				n.handleForward(in)
			})
		default:
			release()
			n.fwdDups.end(dup)
			n.stats.drop(DropOverloaded)
			n.replyError(in, msgenc.CodeOverloaded, "too many forwarded queries")
		}
		return
	}
	n.handleRequest(in)
	if later != nil {
		n.checkSenderAfter(later, p.From)
	}
}

// answersAnyone reports whether a request of kind k is answered the same
// whoever sent it: then its sender's check, when one is due, waits until
// the answer is on its way (recallSender).
func answersAnyone(k msgenc.Kind) bool {
	return k == msgenc.KindPing || k == msgenc.KindFindNode || k == msgenc.KindFindValue
}

// senderCheck is a request's sender whose signature is still to be
// checked: its parsed record and the digest the verified cache keeps.
type senderCheck struct {
	rec    *peer.Record
	digest recordDigest
}

// recallSender is verifyRecord for the sender of a request that is
// answered the same whoever asks (answersAnyone), when the table would
// keep it: a record verified before (held by the table, or remembered by
// the verified cache) is returned at once; one that needs its signature
// checked is returned as later, to check after the answer is sent, so
// that the check is off the asker's round trip. Until then the sender is
// served as an unverified one is (see senderNeedsCheck): not in the
// table, not charged to a peer's limit, named only to be left out of
// its own answer.
func (n *Node) recallSender(w *msgenc.PeerRecord) (from *peer.Record, later *senderCheck, err error) {
	r, d, known, err := n.recallRecord(w)
	if err != nil || known {
		return r, nil, err
	}
	if r.ID.Len() != n.id.Len() || r.ID == n.id {
		// Not a peer the table could keep: checked now, as before
		// any request whose sender is suspect.
		if err := n.checkRecord(r, d, checkSender); err != nil {
			return nil, nil, err
		}
		return r, nil, nil
	}
	return nil, &senderCheck{rec: r, digest: d}, nil
}

// verifySender is verifyRecord for the sender of m, which must be
// checked before m is handled. A reply from the peer asked, carrying the
// very record the request was sent to, is that record: it verified
// before it was asked, and needs neither parsing nor the verified cache.
func (n *Node) verifySender(m *msgenc.Message) (*peer.Record, error) {
	if isReply(m.Kind) && m.TxID != 0 {
		if r := n.rpc.asked(m.TxID); r != nil && sameRecord(r, m.Sender) {
			return r, nil
		}
	}
	return n.verifyRecord(m.Sender, checkReasonOf(m.Kind))
}

// checkSenderAfter finishes what recallSender left for after the answer:
// it checks the sender's signature, charges the request to the sender's
// own limit now that its ID is proven (the answer is gone, but its later
// requests count it), and offers it to the table. A record that fails is
// dropped and counted, and never kept.
func (n *Node) checkSenderAfter(c *senderCheck, addr ma.Multiaddr) {
	if err := n.checkRecord(c.rec, c.digest, checkSenderAfter); err != nil {
		n.stats.drop(DropBadRecord)
		return
	}
	_ = n.limits.admitPeer(string(c.rec.ID.Bytes()))
	n.sawPeerFrom(c.rec, addr)
}

// senderNeedsCheck reports whether the sender of request m must be
// verified. A ping, find-node or find-value is answered the same whoever
// asks: its sender is verified only when the table could keep it at once
// (route.Wants, and no full bucket to contend for: route.Contention) or
// already holds its exact record, which verifies for free, and then only
// after the answer is sent, unless it verified before (recallSender). Otherwise it is served as a client is, with no identity: it does
// not enter the table or the health record, is not charged to the
// per-peer limit (an unproven ID must not spend another peer's budget; the
// address limit has already applied), and its claimed ID serves only to
// leave it out of its own answer. When it would contend for a full
// bucket, contender is the bucket's least recently seen peer, to ping
// before the sender is verified and offered to the table (pingBeforeEvict).
// Replies, stores, forwarded queries and anything else depend on who sent
// them and are always verified.
func (n *Node) senderNeedsCheck(m *msgenc.Message) (check bool, contender *peer.Record) {
	switch m.Kind {
	case msgenc.KindPing, msgenc.KindFindNode, msgenc.KindFindValue:
	default:
		return true, nil
	}
	if n.cfg.client {
		return true, nil // a client answers no requests; it drops them below
	}
	id, err := peer.IDFromBytes(m.Sender.ID)
	if err != nil || id.Len() != n.id.Len() || id == n.id {
		return true, nil // verifyRecord or sawPeer says what is wrong with it
	}
	if !route.Wants(n.table, id) {
		return false, nil
	}
	if c, ok := n.table.(route.Contention); ok {
		if lrs, full := c.Contender(id); full {
			return false, lrs
		}
	}
	return true, nil
}

// verifyRecord parses and verifies a peer record from the wire. A record
// identical to one verified before, held by the table or remembered by
// the verified cache, is not verified again: the same bytes verify the
// same way.
func (n *Node) verifyRecord(w *msgenc.PeerRecord, why checkReason) (*peer.Record, error) {
	r, d, known, err := n.recallRecord(w)
	if err != nil || known {
		return r, err
	}
	if err := n.checkRecord(r, d, why); err != nil {
		return nil, err
	}
	return r, nil
}

// recallRecord parses w and reports whether it is known to verify: the
// table's record or the node's own, byte for byte, or one the verified
// cache remembers. An unknown record comes back parsed but unchecked,
// with its digest for checkRecord.
func (n *Node) recallRecord(w *msgenc.PeerRecord) (r *peer.Record, d recordDigest, known bool, err error) {
	if id, err := peer.IDFromBytes(w.ID); err == nil {
		if held, ok := n.table.Get(id); ok && sameRecord(held, w) {
			return held, d, true, nil
		}
		if id == n.id && sameRecord(n.self, w) {
			return n.self, d, true, nil
		}
	}
	r, err = w.Record()
	if err != nil {
		return nil, d, false, err
	}
	d = n.verified.digest(w)
	return r, d, n.verified.has(d), nil
}

// checkRecord checks the signature of r, parsed from a record whose
// digest is d, and remembers it in the verified cache if it holds.
func (n *Node) checkRecord(r *peer.Record, d recordDigest, why checkReason) error {
	n.stats.sigChecks.Add(1)
	n.checks.add(why)
	if err := r.Verify(n.cfg.hasher); err != nil {
		return err
	}
	n.verified.put(d, max(verifiedCacheSize, 2*n.table.Len()))
	return nil
}

// sameRecord reports whether w is exactly the wire form of r: the same ID,
// key, sequence, addresses and signature.
func sameRecord(r *peer.Record, w *msgenc.PeerRecord) bool {
	if id, err := peer.IDFromBytes(w.ID); err != nil || id != r.ID {
		return false
	}
	if r.Seq != w.Seq || !bytes.Equal(r.PublicKey, w.PublicKey) ||
		!bytes.Equal(r.Signature, w.Signature) || len(r.Addrs) != len(w.Addrs) {
		return false
	}
	for i, a := range r.Addrs {
		if !bytes.Equal(a.Bytes(), w.Addrs[i]) {
			return false
		}
	}
	return true
}

// sawPeer records contact with a verified peer. When its bucket is full the
// table names the least recently seen peer, which is pinged before anyone is
// replaced.
func (n *Node) sawPeer(r *peer.Record) { n.sawPeerFrom(r, nil) }

// sawPeerFrom is sawPeer for a peer whose request came from addr, whose
// source (see evictionSource) bounds the eviction pings it may start; nil
// for peers the node itself contacted. The source is worked out only when
// a ping is due: it costs allocations, and most contacts start none.
func (n *Node) sawPeerFrom(r *peer.Record, addr ma.Multiaddr) {
	if r == nil || r.ID == n.id || r.ID.Len() != n.id.Len() {
		return
	}
	n.health.saw(r.ID, n.cfg.clock.Now())
	if err := n.cfg.policy.AcceptPeer(r); err != nil {
		n.stats.drop(DropPolicy)
		return
	}
	res := n.table.Update(r, n.cfg.clock.Now())
	if res.Status == route.Pending && res.Candidate != nil {
		source := ""
		if addr != nil {
			source = evictionSource(addr)
		}
		n.pingBeforeEvict(res.Candidate, source, peer.ID{}, nil)
	}
}

// pingBeforeEvict pings a full bucket's eviction candidate, unless it is
// good (see good), once at a time;
// the table learns the outcome through the normal contact and failure paths.
// With newcomer set (the unverified record of the sender id, who would
// contend for c's place), the newcomer is verified and offered to the table
// only if c fails to answer: a bucket of live peers costs no signature
// check. A newcomer that arrives while c is being pinged already is let go.
func (n *Node) pingBeforeEvict(c *peer.Record, source string, id peer.ID, newcomer *msgenc.PeerRecord) {
	if n.good(c.ID) {
		return // the newcomer is let go, as if c had just answered
	}
	if _, busy := n.evicting.LoadOrStore(c.ID, struct{}{}); busy {
		return
	}
	if n.live() != nil || source != "" && !n.evictSrcs.acquire(source) {
		n.evicting.Delete(c.ID)
		return
	}
	if !n.evictionSlot() {
		if source != "" {
			n.evictSrcs.release(source)
		}
		n.evicting.Delete(c.ID)
		return
	}
	if newcomer != nil {
		newcomer = cloneWire(newcomer) // the request's buffers are not ours to keep
	}
	n.goroutine(func() {
		if source != "" {
			defer n.evictSrcs.release(source)
		}
		defer n.evictPings.Add(-1)
		defer n.evicting.Delete(c.ID)
		n.stats.evictionPings.Add(1)
		_, err := n.call(n.ctx, contactOf(c), &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}})
		if newcomer != nil && (errors.Is(err, ErrTimeout) || errors.Is(err, transport.ErrUnreachable)) {
			n.replaceFailed(c.ID, id, newcomer)
		}
	})
}

// good reports whether the table's peer id was heard from within half the
// liveness interval and is not failing: a good peer in BEP 5's terms, which
// keeps its place in a full bucket without an eviction ping. A newcomer
// then waits, as it would had the ping been answered; once id goes quiet,
// the next newcomer puts it on trial, and the liveness check (checkQuiet)
// pings it in any case. In a busy network most contenders meet a bucket
// of peers heard moments ago, and each ping would cost about what a
// lookup's request does.
func (n *Node) good(id peer.ID) bool {
	now := n.cfg.clock.Now()
	return !n.health.quiet(id, now.Add(-n.livenessInterval()/2)) && !n.health.failing(id)
}

// replaceFailed offers the table a newcomer in place of failed, a peer
// that has just failed its eviction ping (call reported that failure). The
// newcomer is verified first; once it waits in the bucket's replacement
// cache, failed is reported again, which removes it, as its failure would
// have had the newcomer been waiting already, and promotes the newcomer.
func (n *Node) replaceFailed(failed, id peer.ID, w *msgenc.PeerRecord) {
	r, err := n.verifyRecord(w, checkNewcomer)
	if err != nil || r.ID != id {
		n.stats.drop(DropBadRecord)
		return
	}
	n.sawPeer(r)
	if n.table.Fail(failed, n.cfg.clock.Now()) {
		n.cfg.logger.Debug("peer replaced after a failed eviction ping", "peer", failed.Short(), "by", id.Short())
	}
}

// peerFailed reports a peer that did not answer to the routing table.
func (n *Node) peerFailed(id peer.ID) {
	n.health.failed(id, n.cfg.clock.Now())
	if n.table.Fail(id, n.cfg.clock.Now()) {
		n.cfg.logger.Debug("peer removed after failures", "peer", id.Short())
	}
}

// replyTo sends a reply to a request's sender over the transport it came in on.
func (n *Node) replyTo(in *incoming, m *msgenc.Message) {
	m.TxID = in.msg.TxID
	m.Sender = &n.selfWire
	ctx := newReplyCtx(n.ctx, n.cfg.rpcTimeout)
	defer ctx.release()
	_ = n.sendReply(ctx, in, m)
}

func (n *Node) replyError(in *incoming, code msgenc.ErrorCode, text string) {
	n.replyTo(in, &msgenc.Message{Kind: msgenc.KindError, Error: &msgenc.Error{Code: code, Message: text}})
}
