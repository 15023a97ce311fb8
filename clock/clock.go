package clock

import "time"

// Clock tells the time and makes timers. Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer fires once on its channel. Its methods follow time.Timer.
type Timer interface {
	// C is the channel on which the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it stopped
	// a pending timer.
	Stop() bool
	// Reset makes the timer fire d from now.
	Reset(d time.Duration)
}

// AfterFuncer is implemented by clocks that can call a function once a
// duration has passed, in a goroutine of its own started then, so that
// nothing waits in between. A node whose clock implements it keeps no
// goroutine for its periodic work. The Timer returned has a nil channel;
// Stop and Reset work as for NewTimer's.
type AfterFuncer interface {
	AfterFunc(d time.Duration, f func()) Timer
}

// System returns the wall clock.
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer {
	return systemTimer{time.AfterFunc(d, f)}
}

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time   { return s.t.C }
func (s systemTimer) Stop() bool            { return s.t.Stop() }
func (s systemTimer) Reset(d time.Duration) { s.t.Reset(d) }
