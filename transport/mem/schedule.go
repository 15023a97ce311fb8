package mem

import (
	"sync"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

// scheduler holds frames waiting out their latency, ordered by due time and
// then send order, behind one runtime timer. The timer's callback delivers
// what is due and re-arms itself for the next frame: no goroutine waits per
// frame, and under testing/synctest fake time jumps from one due time to the
// next.
type scheduler struct {
	net *Network
	// deliverMu serialises callbacks, so frames are delivered in due order
	// even if two callbacks overlap.
	deliverMu sync.Mutex

	mu     sync.Mutex
	closed bool
	q      pendingHeap
	seq    uint64
	timer  *time.Timer
	// running counts armed or running callbacks, for stop to wait on.
	running sync.WaitGroup
}

// pending is one frame in flight.
type pending struct {
	due  time.Time
	seq  uint64
	dst  *Endpoint
	from ma.Component
	data []byte
}

// schedule queues a frame, which it now owns, for dst, due after d. It
// reports false if the network is closed.
func (s *scheduler) schedule(dst *Endpoint, from ma.Component, data []byte, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.seq++
	s.q.push(pending{due: time.Now().Add(d), seq: s.seq, dst: dst, from: from, data: data})
	if s.q[0].seq == s.seq { // the new frame is the next due
		s.arm(d)
	}
	return true
}

// arm makes the callback run d from now. Every arming that does not replace
// a pending run adds one to running; the run, or a Stop that cancels it,
// takes it off. Called with s.mu held.
func (s *scheduler) arm(d time.Duration) {
	if s.timer == nil {
		s.running.Add(1)
		s.timer = time.AfterFunc(d, s.fire)
		return
	}
	if !s.timer.Reset(d) {
		s.running.Add(1)
	}
}

// fire delivers every frame now due and re-arms for the next one.
func (s *scheduler) fire() {
	defer s.running.Done()
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	var due []pending
	for len(s.q) > 0 && !s.q[0].due.After(now) {
		due = append(due, s.q.pop())
	}
	if len(s.q) > 0 {
		s.arm(s.q[0].due.Sub(now))
	}
	s.mu.Unlock()

	for _, p := range due {
		s.net.deliver(p.dst, p.from, p.data, false)
	}
}

// stop drops every frame in flight, counting them, and waits for a running
// callback to finish. Later schedules fail.
func (s *scheduler) stop() {
	s.mu.Lock()
	s.closed = true
	s.net.stats.droppedClosed.Add(uint64(len(s.q)))
	s.q = nil
	if s.timer != nil && s.timer.Stop() {
		s.running.Done()
	}
	s.mu.Unlock()
	s.running.Wait()
}

// len returns the number of frames in flight.
func (s *scheduler) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q)
}

// pendingHeap is a min-heap of frames by due time, then send order. It is
// typed rather than container/heap so that a frame is not boxed.
type pendingHeap []pending

func (h pendingHeap) less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}

func (h *pendingHeap) push(p pending) {
	*h = append(*h, p)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *pendingHeap) pop() pending {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = pending{}
	q = q[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q.less(l, small) {
			small = l
		}
		if r < len(q) && q.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}
