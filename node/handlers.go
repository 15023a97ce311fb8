package node

import (
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
)

// handleRequest answers the requests that need no further network work.
func (n *Node) handleRequest(in *incoming) {
	n.stats.served.Add(1)
	m := in.msg
	switch m.Kind {
	case msgenc.KindPing:
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindPong, Pong: &msgenc.Pong{Observed: in.pkt.From.Bytes()}})
	case msgenc.KindFindNode:
		target, err := n.keyID(m.FindNode.Target)
		if err != nil {
			n.replyError(in, msgenc.CodeBadRequest, err.Error())
			return
		}
		ps := n.closestWire(target, in.requester())
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: ps.list}})
		ps.release()
	case msgenc.KindFindValue:
		key, err := n.keyID(m.FindValue.Key)
		if err != nil {
			n.replyError(in, msgenc.CodeBadRequest, err.Error())
			return
		}
		// Peers come with the values too: a reader that cannot verify
		// what this node holds (or distrusts it) goes on from them.
		ps := n.closestWire(key, in.requester())
		v := &msgenc.Value{Records: n.localValues(key, in.t.MaxFrameSize()-replyReserve), Peers: ps.list}
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindValue, Value: v})
		ps.release()
	case msgenc.KindStore:
		seq, refused := n.storeLocalFrom(n.ctx, n.storeSource(in), in.from, &m.Store.Record, m.Store.CAS, m.Store.ExpectSeq)
		if refused != nil {
			n.replyTo(in, &msgenc.Message{Kind: msgenc.KindError, Error: refused.wire()})
			return
		}
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindStoreAck, StoreAck: &msgenc.StoreAck{Seq: seq}})
	default:
		n.stats.drop(DropUnexpected)
	}
}

// requester is the ID the request's sender gave, verified or not; the zero
// ID for clients.
func (in *incoming) requester() peer.ID {
	if in.from != nil {
		return in.from.ID
	}
	return in.claimed
}

// replyReserve is what a reply frame keeps for everything but its values:
// the sender's record, peers, framing.
const replyReserve = 4096

// keyID parses a key-space ID of this network's length from the wire.
func (n *Node) keyID(b []byte) (peer.ID, error) {
	id, err := peer.IDFromBytes(b)
	if err != nil {
		return peer.ID{}, err
	}
	if id.Len() != n.id.Len() {
		return peer.ID{}, peer.ErrIDLength
	}
	return id, nil
}

// closestWire returns the k peers closest to target in wire form, in a
// wirePeers that the caller releases once the reply is sent, leaving
// out the requester, who knows itself, and the peers that just failed to
// answer this node: the next closest take their places. Where many peers
// are dead or cut off, an answer of the k closest with those left out would
// name few peers or none, and the live ones farther away would never be
// found.
func (n *Node) closestWire(target peer.ID, requester peer.ID) *wirePeers {
	now := n.cfg.clock.Now()
	ps := getWirePeers()
	for want := n.cfg.k + 1; ; want *= 2 {
		recs := n.table.Closest(target, want)
		ps.list = ps.list[:0]
		ps.wb.grow(recs)
		for _, r := range recs {
			if r.ID == requester || n.health.down(r.ID, now) {
				continue
			}
			if len(ps.list) == n.cfg.k {
				break
			}
			ps.list = append(ps.list, ps.wb.add(r))
		}
		if len(ps.list) == n.cfg.k || len(recs) < want {
			return ps
		}
	}
}
