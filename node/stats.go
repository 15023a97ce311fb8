package node

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
)

// DropReason says why an incoming frame was dropped.
type DropReason uint8

// Why frames are dropped.
const (
	dropDecode      DropReason = iota // not a valid frame for the codec
	dropBadRecord                     // a peer record failed verification
	dropUnsolicited                   // a reply nobody waits for, or from the wrong peer
	dropPolicy                        // refused by the trust policy
	dropOverloaded                    // too many forwarded queries in flight
	dropClient                        // a request to a client node
	dropUnexpected                    // a message of a kind that cannot arrive here
	dropBadValue                      // a value failed verification
	numDropReasons
)

var dropNames = [numDropReasons]string{
	"decode", "bad-record", "unsolicited", "policy", "overloaded", "client", "unexpected", "bad-value",
}

func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

type counters struct {
	sent, received, requests, served, forwarded atomic.Uint64
	sendErrors, timeouts, evictionPings         atomic.Uint64
	refusals                                    atomic.Uint64
	drops                                       [numDropReasons]atomic.Uint64

	mu      sync.Mutex
	lookups LookupStats
}

func (c *counters) drop(r DropReason) { c.drops[r].Add(1) }

func (c *counters) lookup(rpcs, hops int, d time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &c.lookups
	l.Count++
	if !ok {
		l.Failed++
	}
	l.RPCs += uint64(rpcs)
	l.Hops += uint64(hops)
	l.Latency += d
	l.MaxHops = max(l.MaxHops, hops)
}

// LookupStats sums the cost of every lookup the node originated.
type LookupStats struct {
	Count, Failed uint64
	// RPCs, Hops and Latency are totals; divide by Count for means.
	RPCs, Hops uint64
	Latency    time.Duration
	MaxHops    int
}

// Stats is a snapshot of a node's counters.
type Stats struct {
	// RPCsSent counts frames sent; RPCsReceived frames received, valid or not.
	RPCsSent, RPCsReceived uint64
	// Requests counts requests this node originated; Served the requests it
	// answered; Forwarded the forwarded queries it handled as a hop.
	Requests, Served, Forwarded uint64
	SendErrors, Timeouts        uint64
	// EvictionPings counts pings sent to full buckets' eviction candidates.
	EvictionPings uint64
	// Refused counts stores this node refused, each answered with a code.
	Refused uint64
	// Dropped counts what was dropped by reason: incoming frames
	// ("decode", "bad-record", "unsolicited", "policy", "overloaded",
	// "client", "unexpected") and received values that failed verification
	// ("bad-value") or the policy ("policy").
	Dropped   map[string]uint64
	TableSize int
	Records   int
	Lookups   LookupStats
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats {
	s := Stats{
		RPCsSent: n.stats.sent.Load(), RPCsReceived: n.stats.received.Load(),
		Requests: n.stats.requests.Load(), Served: n.stats.served.Load(), Forwarded: n.stats.forwarded.Load(),
		SendErrors: n.stats.sendErrors.Load(), Timeouts: n.stats.timeouts.Load(),
		EvictionPings: n.stats.evictionPings.Load(), Refused: n.stats.refusals.Load(),
		Dropped:   make(map[string]uint64, numDropReasons),
		TableSize: n.table.Len(),
	}
	for i := range n.stats.drops {
		if v := n.stats.drops[i].Load(); v > 0 {
			s.Dropped[DropReason(i).String()] = v
		}
	}
	if n.live() == nil {
		if l, err := n.cfg.store.Len(context.Background()); err == nil {
			s.Records = l
		}
	}
	n.stats.mu.Lock()
	s.Lookups = n.stats.lookups
	n.stats.mu.Unlock()
	return s
}

func codeName(c uint16) string {
	switch msgenc.ErrorCode(c) {
	case msgenc.CodeInternal:
		return "internal"
	case msgenc.CodeBadRequest:
		return "bad-request"
	case msgenc.CodeRejected:
		return "rejected"
	case msgenc.CodeConflict:
		return "conflict"
	case msgenc.CodeTooLarge:
		return "too-large"
	case msgenc.CodeUnsupported:
		return "unsupported"
	case msgenc.CodeOverloaded:
		return "overloaded"
	case msgenc.CodeNotFound:
		return "not-found"
	case msgenc.CodeHopLimit:
		return "hop-limit"
	}
	return "unknown"
}
