package conformance_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// The signed-value rules catch networks that keep or return what they must
// not. Each harness below is the mem network built from the suite's
// exported helpers (NetworkRawPeer, NewNetworkForger, NetworkClock) with one
// thing broken; CheckNetwork must report exactly the rules it breaks. The
// harness has no loss, partitions or observer, so those rules are left out.

// networkTamper says what a tampered network breaks.
type networkTamper struct {
	// configure adjusts every node's builder.
	configure func(b *node.Builder)
	// reply may rewrite a node's reply m to the store st it received; it
	// reports whether it did.
	reply func(st *msgenc.Store, m *msgenc.Message) bool
	// send may rewrite any message a node sends; advanced says whether the
	// clock has been moved. It reports whether it did.
	send func(m *msgenc.Message, advanced bool) bool
	// noForgery builds hostile nodes that forge nothing.
	noForgery bool
}

// networkTampered is the harness networkTamperedMem makes.
type networkTampered struct {
	tm       networkTamper
	net      *mem.Network
	codec    msgenc.Codec
	clock    *conformance.NetworkClock
	raw      *conformance.NetworkRawPeer
	advanced atomic.Bool
}

var (
	_ conformance.NetworkHarness       = (*networkTampered)(nil)
	_ conformance.NetworkProber        = (*networkTampered)(nil)
	_ conformance.NetworkHostile       = (*networkTampered)(nil)
	_ conformance.NetworkClockAdvancer = (*networkTampered)(nil)
)

func networkTamperedMem(tm networkTamper) func(t *testing.T) conformance.NetworkHarness {
	return func(t *testing.T) conformance.NetworkHarness {
		h := &networkTampered{tm: tm, net: mem.NewNetwork(mem.Options{}), codec: cbor.New(), clock: conformance.NewNetworkClock()}
		t.Cleanup(func() { _ = h.net.Close() })
		ep, err := h.net.Listen(nil)
		require.NoError(t, err)
		h.raw = conformance.NewNetworkRawPeer(ep, h.codec)
		return h
	}
}

func (h *networkTampered) NewNode(i int, o conformance.NetworkNodeOptions) (*node.Node, error) {
	return h.build(o, nil)
}

func (h *networkTampered) NewHostileNode(i int, o conformance.NetworkNodeOptions, forge conformance.NetworkForgery) (*node.Node, error) {
	if h.tm.noForgery {
		return h.build(o, nil)
	}
	return h.build(o, func(t transport.Transport) transport.Transport {
		return conformance.NewNetworkForger(t, h.codec, forge)
	})
}

func (h *networkTampered) build(o conformance.NetworkNodeOptions, wrap func(transport.Transport) transport.Transport) (*node.Node, error) {
	ep, err := h.net.Listen(nil)
	if err != nil {
		return nil, err
	}
	var t transport.Transport = ep
	if h.tm.reply != nil || h.tm.send != nil {
		t = &networkMiddlebox{Transport: ep, h: h, stores: map[string]*msgenc.Store{}}
	}
	if wrap != nil {
		t = wrap(t)
	}
	b := node.NewBuilder().Transport(t).Codec(h.codec).RPCTimeout(200 * time.Millisecond).Client(o.Client).Clock(h.clock)
	if h.tm.configure != nil {
		h.tm.configure(b)
	}
	return b.Build(context.Background())
}

func (h *networkTampered) Crash(n *node.Node) error {
	for _, a := range n.Addrs() {
		if err := h.net.Crash(a); err != nil {
			return err
		}
	}
	return nil
}

func (h *networkTampered) Probe(ctx context.Context, to ma.Multiaddr, m *msgenc.Message) (*msgenc.Message, error) {
	return h.raw.Probe(ctx, to, m)
}

func (h *networkTampered) Advance(d time.Duration) error {
	h.advanced.Store(true)
	return h.clock.Advance(d)
}

func (h *networkTampered) Close() error { return h.net.Close() }

// networkMiddlebox rewrites what a node sends, as networkTamper says.
type networkMiddlebox struct {
	transport.Transport
	h *networkTampered

	mu     sync.Mutex
	stores map[string]*msgenc.Store // received, by sender and transaction ID
}

func networkStoreKey(a ma.Multiaddr, tx uint64) string { return fmt.Sprintf("%x/%d", a.Bytes(), tx) }

