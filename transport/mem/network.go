package mem

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Network is a simulated network of endpoints in one process. Its methods
// are safe for concurrent use. A Network used under testing/synctest must be
// created and used inside the bubble.
type Network struct {
	opts  Options
	sched scheduler
	stats counters
	// lossSeq numbers the loss draws; see lose.
	lossSeq atomic.Uint64

	mu        sync.RWMutex
	closed    bool
	endpoints map[uint64]*Endpoint
	next      uint64 // last automatically allocated address
	// links holds only the links configured by SetLink.
	links map[link]LinkConfig
	// groups maps an address to its partition group; nil when healed.
	// Addresses not in the map are in group 0.
	groups map[uint64]int
}

// link is a directed pair of addresses.
type link struct{ from, to uint64 }

// NewNetwork returns an empty network. See Options for the defaults.
func NewNetwork(opts Options) *Network {
	n := &Network{opts: opts.withDefaults(), endpoints: make(map[uint64]*Endpoint)}
	n.sched.net = n
	return n
}

// Listen adds an endpoint at addr, which must be /memory/N and free, or at
// the next free address counting up from /memory/1 when addr is nil. It fails
// with ErrBadAddr, ErrAddrInUse or, after Close, transport.ErrClosed.
func (n *Network) Listen(addr ma.Multiaddr) (*Endpoint, error) {
	var id uint64
	if addr != nil {
		var ok bool
		if id, ok = parseAddr(addr); !ok {
			return nil, fmt.Errorf("mem: listen on %v: %w", addr, ErrBadAddr)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, transport.ErrClosed
	}
	if addr != nil {
		if _, used := n.endpoints[id]; used {
			return nil, fmt.Errorf("mem: listen on %v: %w", addr, ErrAddrInUse)
		}
	} else {
		for {
			n.next++
			if _, used := n.endpoints[n.next]; !used {
				id = n.next
				break
			}
		}
	}
	e := &Endpoint{net: n, id: id, addr: memoryComponent(id)}
	n.endpoints[id] = e
	return e, nil
}

// Close closes every endpoint and drops the frames in flight. Later calls
// return transport.ErrClosed. It returns once no delivery is running.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return transport.ErrClosed
	}
	n.closed = true
	eps := n.endpoints
	n.endpoints = nil
	n.mu.Unlock()
	for _, e := range eps {
		e.shut()
	}
	n.sched.stop()
	return nil
}

// remove forgets e's address if e still holds it.
func (n *Network) remove(e *Endpoint) {
	n.mu.Lock()
	if n.endpoints[e.id] == e {
		delete(n.endpoints, e.id)
	}
	n.mu.Unlock()
}

// lookup returns the endpoint listening at addr.
func (n *Network) lookup(addr ma.Multiaddr) (*Endpoint, error) {
	id, ok := parseAddr(addr)
	if !ok {
		return nil, fmt.Errorf("mem: %v: %w", addr, ErrBadAddr)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return nil, transport.ErrClosed
	}
	e := n.endpoints[id]
	if e == nil {
		return nil, fmt.Errorf("mem: %v: %w", addr, ErrNoEndpoint)
	}
	return e, nil
}

// send carries frame from an endpoint to address to through the link's
// checks; see the package doc for their order.
func (n *Network) send(from *Endpoint, to uint64, frame []byte) error {
	n.mu.RLock()
	if n.closed {
		n.mu.RUnlock()
		return transport.ErrClosed
	}
	dst := n.endpoints[to]
	cfg, ok := n.links[link{from.id, to}]
	if !ok {
		cfg = LinkConfig{Loss: n.opts.Loss, Latency: n.opts.Latency}
	}
	cut := n.groups != nil && n.groups[from.id] != n.groups[to]
	n.mu.RUnlock()

	if dst == nil {
		n.stats.unreachable.Add(1)
		return fmt.Errorf("mem: send to /memory/%d: %w", to, transport.ErrUnreachable)
	}
	n.stats.sent.Add(1)
	if cut {
		n.stats.droppedPartition.Add(1)
		return nil
	}
	if cfg.Loss > 0 && n.lose(cfg.Loss) {
		n.stats.droppedLoss.Add(1)
		return nil
	}
	if cfg.Latency <= 0 {
		// Copied only if the inbox takes it: a flood of refused frames
		// costs no allocation.
		n.deliver(dst, from.addr, frame, true)
		return nil
	}
	if !n.sched.schedule(dst, from.addr, clone(frame), cfg.Latency) {
		n.stats.droppedClosed.Add(1)
	}
	return nil
}

// clone returns a copy of b, never nil.
func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// deliver puts the frame in dst's inbox, copying it first if it is the
// sender's, or counts why it could not.
func (n *Network) deliver(dst *Endpoint, from ma.Component, frame []byte, copyFrame bool) {
	switch dst.enqueue(from, frame, copyFrame) {
	case enqueued:
		n.stats.delivered.Add(1)
	case refusedClosed:
		n.stats.droppedClosed.Add(1)
	case refusedCrashed:
		n.stats.droppedCrash.Add(1)
	case refusedFull:
		n.stats.droppedQueueFull.Add(1)
	}
}

// lose draws whether a frame on a link with loss rate p is lost. Draw k is a
// hash of the seed and k, so the same seed and order of lossy sends give the
// same losses, without a lock.
func (n *Network) lose(p float64) bool {
	k := n.lossSeq.Add(1)
	z := n.opts.Seed + k*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11)/(1<<53) < p
}
