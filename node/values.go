package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// parseValue turns a value record from the wire into a verified
// trust.Value: the key must be of this network's key space and the value
// what its kind promises. The result shares w's bytes.
func (n *Node) parseValue(w *msgenc.ValueRecord) (*trust.Value, error) {
	key, err := n.keyID(w.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %w", trust.ErrMalformed, err)
	}
	v := &trust.Value{
		Key: key, Value: w.Value, Publisher: w.Publisher, Salt: w.Salt, Seq: w.Seq, Signature: w.Signature,
	}
	v.Kind = trust.KindOf(n.cfg.hasher, key, w.Publisher, w.Salt)
	if err := v.Verify(n.cfg.hasher); err != nil {
		return nil, err
	}
	return v, nil
}

// wireValue is v's wire form with ttl seconds left to live (0: never
// expires).
func wireValue(v *trust.Value, ttl uint32) msgenc.ValueRecord {
	return msgenc.ValueRecord{
		Key: v.Key.Bytes(), Value: v.Value, Publisher: v.Publisher, Salt: v.Salt,
		Seq: v.Seq, Signature: v.Signature, TTL: ttl,
	}
}

// ttlLeft is the wire TTL of something expiring at exp.
func ttlLeft(exp, now time.Time) uint32 {
	if exp.IsZero() {
		return 0
	}
	return uint32(max(1, min(exp.Sub(now)/time.Second, 1<<32-1)))
}

// acceptReceived verifies the records a peer returned for vq.key and keeps
// those that verify, are under the key, pass vq.keep, and that the policy
// accepts. Each one dropped is counted: a forged or mismatched value is as
// if the peer had none. Those the policy could not judge yet (publisher
// unresolved) are set aside in vq.unresolved for a second look.
func (n *Node) acceptReceived(from *peer.Record, recs []msgenc.ValueRecord, vq *valueQuery) []*trust.Value {
	var out []*trust.Value
	for i := range recs {
		v, err := n.checkReceived(from, vq.key, &recs[i], !vq.raw)
		switch {
		case errors.Is(err, trust.ErrUnresolved):
			if len(vq.unresolved) < msgenc.MaxRecords {
				vq.unresolved = append(vq.unresolved, v)
			}
		case err == nil && (vq.keep == nil || vq.keep(v)):
			out = append(out, v)
		}
	}
	return out
}

// checkReceived verifies one value a peer sent in answer to a query for key
// and, with policy set, asks the policy whether to return it. An immutable
// value certifies itself, so only signed values are put to the policy: it
// decides whose values are returned. A value the policy refuses is returned
// with the refusal.
func (n *Node) checkReceived(from *peer.Record, key peer.ID, w *msgenc.ValueRecord, policy bool) (*trust.Value, error) {
	v, err := n.parseValue(w)
	if err == nil && v.Key != key {
		err = fmt.Errorf("%w: value under %s answers a query for %s", trust.ErrMalformed, v.Key.Short(), key.Short())
	}
	if err != nil {
		n.stats.drop(DropBadValue)
		return nil, err
	}
	if policy && v.Kind != trust.Immutable {
		if err := n.cfg.policy.AcceptValue(from, v); err != nil {
			n.stats.drop(DropPolicy)
			return v, err
		}
	}
	return v, nil
}

// checkValue is what a hop checks of a store it is asked to carry on: the
// value verifies, lies under the query's target, and the policy accepts it.
func (n *Node) checkValue(from *peer.Record, w *msgenc.ValueRecord, target peer.ID) *RemoteError {
	v, err := n.parseValue(w)
	if err != nil {
		n.stats.drop(DropBadValue)
		return refusal(msgenc.CodeInvalid, 0, "%v", err)
	}
	if v.Key != target {
		n.stats.drop(DropBadValue)
		return refusal(msgenc.CodeInvalid, 0, "value key %s is not the query's target %s", v.Key.Short(), target.Short())
	}
	if err := n.cfg.policy.AcceptValue(from, v); err != nil {
		n.stats.drop(DropPolicy)
		return refusal(msgenc.CodeRejected, 0, "%v", err)
	}
	return nil
}

// firstRefusal is the wire form of the first refusal among errs, nil when
// none of them is one.
func firstRefusal(errs []error) *msgenc.Error {
	for _, err := range errs {
		var re *RemoteError
		if errors.As(err, &re) {
			return re.wire()
		}
	}
	return nil
}

// refusal is a replica's answer to a store it will not keep.
func refusal(code msgenc.ErrorCode, seq uint64, format string, args ...any) *RemoteError {
	return &RemoteError{Code: code, Message: fmt.Sprintf(format, args...), Seq: seq}
}

// storeLocal keeps the value w if it verifies, the policy accepts it and it
// does not conflict with what the key holds: under each slot (the immutable
// value, or one publisher's value) the sequence number only grows; the same
// version again refreshes its expiry; a compare-and-swap must name the
// sequence number held (0 for none). It returns the sequence number now held,
// or a *RemoteError saying why it refused.
func (n *Node) storeLocal(ctx context.Context, from *peer.Record, w *msgenc.ValueRecord, cas bool, expect uint64) (uint64, *RemoteError) {
	return n.storeLocalFrom(ctx, "", from, w, cas, expect)
}

