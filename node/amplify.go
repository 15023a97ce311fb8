package node

import (
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	ma "github.com/multiformats/go-multiaddr"
)

// No amplification. A node never sends an address that has not proved it
// receives there more than amplificationFactor times the bytes of the
// request it answers (QUIC's bound, RFC 9000 section 8.1), so a request
// with a forged source address cannot turn the node into a reflector.
//
// An address is proven when the request came over a transport where the
// source cannot be forged (TCP, whose handshake proves it; the in-process
// mem network) or echoes an address token the node issued. Every answer to an unproven address carries a token: an HMAC of
// the address under a secret of the current ten-minute epoch (as BEP 5's
// announce token), valid for that epoch and the next. The requester keeps
// the tokens it is given per address and echoes them.
//
// A requester that holds no token for an address pads its request to
// PaddedRequestSize bytes (as QUIC pads its first Initial packet), so that
// the answer may be up to three times that: a find-node answer of 20 peers
// fits, and ordinary lookups lose no round trip. An answer that does not
// fit names fewer peers; one that still does not fit (values, forwarded
// answers) is replaced by a small CodeOverloaded refusal carrying a token,
// and the requester resends at once with the token (a large value sent to
// a first contact costs one round trip more).
//
// Stores of values that carry no signature (immutable values) are taken
// only from proven addresses, so that each is charged to a real source.

// amplificationFactor bounds an unproven answer against its request.
const amplificationFactor = 3

// PaddedRequestSize is what a request to an address without a token is
// padded to, with msgenc.Message.Pad: QUIC's smallest Initial datagram.
// Its answer may then be up to three times as large.
const PaddedRequestSize = 1200

// tokenEpoch is how long a token secret lasts; a token stays valid for the
// epoch after its own.
const tokenEpoch = 10 * time.Minute

// tokenLen is the length of an address token: 128 bits cannot be guessed.
const tokenLen = 16

// heldTokens bounds the tokens a node keeps, per destination address.
const heldTokens = 4096

// unprovenText is the refusal sent in place of an answer too large for an
// unproven address.
const unprovenText = "address not proven: resend with the token"

// amplifier issues and checks the node's tokens and keeps those others
// issued it.
type amplifier struct {
	master [32]byte
	now    func() time.Time
	// macs holds HMACs keyed with master (*tokenMAC), reset between uses:
	// keying one anew costs two hash blocks and seven allocations, and
	// every answer to an unproven address and every token checked needs
	// one.
	macs sync.Pool

	// held keeps the tokens others issued, by a seeded 64-bit hash of
	// the address (see heldKey): a fixed-size key and value per address,
	// with no allocation of its own. Tokens of other lengths than this
	// node's own (another implementation's) wait in odd, made on first
	// use. Both together hold at most heldTokens.
	held struct {
		mu   sync.Mutex
		seed maphash.Seed
		m    map[uint64][tokenLen]byte
		odd  map[uint64][]byte
	}
}

func newAmplifier(now func() time.Time) (*amplifier, error) {
	a := &amplifier{now: now}
	if _, err := crand.Read(a.master[:]); err != nil {
		return nil, fmt.Errorf("node: token secret: %w", err)
	}
	a.held.seed = maphash.MakeSeed()
	a.held.m = make(map[uint64][tokenLen]byte)
	return a, nil
}

// token is the token of addr (binary multiaddr) in epoch e.
func (a *amplifier) token(addr []byte, e int64) []byte {
	sum := a.mac(addr, e)
	return bytes.Clone(sum[:tokenLen])
}

// tokenMAC is an HMAC keyed with the node's secret and its scratch space:
// the input and sum pass through the hash.Hash interface and would
// otherwise escape, an allocation each.
type tokenMAC struct {
	h   hash.Hash
	eb  [8]byte
	sum [sha256.Size]byte
}

