package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// contact is a peer to reach: its ID when known (zero for a bootstrap
// address) and its addresses, and its verified record when the caller
// has it.
type contact struct {
	id    peer.ID
	addrs []ma.Multiaddr
	rec   *peer.Record
}

// contactOf is the contact of r, a verified record (nothing unverified
// is asked anything): a reply carrying r byte for byte needs no check.
func contactOf(r *peer.Record) contact { return contact{id: r.ID, addrs: r.Addrs, rec: r} }

// reply is a response matched to a request, with its verified sender.
type reply struct {
	msg  *msgenc.Message
	from *peer.Record
}

// rpcTable matches replies to requests by transaction ID.
type rpcTable struct {
	mu      sync.Mutex
	pending map[uint64]*pendingCall
}

type pendingCall struct {
	expect peer.ID      // the peer that must answer; zero accepts any
	rec    *peer.Record // expect's verified record, if known
	ch     chan reply
}

func (r *rpcTable) init() { r.pending = make(map[uint64]*pendingCall) }

func (r *rpcTable) add(tx uint64, pc *pendingCall) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.pending[tx]; dup {
		return false
	}
	r.pending[tx] = pc
	return true
}

func (r *rpcTable) remove(tx uint64) {
	r.mu.Lock()
	delete(r.pending, tx)
	r.mu.Unlock()
}

// asked returns the verified record of the peer the request tx went
// to, if the caller gave one.
func (r *rpcTable) asked(tx uint64) *peer.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pc, ok := r.pending[tx]; ok {
		return pc.rec
	}
	return nil
}

// deliver hands a reply to its waiting request. It reports false for a reply
// nobody waits for, or one from a peer other than the one asked. before runs
// once the reply is known to be solicited and before the caller wakes, so
// that what the caller does next sees its effects.
func (r *rpcTable) deliver(m *msgenc.Message, from *peer.Record, before func()) bool {
	r.mu.Lock()
	pc, ok := r.pending[m.TxID]
	r.mu.Unlock()
	if !ok {
		return false
	}
	if !pc.expect.IsZero() && (from == nil || from.ID != pc.expect) && m.Kind != msgenc.KindError {
		return false
	}
	before()
	select {
	case pc.ch <- reply{msg: m, from: from}:
	default: // a duplicate of a reply already delivered
	}
	return true
}

// framePool lends encoding buffers, so that a frame costs no allocation of
// its own: transports do not keep a frame after Send returns.
type framePool struct{ pool sync.Pool }

// maxPooledFrame is the largest buffer kept for reuse: a rare large frame
// (a value near the UDP limit) is not held on to.
const maxPooledFrame = 16 << 10

// encode encodes m into a pooled buffer when the codec can append, and
// returns the frame and the buffer to release once the frame is sent
// (nil when the codec allocated the frame itself).
func (p *framePool) encode(c msgenc.Codec, m *msgenc.Message) ([]byte, *[]byte, error) {
	am, ok := c.(msgenc.AppendMarshaler)
	if !ok {
		data, err := c.Marshal(m)
		return data, nil, err
	}
	buf, _ := p.pool.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	data, err := am.AppendMarshal((*buf)[:0], m)
	if err != nil {
		p.release(buf)
		return nil, nil, err
	}
	*buf = data
	return data, buf, nil
}

// release returns buf, if any, for reuse: its frame must no longer be used.
func (p *framePool) release(buf *[]byte) {
	if buf != nil && cap(*buf) <= maxPooledFrame {
		p.pool.Put(buf)
	}
}

