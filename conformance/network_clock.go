package conformance

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/clock"
)

// NetworkClockAdvancer is a harness whose nodes share a clock it can move
// forward, so that rules see hours of maintenance (republish, refresh)
// without waiting for them.
type NetworkClockAdvancer interface {
	// Advance moves the clock of every node of the harness forward by d,
	// at once: the timers due by then fire, as if d had passed.
	Advance(d time.Duration) error
}

// NetworkClock is a clock for the nodes of a harness that implements
// NetworkClockAdvancer: give it to every node (Builder.Clock) and call its
// Advance from the harness's. It follows the wall clock, so timeouts and
// retries run as they would on the system clock, plus every jump Advance
// made. Its timers are real timers that Advance fires early once their
// deadline is passed. The zero value is not usable; call NewNetworkClock.
type NetworkClock struct {
	mu     sync.Mutex
	offset time.Duration
	timers map[*networkTimer]struct{} // pending ones
}

var _ clock.Clock = (*NetworkClock)(nil)

// NewNetworkClock returns a clock reading the wall clock.
func NewNetworkClock() *NetworkClock {
	return &NetworkClock{timers: make(map[*networkTimer]struct{})}
}

// Now returns the wall clock plus every jump Advance made.
func (c *NetworkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

// now is Now with c.mu held.
func (c *NetworkClock) now() time.Time { return time.Now().Add(c.offset) }

// NewTimer returns a timer that fires when the clock reaches now+d.
func (c *NetworkClock) NewTimer(d time.Duration) clock.Timer {
	t := &networkTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Advance jumps the clock forward by d and fires, in deadline order, every
// timer whose deadline the jump passed.
func (c *NetworkClock) Advance(d time.Duration) error {
	if d < 0 {
		return errors.New("conformance: a clock cannot go back")
	}
	c.mu.Lock()
	c.offset += d
	now := c.now()
	var due []*networkTimer
	for t := range c.timers {
		if !t.when.After(now) {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *networkTimer) int { return a.when.Compare(b.when) })
	for _, t := range due {
		t.disarm()
		t.send(now)
	}
	c.mu.Unlock()
	return nil
}

// networkTimer is a NetworkClock's timer. Its fields but ch are guarded by
// c.mu, and ticks are sent with c.mu held.
type networkTimer struct {
	c    *NetworkClock
	ch   chan time.Time
	when time.Time   // the deadline, on c's clock
	real *time.Timer // fires at the deadline if Advance does not first
	gen  uint64      // which arming a real timer's callback belongs to
}

func (t *networkTimer) C() <-chan time.Time { return t.ch }

// Stop prevents the timer from firing and reports whether it was pending.
// As with time.Timer since Go 1.23, no tick is received after Stop.
func (t *networkTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, pending := t.c.timers[t]
	t.disarm()
	t.drain()
	return pending
}

// Reset makes the timer fire d from now, dropping any tick not yet
// received.
func (t *networkTimer) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.disarm()
	t.drain()
	t.when = t.c.now().Add(d)
	t.gen++
	gen := t.gen
	t.c.timers[t] = struct{}{}
	t.real = time.AfterFunc(d, func() { t.fire(gen) })
}

// fire is the real timer's callback: it sends the tick unless the timer
// was stopped, reset or fired by Advance since it was armed.
func (t *networkTimer) fire(gen uint64) {
	t.c.mu.Lock()
	if _, pending := t.c.timers[t]; !pending || t.gen != gen {
		t.c.mu.Unlock()
		return
	}
	t.disarm()
	t.send(t.c.now())
	t.c.mu.Unlock()
}

// disarm removes the timer from the pending set and stops its real timer.
// c.mu is held.
func (t *networkTimer) disarm() {
	delete(t.c.timers, t)
	if t.real != nil {
		t.real.Stop()
		t.real = nil
	}
}

// drain drops a tick sent but not received.
func (t *networkTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}

// send delivers a tick unless one is already waiting, as time.Timer does.
// c.mu is held, so that a Stop or Reset that follows drops it.
func (t *networkTimer) send(now time.Time) {
	select {
	case t.ch <- now:
	default:
	}
}
