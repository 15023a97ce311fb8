package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// NetworkProber is a harness that can speak the protocol itself, as a
// stranger would: send a node frames no node would send (forged stores,
// say) and ask a node what it holds without going through any node.
type NetworkProber interface {
	// Probe sends m to the address from an address of the harness's own,
	// encoded with the network's codec, and returns the reply. It sets
	// m.TxID; m.Sender is sent as given (nil: an anonymous request).
	Probe(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error)
}

// NetworkRawPeer is a peer that is no node, so that a harness can implement
// NetworkProber: give it a transport of its own that reaches the nodes, and
// forward Probe to it. It sends one request at a time. Like a node, it
// keeps the address token each node hands it (msgenc.Message.Token) and
// echoes it, so that nodes which hold answers to unproven addresses to a
// few times the request's size answer it in full.
type NetworkRawPeer struct {
	t     transport.Transport
	codec msgenc.Codec

	mu     sync.Mutex // one request at a time; guards tx and tokens
	tx     uint64
	tokens map[string][]byte // address → the token its node gave
}

// rawPeerTokens bounds the tokens a raw peer keeps.
const rawPeerTokens = 1024

var _ NetworkProber = (*NetworkRawPeer)(nil)

// NewNetworkRawPeer returns a raw peer sending over t; codec must be the
// network's codec. The raw peer uses t but does not own it: the harness
// closes t.
func NewNetworkRawPeer(t transport.Transport, codec msgenc.Codec) *NetworkRawPeer {
	return &NetworkRawPeer{t: t, codec: codec, tx: 1 << 40, tokens: make(map[string][]byte)}
}

// Probe sends m to the address and returns the reply with the same
// transaction ID, dropping other frames that arrive meanwhile (late
// replies to earlier probes). m carries the token the node at to gave
// before, if any; a refusal that hands over a token where m had none is
// answered by sending m once more with it.
func (r *NetworkRawPeer) Probe(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(m.Token) == 0 {
		m.Token = r.tokens[string(to.Bytes())]
	}
	rep, err := r.exchange(ctx, to, m)
	if err != nil || len(rep.Token) == 0 {
		return rep, err
	}
	had := len(m.Token) > 0
	r.keepToken(to, rep.Token)
	if rep.Kind != msgenc.KindError || had {
		return rep, nil
	}
	m.Token = rep.Token
	return r.exchange(ctx, to, m)
}

// keepToken remembers the token the node at to gave, forgetting all once
// too many are held (a harness talks to few nodes).
func (r *NetworkRawPeer) keepToken(to ma.Multiaddr, tok []byte) {
	if len(r.tokens) >= rawPeerTokens {
		clear(r.tokens)
	}
	r.tokens[string(to.Bytes())] = slices.Clone(tok)
}

// exchange sends m once and waits for the reply to it.
func (r *NetworkRawPeer) exchange(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	r.tx++
	m.TxID = r.tx
	data, err := r.codec.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("raw peer: encoding a %s: %w", m.Kind, err)
	}
	if err := r.t.Send(ctx, to, data); err != nil {
		return nil, fmt.Errorf("raw peer: sending a %s to %s: %w", m.Kind, to, err)
	}
	for {
		p, err := r.t.Receive(ctx)
		if err != nil {
			return nil, fmt.Errorf("raw peer: waiting for the answer to a %s from %s: %w", m.Kind, to, err)
		}
		rep, err := r.codec.Unmarshal(p.Data)
		if err != nil {
			return nil, fmt.Errorf("raw peer: %s answered a %s with an undecodable frame: %w", to, m.Kind, err)
		}
		if rep.TxID == m.TxID {
			return rep, nil
		}
	}
}

// networkProbeTimeout bounds one probe of a node by the harness's raw peer.
const networkProbeTimeout = 5 * time.Second

// networkProbe asks a prober with its own deadline, so that a node that
// never answers costs one probe timeout, not the rule's watchdog.
func networkProbe(w *networkNet, p NetworkProber, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	ctx, cancel := context.WithTimeout(w.e.ctx, networkProbeTimeout)
	defer cancel()
	rep, err := p.Probe(ctx, to, m)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return nil, errors.New("Probe returned no reply and no error")
	}
	return rep, nil
}

// networkHeld asks the node at addr, anonymously, for the values it holds
// under key: the records of its find-value answer, none when it answers
// with peers.
func networkHeld(w *networkNet, p NetworkProber, addr ma.Multiaddr, key []byte) ([]msgenc.ValueRecord, error) {
	rep, err := networkProbe(w, p, addr, &msgenc.Message{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: key}})
	if err != nil {
		return nil, err
	}
	if rep.Kind != msgenc.KindValue || rep.Value == nil {
		return nil, fmt.Errorf("%s answered a find-value with a %s", addr, rep.Kind)
	}
	return rep.Value.Records, nil
}