func (m *networkMiddlebox) Receive(ctx context.Context) (transport.Packet, error) {
	p, err := m.Transport.Receive(ctx)
	if err != nil || m.h.tm.reply == nil {
		return p, err
	}
	if msg, err := m.h.codec.Unmarshal(p.Data); err == nil && msg.Kind == msgenc.KindStore {
		m.mu.Lock()
		m.stores[networkStoreKey(p.From, msg.TxID)] = msg.Store
		m.mu.Unlock()
	}
	return p, nil
}

func (m *networkMiddlebox) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	msg, err := m.h.codec.Unmarshal(frame)
	if err != nil {
		return m.Transport.Send(ctx, to, frame)
	}
	changed := false
	if m.h.tm.reply != nil {
		k := networkStoreKey(to, msg.TxID)
		m.mu.Lock()
		st := m.stores[k]
		delete(m.stores, k)
		m.mu.Unlock()
		if st != nil {
			changed = m.h.tm.reply(st, msg)
		}
	}
	if m.h.tm.send != nil && m.h.tm.send(msg, m.h.advanced.Load()) {
		changed = true
	}
	if changed {
		if frame, err = m.h.codec.Marshal(msg); err != nil {
			return err
		}
	}
	return m.Transport.Send(ctx, to, frame)
}

// networkAckRefusals returns a reply hook that acknowledges the refusals
// with the given code of the stores that match.
func networkAckRefusals(code msgenc.ErrorCode, match func(*msgenc.Store) bool) func(*msgenc.Store, *msgenc.Message) bool {
	return func(st *msgenc.Store, m *msgenc.Message) bool {
		if m.Kind != msgenc.KindError || m.Error.Code != code || !match(st) {
			return false
		}
		*m = msgenc.Message{Kind: msgenc.KindStoreAck, TxID: m.TxID, Sender: m.Sender, StoreAck: &msgenc.StoreAck{Seq: st.Record.Seq}}
		return true
	}
}

// networkValueOptions sizes the meta-tests' networks: small, and direct
// mode only, which every broken network below breaks.
var networkValueOptions = conformance.NetworkOptions{Size: 6, Modes: []node.Mode{node.Direct()}}

// networkExpectReason asserts that the violation of rule says why.
func networkExpectReason(t *testing.T, errs []error, rule, why string) {
	t.Helper()
	for _, err := range errs {
		if v, ok := err.(*conformance.Violation); ok && v.Rule == rule && !strings.Contains(v.Err.Error(), why) {
			t.Errorf("rule %q reported for another reason than %q: %v", rule, why, v.Err)
		}
	}
}

func TestNetworkSuiteReportsReplicasThatAcknowledgeForgedWrites(t *testing.T) {
	t.Parallel()
	// Every refusal of an invalid value is answered with an
	// acknowledgement, though nothing is stored.
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		reply: networkAckRefusals(msgenc.CodeInvalid, func(*msgenc.Store) bool { return true }),
	}), networkValueOptions)
	networkExpect(t, errs, []string{"forged-writes-refused"})
	networkExpectReason(t, errs, "forged-writes-refused", "acknowledged")
}

func TestNetworkSuiteReportsReplicasThatAcknowledgeStaleWrites(t *testing.T) {
	t.Parallel()
	// A store older than the version held is acknowledged (and not
	// stored): the put of a stale sequence seems to succeed.
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		reply: networkAckRefusals(msgenc.CodeConflict, func(st *msgenc.Store) bool { return !st.CAS }),
	}), networkValueOptions)
	networkExpect(t, errs, []string{"sequence-only-grows"})
	networkExpectReason(t, errs, "sequence-only-grows", "succeeded, want node.ErrConflict")
}

func TestNetworkSuiteReportsReplicasThatAcknowledgeFailedSwaps(t *testing.T) {
	t.Parallel()
	// A conditional store naming the wrong sequence is acknowledged.
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		reply: networkAckRefusals(msgenc.CodeConflict, func(st *msgenc.Store) bool { return st.CAS }),
	}), networkValueOptions)
	networkExpect(t, errs, []string{"compare-and-swap"})
	networkExpectReason(t, errs, "compare-and-swap", "on condition that 2 is held, while 1 is, succeeded")
}

// networkPrefixHasher hashes only the first n bytes of its input: a weak
// key space in which bytes past the prefix are not bound to their key.
type networkPrefixHasher struct{ n int }

func (h networkPrefixHasher) Name() string { return fmt.Sprintf("sha256-of-%d-bytes", h.n) }
func (networkPrefixHasher) Size() int      { return sha256.Size }
func (h networkPrefixHasher) Sum(b []byte) peer.ID {
	return peer.SHA256().Sum(b[:min(len(b), h.n)])
}