// transportFor picks the first address of addrs that one of the node's
// transports can reach.
func (n *Node) transportFor(addrs []ma.Multiaddr) (transport.Transport, ma.Multiaddr, error) {
	for _, a := range addrs {
		for _, t := range n.transports {
			if t.CanDial(a) {
				return t, a, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("%w: %v", ErrNoTransport, addrs)
}

// send encodes m and sends it over t, counting it. An answer carrying more
// values than t's frame holds leaves out the last ones until it fits.
func (n *Node) send(ctx context.Context, t transport.Transport, to ma.Multiaddr, m *msgenc.Message) error {
	data, buf, err := n.frames.encode(n.cfg.codec, m)
	for err == nil && len(data) > t.MaxFrameSize() && dropLastValue(m) {
		n.frames.release(buf)
		data, buf, err = n.frames.encode(n.cfg.codec, m)
	}
	defer n.frames.release(buf)
	if err != nil {
		return fmt.Errorf("node: encode %s: %w", m.Kind, err)
	}
	if err := t.Send(ctx, to, data); err != nil {
		n.stats.sendErrors.Add(1)
		return err
	}
	n.stats.sentMsg(m)
	return nil
}

// call sends a request to c and waits for the matching reply, resending on
// timeout up to the configured retries. The first wait is c's adaptive
// timeout (see health), each resend waits twice as long, up to the RPC
// timeout. A peer that never answers is remembered as down and reported to
// the routing table. An Error reply is returned as *RemoteError.
func (n *Node) call(ctx context.Context, c contact, m *msgenc.Message) (reply, error) {
	return n.callPatient(ctx, c, m, n.health.timeout(c.id), n.cfg.retries, 0)
}

// callPatient is callWith for a request whose answer may legitimately be
// slow (a forwarded query): with patience set it keeps resending, at
// doubling intervals from timeout, until patience has passed since the first
// send, so that a lost frame costs one interval rather than the whole wait.
// Retries 0 sends once and waits out patience.
func (n *Node) callPatient(ctx context.Context, c contact, m *msgenc.Message, timeout time.Duration, retries int, patience time.Duration) (reply, error) {
	r, err := n.callAttempts(ctx, c, m, timeout, retries, patience)
	if n.resendProven(c, m, err) {
		r, err = n.callAttempts(ctx, c, m, timeout, retries, patience)
	}
	return r, err
}

// callAttempts is callPatient without the resend that proves an address.
func (n *Node) callAttempts(ctx context.Context, c contact, m *msgenc.Message, timeout time.Duration, retries int, patience time.Duration) (reply, error) {
	if err := n.live(); err != nil {
		return reply{}, err
	}
	t, to, err := n.transportFor(c.addrs)
	if err != nil {
		return reply{}, err
	}
	m.Sender = n.senderWire()
	pc := &pendingCall{expect: c.id, rec: c.rec, ch: make(chan reply, 1)}
	for {
		m.TxID = n.randUint64()
		if m.TxID != 0 && n.rpc.add(m.TxID, pc) {
			break
		}
	}
	defer n.rpc.remove(m.TxID)
	data, buf, err := n.encodeRequest(to, m)
	defer n.frames.release(buf) // resends reuse data: release it at the end
	if err != nil {
		return reply{}, fmt.Errorf("node: encode %s: %w", m.Kind, err)
	}
	n.stats.requests.Add(1)
	start := n.cfg.clock.Now()
	var unreachable error
	for attempt, last := 0, false; !last && unreachable == nil; attempt++ {
		var wait time.Duration
		wait, last = resendWait(attempt, timeout, retries, n.cfg.clock.Now().Sub(start), patience)
		if patience <= 0 {
			wait = min(wait, n.cfg.rpcTimeout)
		}
		sent := n.cfg.clock.Now()
		if err := t.Send(ctx, to, data); err != nil {
			n.stats.sendErrors.Add(1)
			if errors.Is(err, transport.ErrClosed) {
				return reply{}, ErrClosed
			}
			if ctx.Err() != nil {
				return reply{}, ctxErr(ctx)
			}
			if errors.Is(err, transport.ErrUnreachable) {
				unreachable = err
				break
			}
			continue
		}
		n.stats.sentMsg(m)
		timer := n.cfg.clock.NewTimer(wait)
		select {
		case r := <-pc.ch:
			timer.Stop()
			if attempt == 0 && patience <= 0 {
				n.health.answered(c.id, n.cfg.clock.Now().Sub(sent))
			}
			n.stats.answered(m.Kind, n.cfg.clock.Now().Sub(start))
			if r.msg.Kind == msgenc.KindError {
				return r, remoteError(r.msg.Error)
			}
			return r, nil
		case <-timer.C():
			n.stats.timeouts.Add(1)
		case <-ctx.Done():
			timer.Stop()
			return reply{}, ctxErr(ctx)
		}
	}
	if !c.id.IsZero() {
		n.peerFailed(c.id)
	}
	if unreachable != nil {
		return reply{}, fmt.Errorf("node: %s to %s: %w", m.Kind, to, unreachable)
	}
	return reply{}, fmt.Errorf("%w: %s to %s after %d attempts", ErrTimeout, m.Kind, to, retries+1)
}

// resendWait says how long attempt (0 for the first send) waits for its
// answer and whether it is the last. Without patience the waits double from
// timeout and there are retries resends. With patience and retries, the
// waits double from timeout until patience, counted from the first send,
// has passed; with patience and no retries the one send waits patience.
func resendWait(attempt int, timeout time.Duration, retries int, elapsed, patience time.Duration) (time.Duration, bool) {
	if patience <= 0 {
		return timeout << min(attempt, 16), attempt >= retries
	}
	left := max(patience-elapsed, 0)
	if retries <= 0 {
		return left, true
	}
	wait := timeout << min(attempt, 16)
	if wait >= left {
		return left, true
	}
	return wait, false
}

// dropLastValue makes an answer carrying values smaller: it leaves out the
// peers that come with the values, then the last of several values. It
// reports whether it could.
func dropLastValue(m *msgenc.Message) bool {
	var recs *[]msgenc.ValueRecord
	switch {
	case m.Value != nil && len(m.Value.Records) > 0 && len(m.Value.Peers) > 0:
		m.Value.Peers = nil
		return true
	case m.Value != nil:
		recs = &m.Value.Records
	case m.ForwardReply != nil:
		recs = &m.ForwardReply.Records
	default:
		return false
	}
	if len(*recs) < 2 {
		return false
	}
	*recs = (*recs)[:len(*recs)-1]
	return true
}
