package node

import (
	"math"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/peer"
)

// health remembers, for the peers this node has contacted, how long they
// take to answer and whether they recently stopped answering: every lookup
// then waits on each peer about as long as it needs, and none waits again
// on a peer that just failed, whether or not the peer is in the table.
//
// Timeouts follow TCP's (RFC 6298): SRTT and RTTVAR per peer, RTO =
// SRTT + 4·RTTVAR, kept between a floor and the RPC timeout; a peer never
// measured gets the node's estimate over all peers. A peer whose requests
// failed twice in a row is skipped for a backoff that doubles with each
// further failure (one lost exchange is not enough to write a peer off),
// and forgiven as soon as it answers.
type health struct {
	mu      sync.Mutex
	peers   map[peer.ID]peerHealth
	all     rtt // over every peer: the guess for one never measured
	floor   time.Duration
	ceiling time.Duration
}

// peerHealth is kept small, 20 bytes: the node holds one per peer it has
// contacted. Times are whole Unix seconds, which last until 2106; a
// backoff's end is rounded up, so a peer is skipped at most a second
// longer than its backoff.
type peerHealth struct {
	rtt      rtt
	downTill uint32 // Unix seconds; 0 when not backing off
	seen     uint32 // Unix seconds of the last frame from the peer; 0 never
	failures uint8
}

// unixSeconds is t in whole Unix seconds, rounded up when up is set, held
// within uint32 (a time before 1970 is 0, the same as never).
func unixSeconds(t time.Time, up bool) uint32 {
	s := t.Unix()
	if up && t.Nanosecond() > 0 {
		s++
	}
	return uint32(min(max(s, 0), math.MaxUint32))
}

// rtt is a smoothed round-trip estimate in microseconds.
type rtt struct {
	srtt, rttvar uint32
}

const (
	// maxHealthPeers bounds the peers remembered; beyond it an arbitrary
	// one is forgotten, which costs it only its estimate.
	maxHealthPeers = 2048
	// firstBackoff is how long a peer that failed once is skipped; it
	// doubles with every further failure, up to maxBackoff.
	firstBackoff = 15 * time.Second
	// downAfter is how many requests in a row a peer must fail to be
	// skipped.
	downAfter  = 2
	maxBackoff = 10 * time.Minute
)

func (h *health) init(rpcTimeout time.Duration) {
	h.peers = make(map[peer.ID]peerHealth)
	h.ceiling = rpcTimeout
	// A floor well above a loopback round trip: a busy machine must not
	// turn into peers that seem dead.
	h.floor = min(rpcTimeout/4, 250*time.Millisecond)
}

func (r *rtt) add(sample time.Duration) {
	s := uint32(min(max(sample/time.Microsecond, 1), 1<<31))
	if r.srtt == 0 {
		r.srtt, r.rttvar = s, s/2
		return
	}
	diff := int64(r.srtt) - int64(s)
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = uint32((3*int64(r.rttvar) + diff) / 4)
	r.srtt = uint32((7*int64(r.srtt) + int64(s)) / 8)
}

func (r rtt) rto() time.Duration {
	return time.Duration(r.srtt+4*r.rttvar) * time.Microsecond
}

// timeout is how long to wait for id's first answer before resending or
// asking someone else.
func (h *health) timeout(id peer.ID) time.Duration {
	h.mu.Lock()
	e := h.peers[id].rtt
	if e.srtt == 0 {
		e = h.all
	}
	h.mu.Unlock()
	if e.srtt == 0 {
		return h.ceiling
	}
	return min(max(e.rto(), h.floor), h.ceiling)
}

// answered records a reply from id that took d after a request sent once:
// a retransmitted request's reply is ambiguous (Karn) and not measured.
func (h *health) answered(id peer.ID, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all.add(d)
	if id.IsZero() {
		return
	}
	e := h.room(id)
	e.rtt.add(d)
	e.failures, e.downTill = 0, 0
	h.peers[id] = e
}

// heard forgives id: it answered a request of ours.
func (h *health) heard(id peer.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.peers[id]; ok && e.failures > 0 {
		e.failures, e.downTill = 0, 0
		h.peers[id] = e
	}
}

// saw records a verified frame from id at now.
func (h *health) saw(id peer.ID, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.room(id)
	e.seen = unixSeconds(now, false)
	h.peers[id] = e
}

// quiet reports whether nothing has been heard from id after since.
func (h *health) quiet(id peer.ID, since time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(h.peers[id].seen) <= since.Unix()
}

// failing reports whether id failed to answer a request and has not
// answered one since.
func (h *health) failing(id peer.ID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peers[id].failures > 0
}

// failed records that id did not answer a request and its retries.
func (h *health) failed(id peer.ID, now time.Time) {
	if id.IsZero() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.room(id)
	e.failures = min(e.failures+1, 16)
	if e.failures >= downAfter {
		e.downTill = unixSeconds(now.Add(min(firstBackoff<<(e.failures-downAfter), maxBackoff)), true)
	}
	h.peers[id] = e
}

// down reports whether id failed recently enough to be skipped.
func (h *health) down(id peer.ID, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.peers[id]
	return ok && int64(e.downTill) > now.Unix()
}

// room returns id's entry, making room for it if it is new. Called with
// h.mu held.
func (h *health) room(id peer.ID) peerHealth {
	if e, ok := h.peers[id]; ok {
		return e
	}
	if len(h.peers) >= maxHealthPeers {
		for old := range h.peers {
			delete(h.peers, old)
			break
		}
	}
	return peerHealth{}
}