// mac returns the HMAC of epoch e and addr (binary multiaddr); a token is
// its first tokenLen bytes.
func (a *amplifier) mac(addr []byte, e int64) [sha256.Size]byte {
	m, _ := a.macs.Get().(*tokenMAC)
	if m == nil {
		m = &tokenMAC{h: hmac.New(sha256.New, a.master[:])}
	} else {
		m.h.Reset() // back to the keyed state
	}
	binary.BigEndian.PutUint64(m.eb[:], uint64(e))
	m.h.Write(m.eb[:])
	m.h.Write(addr)
	m.h.Sum(m.sum[:0])
	sum := m.sum
	a.macs.Put(m)
	return sum
}

func (a *amplifier) epoch() int64 { return a.now().UnixNano() / int64(tokenEpoch) }

// issue returns the token for addr now.
func (a *amplifier) issue(addr []byte) []byte { return a.token(addr, a.epoch()) }

// valid reports whether tok is addr's token of this epoch or the last.
func (a *amplifier) valid(addr, tok []byte) bool {
	if len(tok) != tokenLen {
		return false
	}
	e := a.epoch()
	if sum := a.mac(addr, e); hmac.Equal(tok, sum[:tokenLen]) {
		return true
	}
	sum := a.mac(addr, e-1)
	return hmac.Equal(tok, sum[:tokenLen])
}

// heldKey is what held is keyed by: a 64-bit hash of the address under
// the node's secret seed. Two addresses that share one (about one chance
// in 2^40 among heldTokens addresses, and no peer can aim for it without
// the seed) share a token slot: the cost is a padded request, or an answer
// cut to fit an unproven address, never a bound lifted, since a token
// proves an address only to the node that issued it.
func (a *amplifier) heldKey(addr ma.Multiaddr) uint64 {
	return maphash.Bytes(a.held.seed, addr.Bytes())
}

// learn keeps tok, issued by the peer at addr. A full map forgets an
// arbitrary token: a peer costs then one padded request more.
func (a *amplifier) learn(addr ma.Multiaddr, tok []byte) {
	if len(tok) == 0 || len(tok) > msgenc.MaxTokenSize {
		return
	}
	k := a.heldKey(addr)
	a.held.mu.Lock()
	defer a.held.mu.Unlock()
	_, ok := a.held.m[k]
	if !ok {
		_, ok = a.held.odd[k]
	}
	if !ok && len(a.held.m)+len(a.held.odd) >= heldTokens {
		a.forgetOneLocked()
	}
	if len(tok) == tokenLen {
		delete(a.held.odd, k)
		a.held.m[k] = [tokenLen]byte(tok)
		return
	}
	delete(a.held.m, k)
	if a.held.odd == nil {
		a.held.odd = make(map[uint64][]byte)
	}
	a.held.odd[k] = append([]byte(nil), tok...)
}

// forgetOneLocked drops an arbitrary held token, from odd first: a token
// of this node's kind is the common case, worth more than a stranger's.
func (a *amplifier) forgetOneLocked() {
	for victim := range a.held.odd {
		delete(a.held.odd, victim)
		return
	}
	for victim := range a.held.m {
		delete(a.held.m, victim)
		return
	}
}

// tokenFor returns the token held for addr, or nil.
func (a *amplifier) tokenFor(addr ma.Multiaddr) []byte {
	k := a.heldKey(addr)
	a.held.mu.Lock()
	defer a.held.mu.Unlock()
	if tok, ok := a.held.m[k]; ok {
		return tok[:]
	}
	return a.held.odd[k]
}

// heldLen is the number of tokens held.
func (a *amplifier) heldLen() int {
	a.held.mu.Lock()
	defer a.held.mu.Unlock()
	return len(a.held.m) + len(a.held.odd)
}

// streamAddr reports whether addr is reached over a transport where a
// sender cannot forge its address: TCP, whose handshake proves it, and the
// in-process mem network, which names every sender itself.
func streamAddr(addr ma.Multiaddr) bool {
	for i := range addr {
		if c := addr[i].Code(); c == ma.P_TCP || c == ma.P_MEMORY {
			return true
		}
	}
	return false
}