// storeLocalFrom is storeLocal for a store whose unsigned values are
// charged to the source prefix src ("": to the total only); see Quotas.
func (n *Node) storeLocalFrom(ctx context.Context, src string, from *peer.Record, w *msgenc.ValueRecord, cas bool, expect uint64) (uint64, *RemoteError) {
	v, err := n.parseValue(w)
	if err != nil {
		n.stats.drop(DropBadValue)
		return 0, refusal(msgenc.CodeInvalid, 0, "%v", err)
	}
	if err := n.cfg.policy.AcceptValue(from, v); err != nil {
		n.stats.drop(DropPolicy)
		return 0, refusal(msgenc.CodeRejected, 0, "%v", err)
	}
	if v.Kind == trust.Immutable && src == unprovenSource {
		return 0, refusal(msgenc.CodeOverloaded, 0, unprovenText)
	}
	now := n.cfg.clock.Now()
	ttl := n.cfg.recordTTL
	if w.TTL > 0 {
		ttl = min(ttl, time.Duration(w.TTL)*time.Second)
	}
	offered := entry{v: v, expires: now.Add(ttl)}
	var held uint64
	var refused *RemoteError
	err = n.cfg.store.Update(ctx, v.Key.Bytes(), func(cur *kvstore.Record) (*kvstore.Record, error) {
		held, refused = 0, nil
		var es []entry
		if cur != nil {
			var err error
			if es, err = decodeSet(v.Key, cur.Value); err != nil {
				return nil, err
			}
		}
		old := slices.Clone(es)
		es = liveEntries(es, now)
		slot := -1
		for i := range es {
			if sameSlot(es[i].v, v) {
				slot = i
				break
			}
		}
		var have uint64
		if slot >= 0 {
			have = es[slot].v.Seq
		}
		switch {
		case cas && have != expect:
			refused = refusal(msgenc.CodeConflict, have, "compare-and-swap expected sequence %d, replica holds %d", expect, have)
		case slot >= 0 && v.Seq < have:
			refused = refusal(msgenc.CodeConflict, have, "sequence %d is older than the %d held", v.Seq, have)
		case slot >= 0 && v.Seq == have && !es[slot].v.Same(v):
			refused = refusal(msgenc.CodeConflict, have, "sequence %d is held with other contents", have)
		case slot >= 0 && v.Seq == have:
			// The same version again: a republish. Extend its life.
			if offered.expires.After(es[slot].expires) {
				es[slot].expires = offered.expires
			}
		case slot >= 0:
			es[slot] = offered
		case len(es) >= n.cfg.valuesPerKey:
			refused = refusal(msgenc.CodeQuota, 0, "key holds %d values, at most %d", len(es), n.cfg.valuesPerKey)
		default:
			es = append(es, offered)
		}
		if refused == nil {
			refused = n.quotas.apply(v.Key, old, es, src)
		}
		if refused != nil {
			return nil, refused
		}
		held = v.Seq
		return &kvstore.Record{Value: encodeSet(es), Expires: setExpiry(es)}, nil
	})
	if refused != nil {
		return held, refused
	}
	if err != nil {
		n.cfg.logger.Warn("store failed", "key", v.Key.Short(), "err", err)
		return 0, refusal(msgenc.CodeInternal, 0, "store: %v", err)
	}
	return held, nil
}

// storedEntries returns the live values held under key.
func (n *Node) storedEntries(key peer.ID) []entry {
	rec, err := n.cfg.store.Get(n.ctx, key.Bytes())
	if err != nil {
		if !errors.Is(err, kvstore.ErrNotFound) && n.ctx.Err() == nil {
			n.cfg.logger.Warn("store read failed", "key", key.Short(), "err", err)
		}
		return nil
	}
	es, err := decodeSet(key, rec.Value)
	if err != nil {
		n.cfg.logger.Warn("stored values unreadable", "key", key.Short(), "err", err)
		return nil
	}
	return liveEntries(es, n.cfg.clock.Now())
}

// localValues returns the live values held under key in wire form, as many
// as fit in budget bytes of value and at most msgenc.MaxRecords.
func (n *Node) localValues(key peer.ID, budget int) []msgenc.ValueRecord {
	es := n.storedEntries(key)
	if len(es) == 0 {
		return nil
	}
	now := n.cfg.clock.Now()
	out := make([]msgenc.ValueRecord, 0, min(len(es), msgenc.MaxRecords))
	for _, e := range es {
		size := len(e.v.Value) + valueOverhead
		if len(out) == msgenc.MaxRecords || size > budget {
			continue
		}
		budget -= size
		out = append(out, wireValue(e.v, ttlLeft(e.expires, now)))
	}
	return out
}

// valueOverhead is a generous bound on the encoded size of a value record
// beyond its value bytes: key, publisher, salt, signature and numbers.
const valueOverhead = msgenc.MaxKeySize + 32 + 64 + 64 + 64
