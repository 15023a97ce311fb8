package conformance

import (
	"context"
	"slices"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// NetworkObserver is a harness that shows what each node received.
type NetworkObserver interface {
	// Received returns every frame n received so far, oldest first, over
	// all of n's transports.
	Received(n *node.Node) []NetworkFrame
}

// NetworkFrame is one frame a node received.
type NetworkFrame struct {
	// From is the sender's address as the receiving transport saw it.
	From ma.Multiaddr
	// Data is the frame as received.
	Data []byte
	// Msg is Data decoded by the network's codec, nil when it did not
	// decode.
	Msg *msgenc.Message
}

// NetworkRecorder is a transport that records every frame it receives, so
// that a harness can implement NetworkObserver: wrap each node's transport
// in one and give the node the recorder. It keeps every frame until the
// test ends; use it in tests only.
type NetworkRecorder struct {
	transport.Transport
	codec msgenc.Codec

	mu     sync.Mutex
	frames []NetworkFrame
}

var _ transport.Transport = (*NetworkRecorder)(nil)

// NewNetworkRecorder wraps t; codec must be the network's codec, to decode
// what arrives.
func NewNetworkRecorder(t transport.Transport, codec msgenc.Codec) *NetworkRecorder {
	return &NetworkRecorder{Transport: t, codec: codec}
}

// Receive receives from the wrapped transport and records the frame.
func (r *NetworkRecorder) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := r.Transport.Receive(ctx)
	if err != nil {
		return p, err
	}
	f := NetworkFrame{From: slices.Clone(p.From), Data: slices.Clone(p.Data)}
	if m, err := r.codec.Unmarshal(f.Data); err == nil {
		f.Msg = m
	}
	r.mu.Lock()
	r.frames = append(r.frames, f)
	r.mu.Unlock()
	return p, nil
}

// Frames returns the frames received so far, oldest first.
func (r *NetworkRecorder) Frames() []NetworkFrame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.frames)
}

// networkFrameAddrs returns every address a frame carries: its sender's and
// those inside the decoded message, in binary form.
func networkFrameAddrs(f NetworkFrame) [][]byte {
	out := [][]byte{f.From.Bytes()}
	m := f.Msg
	if m == nil {
		return out
	}
	recs := func(rs []msgenc.PeerRecord) {
		for _, r := range rs {
			out = append(out, r.Addrs...)
		}
	}
	if m.Sender != nil {
		out = append(out, m.Sender.Addrs...)
	}
	if m.Pong != nil {
		out = append(out, m.Pong.Observed)
	}
	if m.Peers != nil {
		recs(m.Peers.Peers)
	}
	if m.Value != nil {
		recs(m.Value.Peers)
	}
	if m.Forward != nil {
		out = append(out, m.Forward.ReplyTo...)
	}
	if m.ForwardReply != nil {
		recs(m.ForwardReply.Peers)
	}
	return out
}
