package clock

import (
	"sync"
	"time"
)

// Manual is a clock that moves only when Advance or Set is called. Timers
// whose deadline is reached fire during that call, in deadline order.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*manualTimer]struct{}
}

var (
	_ Clock       = (*Manual)(nil)
	_ AfterFuncer = (*Manual)(nil)
)

// NewManual returns a manual clock reading start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, timers: make(map[*manualTimer]struct{})}
}

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d and fires the timers now due.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	t := m.now.Add(d)
	m.mu.Unlock()
	m.Set(t)
}

// Set moves the clock to t (never backwards) and fires the timers now due.
func (m *Manual) Set(t time.Time) {
	for {
		m.mu.Lock()
		if t.Before(m.now) {
			t = m.now
		}
		// Fire the earliest due timer, stepping the clock to its deadline so
		// that a timer reset from a receiver sees the time it fired at.
		var next *manualTimer
		for mt := range m.timers {
			if !mt.when.After(t) && (next == nil || mt.when.Before(next.when)) {
				next = mt
			}
		}
		if next == nil {
			m.now = t
			m.mu.Unlock()
			return
		}
		delete(m.timers, next)
		if next.when.After(m.now) {
			m.now = next.when
		}
		now := m.now
		m.mu.Unlock()
		if next.f != nil {
			go next.f()
			continue
		}
		select {
		case next.c <- now:
		default: // like time.Timer: an unread tick is not queued twice
		}
	}
}

// Pending returns the number of timers waiting to fire.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.timers)
}

// NewTimer returns a timer that fires when the clock reaches now+d.
func (m *Manual) NewTimer(d time.Duration) Timer {
	mt := &manualTimer{m: m, c: make(chan time.Time, 1)}
	mt.Reset(d)
	return mt
}

// AfterFunc returns a timer that calls f in a goroutine of its own when
// the clock reaches now+d.
func (m *Manual) AfterFunc(d time.Duration, f func()) Timer {
	mt := &manualTimer{m: m, f: f}
	mt.Reset(d)
	return mt
}

type manualTimer struct {
	m    *Manual
	c    chan time.Time // nil for AfterFunc's
	f    func()         // AfterFunc's
	when time.Time
}

func (mt *manualTimer) C() <-chan time.Time { return mt.c }

func (mt *manualTimer) Stop() bool {
	mt.m.mu.Lock()
	defer mt.m.mu.Unlock()
	_, pending := mt.m.timers[mt]
	delete(mt.m.timers, mt)
	return pending
}

func (mt *manualTimer) Reset(d time.Duration) {
	mt.m.mu.Lock()
	mt.when = mt.m.now.Add(d)
	mt.m.timers[mt] = struct{}{}
	mt.m.mu.Unlock()
	if d <= 0 {
		mt.m.Advance(0)
	}
}
