package node

import (
	"context"
	"errors"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
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
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: n.closestWire(target, in.from)}})
	case msgenc.KindFindValue:
		key, err := n.keyID(m.FindValue.Key)
		if err != nil {
			n.replyError(in, msgenc.CodeBadRequest, err.Error())
			return
		}
		v := &msgenc.Value{}
		if rec, ok := n.localValue(key); ok {
			v.Record = rec
		} else {
			v.Peers = n.closestWire(key, in.from)
		}
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindValue, Value: v})
	case msgenc.KindStore:
		seq, code, err := n.storeLocal(n.ctx, in.from, &m.Store.Record, m.Store.CAS, m.Store.ExpectSeq)
		if err != nil {
			n.replyError(in, code, err.Error())
			return
		}
		n.replyTo(in, &msgenc.Message{Kind: msgenc.KindStoreAck, StoreAck: &msgenc.StoreAck{Seq: seq}})
	default:
		n.stats.drop(dropUnexpected)
	}
}

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

// closestWire returns the k peers closest to target in wire form, leaving
// out the requester, who knows itself.
func (n *Node) closestWire(target peer.ID, requester *peer.Record) []msgenc.PeerRecord {
	recs := n.table.Closest(target, n.cfg.k+1)
	out := make([]msgenc.PeerRecord, 0, min(len(recs), n.cfg.k))
	for _, r := range recs {
		if requester != nil && r.ID == requester.ID {
			continue
		}
		if len(out) == n.cfg.k {
			break
		}
		out = append(out, msgenc.FromRecord(r))
	}
	return out
}

// localValue returns the live record stored under key in wire form.
func (n *Node) localValue(key peer.ID) (*msgenc.ValueRecord, bool) {
	rec, err := n.cfg.store.Get(n.ctx, key.Bytes())
	if err != nil {
		return nil, false
	}
	return toWireValue(key, rec, n.cfg.clock.Now()), true
}

func toWireValue(key peer.ID, r kvstore.Record, now time.Time) *msgenc.ValueRecord {
	var ttl uint32
	if !r.Expires.IsZero() {
		ttl = uint32(max(1, min(r.Expires.Sub(now)/time.Second, 1<<32-1)))
	}
	return &msgenc.ValueRecord{
		Key: key.Bytes(), Value: r.Value, Publisher: r.Publisher, Salt: r.Salt,
		Seq: r.Seq, Signature: r.Signature, TTL: ttl,
	}
}

// errStale aborts a store whose sequence number is older than what is held.
var errStale = errors.New("node: a newer version is stored")

// errCAS aborts a conditional store whose expectation failed.
var errCAS = errors.New("node: compare-and-swap failed")

// storeLocal keeps v if the policy allows it and it is not older than what
// is stored: a higher sequence number wins, an equal one replaces (the
// publisher's refresh). It returns the sequence number now held.
func (n *Node) storeLocal(ctx context.Context, from *peer.Record, v *msgenc.ValueRecord, cas bool, expect uint64) (uint64, msgenc.ErrorCode, error) {
	key, err := n.keyID(v.Key)
	if err != nil {
		return 0, msgenc.CodeBadRequest, err
	}
	if err := n.cfg.policy.AcceptValue(from, &trust.Value{
		Key: key, Value: v.Value, Publisher: v.Publisher, Salt: v.Salt, Seq: v.Seq, Signature: v.Signature,
	}); err != nil {
		n.stats.drop(dropPolicy)
		return 0, msgenc.CodeRejected, err
	}
	ttl := n.cfg.recordTTL
	if v.TTL > 0 {
		ttl = min(ttl, time.Duration(v.TTL)*time.Second)
	}
	rec := kvstore.Record{
		Value: v.Value, Expires: n.cfg.clock.Now().Add(ttl), Publisher: v.Publisher,
		Salt: v.Salt, Seq: v.Seq, Signature: v.Signature,
	}
	held := v.Seq
	err = n.cfg.store.Update(ctx, key.Bytes(), func(cur *kvstore.Record) (*kvstore.Record, error) {
		if cas {
			var have uint64
			if cur != nil {
				have = cur.Seq
			}
			if have != expect {
				held = have
				return nil, errCAS
			}
		}
		if cur != nil && cur.Seq > rec.Seq {
			held = cur.Seq
			return nil, errStale
		}
		return &rec, nil
	})
	switch {
	case errors.Is(err, errStale):
		return held, 0, nil
	case errors.Is(err, errCAS):
		return held, msgenc.CodeConflict, err
	case err != nil:
		return 0, msgenc.CodeInternal, err
	}
	return held, 0, nil
}