// proven reports whether the sender of in proved its address.
func (n *Node) proven(in *incoming) bool {
	return streamAddr(in.pkt.From) || n.amp.valid(in.pkt.From.Bytes(), in.msg.Token)
}

// encodeRequest encodes a request m for to: with the token to gave, or,
// for a datagram address without one, padded to PaddedRequestSize. The
// frame is in a pooled buffer, which the caller releases once it is sent
// (n.frames.release).
func (n *Node) encodeRequest(to ma.Multiaddr, m *msgenc.Message) ([]byte, *[]byte, error) {
	m.Token, m.Pad = nil, nil
	if !streamAddr(to) {
		m.Token = n.amp.tokenFor(to)
	}
	data, buf, err := n.frames.encode(n.cfg.codec, m)
	if err != nil || len(m.Token) > 0 || streamAddr(to) || len(data) >= PaddedRequestSize {
		return data, buf, err
	}
	// First contact only: the padded frame is not worth a pooled buffer.
	n.frames.release(buf)
	data, err = n.padded(m, data)
	return data, nil, err
}

// padded returns m, whose encoding is data, encoded again with a pad that
// brings it to at least PaddedRequestSize bytes.
func (n *Node) padded(m *msgenc.Message, data []byte) ([]byte, error) {
	if len(data) >= PaddedRequestSize {
		return data, nil
	}
	// The pad's own length prefix costs a few bytes: aim short, then
	// top up once.
	m.Pad = make([]byte, max(PaddedRequestSize-len(data)-8, 0))
	data, err := n.cfg.codec.Marshal(m)
	if err != nil || len(data) >= PaddedRequestSize {
		return data, err
	}
	m.Pad = make([]byte, len(m.Pad)+PaddedRequestSize-len(data))
	return n.cfg.codec.Marshal(m)
}

// encodeDirectReplyForward encodes a direct-reply query for its next hop,
// padded to PaddedRequestSize whatever token the hop gave: the holder sends
// its answer to ReplyTo, an address that proved nothing to it, so the
// answer is held to three times the frame that brought the query
// (directReplyAnswer), and the pad keeps an ordinary answer within that.
func (n *Node) encodeDirectReplyForward(m *msgenc.Message) ([]byte, error) {
	m.Token, m.Pad = nil, nil
	data, err := n.cfg.codec.Marshal(m)
	if err != nil {
		return nil, err
	}
	return n.padded(m, data)
}

