package node

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Node is a running DHT peer. Its methods are safe for concurrent use.
type Node struct {
	cfg        config
	id         peer.ID
	table      route.Table
	transports []transport.Transport

	self     *peer.Record      // signed record announcing every address
	selfWire msgenc.PeerRecord // its wire form, shared read-only

	rpc       rpcTable
	queries   queryTable // direct-reply answers awaited by query ID
	published publishedSet
	// seeds are the peers that answered the last Bootstrap: lookups start
	// from them too, when the table alone cannot (a client, a policy that
	// admitted no one yet, a seed sharing this node's ID).
	seeds atomic.Pointer[[]*peer.Record]
	// restored are the contacts of the state file, for Bootstrap without
	// an address.
	restored atomic.Pointer[[]*peer.Record]
	stateMu  sync.Mutex // one state file write at a time
	health   health
	lastSeq  atomic.Uint64 // of this node's latest plain value
	verified verifiedCache // records verified before, met again
	checks   checkCounts   // signature checks by reason
	frames   framePool     // encoding buffers
	evicting sync.Map      // peer.ID → struct{}: ping-before-evict in flight
	forwards chan struct{}
	fwdDups  forwardDups
	pathVals pathCache // values relayed on proxied paths, when enabled
	limitState

	rngMu sync.Mutex
	rng   *rand.Rand

	stats counters

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	maint  *maintTimer // the periodic work's timer; nil when a goroutine waits for it
	closed atomic.Bool
	once   sync.Once
}

func newNode(c config, table route.Table, transports []transport.Transport) (*Node, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("node: seed: %w", err)
	}
	addrs := c.announce
	if len(addrs) == 0 {
		var listening []ma.Multiaddr
		for _, t := range transports {
			listening = append(listening, t.Addrs()...)
		}
		addrs = advertised(listening, hostAddrs())
		// A host with many interfaces says the first ones: routable first.
		addrs = addrs[:min(len(addrs), peer.MaxRecordAddrs)]
	}
	if len(addrs) > peer.MaxRecordAddrs {
		return nil, fmt.Errorf("%w: %d listen addresses, at most %d", ErrConfig, len(addrs), peer.MaxRecordAddrs)
	}
	// The sequence number orders this node's records across restarts
	// without any state on disk: a later start has a later clock.
	rec, err := peer.NewRecord(c.identity, c.hasher, uint64(c.clock.Now().UnixNano()), addrs...)
	if err != nil {
		return nil, fmt.Errorf("node: peer record: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:        c,
		id:         rec.ID,
		table:      table,
		transports: transports,
		self:       rec,
		selfWire:   msgenc.FromRecord(rec),
		forwards:   make(chan struct{}, c.work.Forwards),
		rng:        rand.New(rand.NewChaCha8(seed)),
		ctx:        ctx,
		cancel:     cancel,
	}
	n.rpc.init()
	n.queries.init()
	n.published.init()
	n.health.init(c.rpcTimeout)
	if err := n.verified.init(); err != nil {
		cancel()
		return nil, err
	}
	n.loadState()
	n.fwdDups.init()
	n.pathVals.init(c.pathCache)
	if err := n.initLimits(); err != nil {
		cancel()
		return nil, err
	}
	for _, t := range transports {
		n.goroutine(func() { n.receiveLoop(t) })
	}
	n.startMaintenance()
	c.logger.Info("node started", "id", n.id.Short(), "addrs", addrs, "client", c.client)
	return n, nil
}

// senderWire is the record requests carry: nil for a client, which must
// not enter peers' tables. (Computed, not kept: the Node struct is at
// the top of its size class.)
func (n *Node) senderWire() *msgenc.PeerRecord {
	if n.cfg.client {
		return nil
	}
	return &n.selfWire
}

// goroutine starts f and tracks it, so that Close can wait for it.
func (n *Node) goroutine(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.id }

// Record returns the node's signed peer record. It is shared: do not modify.
func (n *Node) Record() *peer.Record { return n.self }

// Addrs returns the addresses the node listens on, over every transport.
func (n *Node) Addrs() []ma.Multiaddr {
	return append([]ma.Multiaddr(nil), n.self.Addrs...)
}

// Mode returns the node's default query mode.
func (n *Node) Mode() Mode { return n.cfg.mode }

// Hasher returns the node's key-space hasher.
func (n *Node) Hasher() peer.Hasher { return n.cfg.hasher }

// Close stops the node: it cancels every call in progress, waits for every
// goroutine it started, and closes its transports and store. It returns nil
// or what went wrong closing them. After it, every call that uses the
// network or the store returns ErrClosed, and so does every later Close: a
// Close concurrent with the first returns ErrClosed once the node has
// stopped. (Stats, Metrics and the accessors still answer.)
func (n *Node) Close() error {
	err := ErrClosed
	n.once.Do(func() {
		n.saveState()
		n.closed.Store(true)
		n.cancel()
		n.maint.stop()
		var errs []error
		for _, t := range n.transports {
			if e := t.Close(); e != nil && !errors.Is(e, transport.ErrClosed) {
				errs = append(errs, e)
			}
		}
		n.wg.Wait()
		if e := n.cfg.store.Close(); e != nil {
			errs = append(errs, e)
		}
		err = errors.Join(errs...)
		n.cfg.logger.Info("node closed", "id", n.id.Short())
	})
	return err
}

// live returns ErrClosed once Close has begun.
func (n *Node) live() error {
	if n.closed.Load() {
		return ErrClosed
	}
	return nil
}

// callCtx merges the caller's ctx with the node's lifetime, so that Close
// ends calls in progress.
func (n *Node) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(n.ctx, func() { cancel(ErrClosed) })
	return ctx, func() {
		stop()
		cancel(nil)
	}
}

// ctxErr returns why ctx ended: ErrClosed when the node closed, else ctx.Err.
func ctxErr(ctx context.Context) error {
	if c := context.Cause(ctx); errors.Is(c, ErrClosed) {
		return ErrClosed
	}
	return ctx.Err()
}

func (n *Node) randUint64() uint64 {
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return n.rng.Uint64()
}

func (n *Node) randBytes(size int) []byte {
	b := make([]byte, size)
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	for i := 0; i < size; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], n.rng.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// seedsFor returns the table's closest n peers to target, topped up with the
// bootstrap seeds when the table holds fewer than n (or the node is a
// client, whose table only grows by chance).
func (n *Node) seedsFor(target peer.ID, count int) []*peer.Record {
	peers := n.table.Closest(target, count)
	if len(peers) >= count && !n.cfg.client {
		return peers
	}
	if s := n.seeds.Load(); s != nil {
		for _, r := range *s {
			if !n.isSelf(r) && !slices.ContainsFunc(peers, func(p *peer.Record) bool { return p.ID == r.ID }) {
				peers = append(peers, r)
			}
		}
	}
	return peers
}

// isSelf reports whether r is this node: its ID at its addresses. Another
// node run with the same key (a publisher's client beside its server) is
// not.
func (n *Node) isSelf(r *peer.Record) bool {
	return r.ID == n.id && slices.EqualFunc(r.Addrs, n.self.Addrs, func(a, b ma.Multiaddr) bool { return a.Equal(b) })
}
