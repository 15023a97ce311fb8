package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
)

// Put publishes value under key as this node's plain value: signed by the
// node's identity, with the publish time as its sequence number, so a later
// Put replaces an earlier one. Other publishers may hold their own values
// under the same key; no one else can replace or remove this one. It
// returns how many of the k closest peers accepted, and an error only when
// none did, saying why (errors.Is: ErrConflict, ErrRejected, ErrQuota, …).
// The node republishes the value until Close.
func (n *Node) Put(ctx context.Context, key, value []byte, opts ...CallOption) (int, error) {
	if err := n.live(); err != nil {
		return 0, err
	}
	v, err := trust.NewPlain(n.cfg.identity, n.KeyID(key), n.nextSeq(), value)
	if err != nil {
		return 0, fmt.Errorf("node: put: %w", err)
	}
	return n.PutValue(ctx, v, opts...)
}

// PutImmutable stores value under its hash and returns that key with the
// number of replicas that accepted.
func (n *Node) PutImmutable(ctx context.Context, value []byte, opts ...CallOption) (peer.ID, int, error) {
	v := trust.NewImmutable(n.cfg.hasher, value)
	acks, err := n.PutValue(ctx, v, opts...)
	return v.Key, acks, err
}

// PutMutable publishes this node's mutable value under salt at sequence
// number seq, signed by its identity. Replicas keep only growing sequence
// numbers; WithCAS makes the write conditional on the version replaced.
// GetMutable with the node's public key and salt reads it back.
func (n *Node) PutMutable(ctx context.Context, salt []byte, seq uint64, value []byte, opts ...CallOption) (int, error) {
	v, err := trust.NewMutable(n.cfg.identity, n.cfg.hasher, salt, seq, value)
	if err != nil {
		return 0, fmt.Errorf("node: put: %w", err)
	}
	return n.PutValue(ctx, v, opts...)
}

// PutValue stores a value made and signed elsewhere (trust.NewPlain with
// another identity, an endorsement, a value fetched for re-publishing). It
// is verified first; the node republishes it verbatim until Close.
func (n *Node) PutValue(ctx context.Context, v *trust.Value, opts ...CallOption) (int, error) {
	if err := n.live(); err != nil {
		return 0, err
	}
	if err := v.Verify(n.cfg.hasher); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	rec := wireValue(v.Clone(), ttlSeconds(n.cfg.recordTTL))
	if err := n.checkSize(&rec); err != nil {
		return 0, err
	}
	o := n.options(opts)
	acks, err := n.putRecord(ctx, &rec, o)
	if err == nil {
		n.published.add(v, &rec)
		n.saveState()
	}
	return acks, err
}

func ttlSeconds(d time.Duration) uint32 { return uint32(min(d/time.Second, 1<<32-1)) }

// checkSize refuses, before anything is sent, a value whose store frame
// the node's transports cannot carry, or whose answer could not come back.
func (n *Node) checkSize(rec *msgenc.ValueRecord) error {
	if len(rec.Value) > msgenc.MaxValueSize {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrValueTooLarge, len(rec.Value), msgenc.MaxValueSize)
	}
	largest := 0
	for _, t := range n.transports {
		largest = max(largest, t.MaxFrameSize())
	}
	data, err := n.cfg.codec.Marshal(&msgenc.Message{Kind: msgenc.KindStore, TxID: 1, Sender: &n.selfWire, Store: &msgenc.Store{Record: *rec}})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrValueTooLarge, err)
	}
	if len(data)+replyReserve/2 > largest {
		return fmt.Errorf("%w: %d bytes encode to a %d-byte frame; the node's transports carry at most %d (less %d for the reply's other fields)",
			ErrValueTooLarge, len(rec.Value), len(data), largest, replyReserve/2)
	}
	return nil
}

// nextSeq is the sequence number of this node's next plain value: the
// clock in nanoseconds, kept growing even if the clock steps back.
func (n *Node) nextSeq() uint64 {
	now := uint64(max(n.cfg.clock.Now().UnixNano(), 1))
	for {
		last := n.lastSeq.Load()
		next := max(now, last+1)
		if n.lastSeq.CompareAndSwap(last, next) {
			return next
		}
	}
}

