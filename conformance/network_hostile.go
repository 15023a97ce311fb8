package conformance

import (
	"context"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// NetworkHostile is a harness that can build hostile nodes: nodes that route
// and store like the others but forge their answers to value queries.
type NetworkHostile interface {
	// NewHostileNode builds and starts node i like NewNode, except that
	// every answer it sends to a value query, its own or one it relays,
	// carries the records forge returns instead of those it would have
	// sent. NewNetworkForger wraps a transport so.
	NewHostileNode(i int, o NetworkNodeOptions, forge NetworkForgery) (*node.Node, error)
}

// NetworkForgery returns the value records a hostile node answers a query
// for key with, given those an honest node would have answered with (none
// when it holds nothing and would name closer peers). It is called
// concurrently, and must not keep or modify honest.
type NetworkForgery func(key []byte, honest []msgenc.ValueRecord) []msgenc.ValueRecord

// NewNetworkForger wraps t so that the node it is given to forges its
// answers to value queries, so that a harness can implement
// NetworkHostile. It learns the key of each find-value and forwarded
// find-value the node receives, and rewrites the records of the answers the
// node sends back (a value reply, or the records of a forward reply, then no
// longer a not-found) with forge. codec must be the network's codec.
func NewNetworkForger(t transport.Transport, codec msgenc.Codec, forge NetworkForgery) transport.Transport {
	return &networkForger{
		Transport: t, codec: codec, forge: forge,
		asked: make(map[networkAsk][]byte), queries: make(map[string][]byte),
	}
}

// networkForger is the transport NewNetworkForger returns.
type networkForger struct {
	transport.Transport
	codec msgenc.Codec
	forge NetworkForgery

	mu      sync.Mutex
	asked   map[networkAsk][]byte // find-value requests: who asked, for what key
	queries map[string][]byte     // forwarded find-value queries: query ID → key
}

// networkAsk names a request by its sender and transaction ID, as the reply
// to it is addressed.
type networkAsk struct {
	from string
	tx   uint64
}

// networkForgerMemory bounds the requests a forger remembers.
const networkForgerMemory = 1 << 14

func (f *networkForger) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := f.Transport.Receive(ctx)
	if err != nil {
		return p, err
	}
	m, err := f.codec.Unmarshal(p.Data)
	if err != nil {
		return p, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.asked)+len(f.queries) > networkForgerMemory {
		clear(f.asked)
		clear(f.queries)
	}
	switch {
	case m.Kind == msgenc.KindFindValue && m.FindValue != nil:
		f.asked[networkAsk{string(p.From.Bytes()), m.TxID}] = m.FindValue.Key
	case m.Kind == msgenc.KindForward && m.Forward != nil && m.Forward.Op == msgenc.KindFindValue:
		f.queries[string(m.Forward.QueryID)] = m.Forward.Target
	}
	return p, nil
}

func (f *networkForger) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	m, err := f.codec.Unmarshal(frame)
	if err != nil {
		return f.Transport.Send(ctx, to, frame)
	}
	var key []byte
	f.mu.Lock()
	switch {
	case m.Kind == msgenc.KindValue && m.Value != nil:
		key = f.asked[networkAsk{string(to.Bytes()), m.TxID}]
	case m.Kind == msgenc.KindForwardReply && m.ForwardReply != nil:
		key = f.queries[string(m.ForwardReply.QueryID)]
	}
	f.mu.Unlock()
	if key == nil {
		return f.Transport.Send(ctx, to, frame)
	}
	switch m.Kind {
	case msgenc.KindValue:
		m.Value.Records = networkCapRecords(f.forge(key, m.Value.Records))
	case msgenc.KindForwardReply:
		r := m.ForwardReply
		if r.Error != nil && r.Error.Code != msgenc.CodeNotFound {
			break // a failure, not an answer about values
		}
		if recs := networkCapRecords(f.forge(key, r.Records)); len(recs) > 0 {
			r.Records, r.Error = recs, nil
		}
	}
	forged, err := f.codec.Marshal(m)
	if err != nil || len(forged) > f.MaxFrameSize() {
		return f.Transport.Send(ctx, to, frame)
	}
	return f.Transport.Send(ctx, to, forged)
}

// networkCapRecords keeps the first msgenc.MaxRecords records, as many as a
// reply may carry.
func networkCapRecords(recs []msgenc.ValueRecord) []msgenc.ValueRecord {
	return recs[:min(len(recs), msgenc.MaxRecords)]
}