// directReplyAnswer encodes the answer to a direct-reply query for to,
// its ReplyTo address, which the node cannot tell from a victim's: over a
// datagram transport the answer is held to three times the query's frame
// (received bytes), leaving out peers, then values, and is nil when even
// an empty answer would not fit. Stream addresses prove themselves in the
// handshake and carry the answer whole.
func (n *Node) directReplyAnswer(to ma.Multiaddr, m *msgenc.Message, received int) ([]byte, error) {
	data, err := n.cfg.codec.Marshal(m)
	if err != nil || streamAddr(to) {
		return data, err
	}
	budget := amplificationFactor * received
	fr := m.ForwardReply
	for len(data) > budget {
		switch {
		case fr != nil && len(fr.Peers) > 0:
			fr.Peers = fr.Peers[:len(fr.Peers)-1]
		case fr != nil && len(fr.Records) > 0:
			fr.Records = fr.Records[:len(fr.Records)-1]
		default:
			return nil, nil
		}
		if data, err = n.cfg.codec.Marshal(m); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// sendReply sends the answer m to in's sender, holding it to three times
// the request's size when the sender's address is not proven: an answer
// that does not fit becomes a small refusal with a token, or, if even that
// does not fit, nothing.
func (n *Node) sendReply(ctx context.Context, in *incoming, m *msgenc.Message) error {
	if n.proven(in) {
		return n.send(ctx, in.t, in.pkt.From, m)
	}
	budget := amplificationFactor * len(in.pkt.Data)
	m.Token = n.amp.issue(in.pkt.From.Bytes())
	// Encoded into pooled frames, as n.send does: each encoding releases
	// the one before it, and the last goes back once it is sent.
	var buf *[]byte
	defer func() { n.frames.release(buf) }()
	encode := func(m *msgenc.Message) (data []byte, err error) {
		n.frames.release(buf)
		data, buf, err = n.frames.encode(n.cfg.codec, m)
		return data, err
	}
	data, err := encode(m)
	if err != nil {
		return fmt.Errorf("node: encode %s: %w", m.Kind, err)
	}
	for len(data) > budget && trimPeers(m, len(data)-budget) {
		if data, err = encode(m); err != nil {
			return fmt.Errorf("node: encode %s: %w", m.Kind, err)
		}
	}
	if len(data) > budget && m.Kind == msgenc.KindError && m.Sender != nil {
		// A refusal keeps its code: it goes without the node's record.
		m.Sender = nil
		if data, err = encode(m); err != nil {
			return fmt.Errorf("node: encode %s: %w", m.Kind, err)
		}
	}
	if len(data) > budget || len(data) > in.t.MaxFrameSize() {
		n.stats.cut.Add(1)
		m = &msgenc.Message{Kind: msgenc.KindError, TxID: m.TxID, Token: m.Token,
			Error: &msgenc.Error{Code: msgenc.CodeOverloaded, Message: unprovenText}}
		if data, err = encode(m); err != nil {
			return fmt.Errorf("node: encode %s: %w", m.Kind, err)
		}
		if len(data) > budget {
			n.stats.drop(DropUnproven)
			return nil
		}
	}
	if err := in.t.Send(ctx, in.pkt.From, data); err != nil {
		n.stats.sendErrors.Add(1)
		return err
	}
	n.stats.sentMsg(m)
	return nil
}

// trimPeers leaves out the last peers of an answer, about excess bytes of
// them, and reports whether it could: an answer naming a few peers fewer
// serves a lookup better than a refusal that costs a round trip. Values
// are never left out this way.
func trimPeers(m *msgenc.Message, excess int) bool {
	var peers *[]msgenc.PeerRecord
	switch {
	case m.Peers != nil:
		peers = &m.Peers.Peers
	case m.Value != nil:
		peers = &m.Value.Peers
	}
	if peers == nil || len(*peers) == 0 {
		return false
	}
	ps := *peers
	for len(ps) > 0 && excess > 0 {
		p := &ps[len(ps)-1]
		excess -= len(p.ID) + len(p.PublicKey) + len(p.Signature) + 16
		for _, a := range p.Addrs {
			excess -= len(a) + 2
		}
		ps = ps[:len(ps)-1]
	}
	*peers = ps
	return true
}

// resendProven reports whether a request to c that drew err should be sent
// once more: the peer refused it for want of a proven address, and gave the
// token that proves it.
func (n *Node) resendProven(c contact, m *msgenc.Message, err error) bool {
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != msgenc.CodeOverloaded || re.Message != unprovenText || len(m.Token) > 0 {
		return false
	}
	_, to, terr := n.transportFor(c.addrs)
	return terr == nil && n.amp.tokenFor(to) != nil
}

// storeSource says to whom a store request's unsigned value is charged:
// the prefix of its address (see Quotas), or unprovenSource.
func (n *Node) storeSource(in *incoming) string {
	if !n.proven(in) {
		return unprovenSource
	}
	src := in.src
	if src.prefix != "" {
		return src.prefix
	}
	return src.addr
}

// unprovenSource is the source of a store from an address that has not
// proved itself: a value without a signature is refused from it, so that
// every value is charged to a verified publisher or a real source.
const unprovenSource = "\x00unproven"