// putRecord stores rec at the closest peers in the given mode.
func (n *Node) putRecord(ctx context.Context, rec *msgenc.ValueRecord, o callOptions) (int, error) {
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	start := n.cfg.clock.Now()
	id, err := n.keyID(rec.Key)
	if err != nil {
		return 0, err
	}
	if o.mode.kind != kindDirect {
		res, err := n.forwardQuery(ctx, *o.mode, msgenc.KindStore, id, rec, nil, o)
		n.finish(o, start, res.rpcs, res.hops, err)
		if err != nil {
			return 0, fmt.Errorf("node: put: %w", err)
		}
		if res.stored == 0 {
			return 0, fmt.Errorf("node: put: no replica acknowledged")
		}
		return res.stored, nil
	}
	res, err := n.lookupPaths(ctx, id, nil, o)
	if err != nil {
		n.finish(o, start, res.rpcs, res.hops, err)
		return 0, fmt.Errorf("node: put: %w", err)
	}
	closest := res.closest[:min(len(res.closest), o.replicas)]
	acks, rpcs, errs := n.storeAt(ctx, closest, rec, n.self, o)
	n.finish(o, start, res.rpcs+rpcs, res.hops, nil)
	if acks == 0 {
		return 0, fmt.Errorf("node: put: none of %d replicas accepted: %w", max(len(closest), 1), errors.Join(errs...))
	}
	return acks, nil
}

// storeAt sends a Store of rec to each peer, in parallel, and counts the
// acceptances; errs says why the others did not. When the node itself is
// closer to the key than the farthest peer, it keeps a replica too, as if
// from offered it, and counts it.
func (n *Node) storeAt(ctx context.Context, peers []*peer.Record, rec *msgenc.ValueRecord, from *peer.Record, o callOptions) (acks, rpcs int, errs []error) {
	want := max(len(peers), 1)
	if o.replicas > 0 {
		want = o.replicas
	}
	if !n.cfg.client {
		key, _ := n.keyID(rec.Key)
		if len(peers) < want || peer.CompareDistance(key, n.id, peers[len(peers)-1].ID) < 0 {
			if _, refused := n.storeLocal(ctx, from, rec, o.cas, o.expect); refused == nil {
				acks++
				if len(peers) >= want {
					peers = peers[:len(peers)-1]
				}
			} else {
				errs = append(errs, refused)
			}
		}
	}
	a, errsRemote := n.storeRemote(ctx, peers, rec, o)
	return acks + a, len(peers), append(errs, errsRemote...)
}

// storeRemote sends a Store of rec to each peer, in parallel, and counts
// the acceptances; errs says why the others did not.
func (n *Node) storeRemote(ctx context.Context, peers []*peer.Record, rec *msgenc.ValueRecord, o callOptions) (acks int, errs []error) {
	type result struct {
		from peer.ID
		err  error
	}
	done := make(chan result, len(peers))
	store := &msgenc.Store{Record: *rec, CAS: o.cas, ExpectSeq: o.expect}
	for _, p := range peers {
		go func() {
			_, err := n.call(ctx, contactOf(p), &msgenc.Message{Kind: msgenc.KindStore, Store: store})
			done <- result{p.ID, err}
		}()
	}
	for range peers {
		r := <-done
		if r.err == nil {
			acks++
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.from.Short(), r.err))
	}
	return acks, errs
}

// Get returns the newest value (the highest sequence number) that any
// publisher holds under key, or, with WithPublisher, that publisher's
// value. It returns ErrNotFound when no replica holds one that verifies.
func (n *Node) Get(ctx context.Context, key []byte, opts ...CallOption) ([]byte, error) {
	vals, err := n.GetAll(ctx, key, opts...)
	if err != nil {
		return nil, err
	}
	best := vals[0]
	for _, v := range vals[1:] {
		if v.Seq > best.Seq {
			best = v
		}
	}
	return best.Value, nil
}

// GetAll returns the verified plain values under key, one per publisher
// (the highest sequence number each), as the replicas that answered hold
// them.
func (n *Node) GetAll(ctx context.Context, key []byte, opts ...CallOption) ([]*trust.Value, error) {
	if err := n.live(); err != nil {
		return nil, err
	}
	o := n.options(opts)
	keep := func(v *trust.Value) bool {
		return v.Kind == trust.Plain && (o.publisher == nil || bytes.Equal(v.Publisher, o.publisher))
	}
	return n.getValues(ctx, n.KeyID(key), keep, o)
}