func TestNetworkSuiteReportsAHasherThatLetsImmutableValuesBeForged(t *testing.T) {
	t.Parallel()
	// With a hasher that reads 64 bytes, a longer immutable value can be
	// changed past them and still "hash" to its key: replicas keep the
	// forged store, and readers take the hostile nodes' forgeries: a
	// reader keeps the first immutable value that verifies, and in proxied
	// mode the first comes from the node closest to the key, a hostile one.
	// With 8 nodes, 4 of them hostile, direct mode often meets a forgery
	// first too.
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		configure: func(b *node.Builder) { b.Hasher(networkPrefixHasher{64}) },
	}), conformance.NetworkOptions{Size: 8, Modes: []node.Mode{node.Direct(), node.Proxied()}})
	networkExpect(t, errs, []string{"forged-writes-refused", "forged-replies-discarded"})
	networkExpectReason(t, errs, "forged-writes-refused", "acknowledged an immutable value whose bytes do not hash to its key")
	networkExpectReason(t, errs, "forged-replies-discarded", "immutable value returned")
}

func TestNetworkSuiteReportsHostileNodesThatForgeNothing(t *testing.T) {
	t.Parallel()
	// The harness claims hostile nodes but builds honest ones: the rule
	// must notice that no forgery was ever met, not pass on nothing.
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{noForgery: true}), networkValueOptions)
	networkExpect(t, errs, []string{"forged-replies-discarded"})
	networkExpectReason(t, errs, "forged-replies-discarded", "nothing was checked")
}

func TestNetworkSuiteReportsARepublishThatBreaksSignatures(t *testing.T) {
	t.Parallel()
	// Once the clock has moved, every store a node sends carries a
	// signature with one bit flipped, as a republish that re-encoded
	// values carelessly would.
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		send: func(m *msgenc.Message, advanced bool) bool {
			if !advanced || m.Kind != msgenc.KindStore || len(m.Store.Record.Signature) == 0 {
				return false
			}
			m.Store.Record.Signature[0] ^= 1
			return true
		},
	}), networkValueOptions)
	networkExpect(t, errs, []string{"republish-keeps-signatures"})
	networkExpectReason(t, errs, "republish-keeps-signatures", "still holds none of it")
}

// networkSignedOnly is a trust policy that stores only signed values.
type networkSignedOnly struct{}

func (networkSignedOnly) AcceptPeer(*peer.Record) error  { return nil }
func (networkSignedOnly) AcceptRelay(*peer.Record) error { return nil }
func (networkSignedOnly) AcceptValue(_ *peer.Record, v *trust.Value) error {
	if v.Kind == trust.Immutable {
		return fmt.Errorf("%w: this network stores only signed values", trust.ErrRejected)
	}
	return nil
}

func TestNetworkSuiteReportsANetworkThatStoresNoImmutableValues(t *testing.T) {
	t.Parallel()
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		configure: func(b *node.Builder) { b.Policy(networkSignedOnly{}) },
	}), networkValueOptions)
	// The round trips fail, and the forged-replies rule cannot store the
	// immutable values it reads.
	networkExpect(t, errs, []string{"immutable-and-plain-round-trip", "forged-replies-discarded"})
	networkExpectReason(t, errs, "immutable-and-plain-round-trip", "PutImmutable")
}

// networkKeepsFirst is a store that keeps the first record written under
// each key: a later write of the same publisher's value leaves the old one,
// though the node that asked is told it is stored.
type networkKeepsFirst struct{ kvstore.Store }

func (s networkKeepsFirst) Update(ctx context.Context, key []byte, fn kvstore.UpdateFunc) error {
	return s.Store.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		next, err := fn(cur)
		if err == nil && cur != nil && next != nil {
			return cur, nil
		}
		return next, err
	})
}

func (s networkKeepsFirst) Put(ctx context.Context, key []byte, rec kvstore.Record) error {
	if _, err := s.Store.Get(ctx, key); err == nil {
		return nil
	}
	return s.Store.Put(ctx, key, rec)
}

func TestNetworkSuiteReportsReplicasThatKeepAnEarlierPut(t *testing.T) {
	t.Parallel()
	errs := conformance.CheckNetwork(t, networkTamperedMem(networkTamper{
		configure: func(b *node.Builder) { b.Store(networkKeepsFirst{memory.New(memory.Options{})}) },
	}), networkValueOptions)
	networkExpect(t, errs, []string{"immutable-and-plain-round-trip"}, "sequence-only-grows", "compare-and-swap", "republish-keeps-signatures")
	networkExpectReason(t, errs, "immutable-and-plain-round-trip", "first Put")
}