// GetImmutable returns the value whose hash is key.
func (n *Node) GetImmutable(ctx context.Context, key peer.ID, opts ...CallOption) ([]byte, error) {
	if err := n.live(); err != nil {
		return nil, err
	}
	keep := func(v *trust.Value) bool { return v.Kind == trust.Immutable }
	vals, err := n.getValues(ctx, key, keep, n.options(opts))
	if err != nil {
		return nil, err
	}
	return vals[0].Value, nil
}

// GetMutable returns the mutable value publisher keeps under salt: the
// highest sequence number among the replicas asked (see WithQuorum).
func (n *Node) GetMutable(ctx context.Context, publisher ed25519.PublicKey, salt []byte, opts ...CallOption) (*trust.Value, error) {
	if err := n.live(); err != nil {
		return nil, err
	}
	if len(publisher) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: publisher key is %d bytes, want %d", ErrConfig, len(publisher), ed25519.PublicKeySize)
	}
	keep := func(v *trust.Value) bool { return v.Kind == trust.Mutable && bytes.Equal(v.Publisher, publisher) }
	vals, err := n.getValues(ctx, trust.MutableKey(n.cfg.hasher, publisher, salt), keep, n.options(opts))
	if err != nil {
		return nil, err
	}
	return vals[0], nil
}

// FetchValues returns every verified value under key, as GetAll does for
// any kind. It is the trust.Fetcher the node hands to a policy.
func (n *Node) FetchValues(ctx context.Context, key peer.ID) ([]*trust.Value, error) {
	vals, err := n.getValues(ctx, key, nil, n.options([]CallOption{WithMode(Direct())}))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return vals, err
}

// getValues finds the values under id that keep accepts, from o.quorum
// replicas (this node's own replica counts as one), and returns the newest
// version of each slot, the newest first.
func (n *Node) getValues(ctx context.Context, id peer.ID, keep func(*trust.Value) bool, o callOptions) ([]*trust.Value, error) {
	ctx, cancel := n.callCtx(ctx)
	defer cancel()
	start := n.cfg.clock.Now()
	var found []*trust.Value
	answers := 0
	for _, e := range n.storedEntries(id) {
		if keep == nil || keep(e.v) {
			found = append(found, e.v.Clone())
		}
	}
	if len(found) > 0 {
		answers++
	}
	var (
		rpcs, hops int
		err        error
	)
	if answers < o.quorum {
		vq := &valueQuery{key: id, quorum: o.quorum - answers, keep: keep}
		if o.mode.kind == kindDirect {
			var res lookupResult
			res, err = n.lookupPaths(ctx, id, vq, o)
			found, rpcs, hops = append(found, res.values...), res.rpcs, res.hops
		} else {
			var res forwardResult
			res, err = n.forwardQuery(ctx, *o.mode, msgenc.KindFindValue, id, nil, vq, callOptions{fanout: o.fanout})
			found, rpcs, hops = append(found, res.values...), res.rpcs, res.hops
		}
		if len(found) == 0 && len(vq.unresolved) > 0 {
			// The policy has not met these publishers: let it read about
			// them now, then judge again.
			n.refreshPolicy(ctx, nil)
			for _, v := range vq.unresolved {
				if n.cfg.policy.AcceptValue(nil, v) == nil && (keep == nil || keep(v)) {
					found = append(found, v)
				}
			}
		}
		if err != nil && len(found) > 0 {
			err = nil // some replicas answered: a quorum not reached is not a failure
		}
	}
	if err == nil && len(found) == 0 {
		err = fmt.Errorf("%w: key %s", ErrNotFound, id.Short())
	}
	n.finish(o, start, rpcs, hops, err)
	if err != nil {
		return nil, err
	}
	n.table.Refreshed(id, n.cfg.clock.Now())
	return newestPerSlot(found), nil
}

// newestPerSlot keeps, of each slot's versions, the highest sequence
// number, and orders the result newest first.
func newestPerSlot(vals []*trust.Value) []*trust.Value {
	var out []*trust.Value
	for _, v := range vals {
		i := slices.IndexFunc(out, func(o *trust.Value) bool { return sameSlot(o, v) })
		switch {
		case i < 0:
			out = append(out, v)
		case v.Seq > out[i].Seq:
			out[i] = v
		}
	}
	slices.SortStableFunc(out, func(a, b *trust.Value) int {
		switch {
		case a.Seq > b.Seq:
			return -1
		case a.Seq < b.Seq:
			return 1
		}
		return 0
	})
	return out
}
