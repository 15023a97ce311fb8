package clock_test

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fired(tm clock.Timer) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestManualTimerFiresOnlyWhenDeadlineReached(t *testing.T) {
	c := clock.NewManual(epoch)
	tm := c.NewTimer(time.Minute)
	c.Advance(59 * time.Second)
	require.False(t, fired(tm), "timer fired a second early")
	c.Advance(time.Second)
	require.True(t, fired(tm), "timer did not fire at its deadline")
	require.Equal(t, epoch.Add(time.Minute), c.Now())
}

func TestManualTimerFiresAtItsDeadlineInOrder(t *testing.T) {
	c := clock.NewManual(epoch)
	a, b := c.NewTimer(2*time.Second), c.NewTimer(time.Second)
	c.Advance(time.Hour)
	require.Equal(t, epoch.Add(time.Second), <-b.C(), "b fired at the wrong time")
	require.Equal(t, epoch.Add(2*time.Second), <-a.C(), "a fired at the wrong time")
	require.Equal(t, 0, c.Pending())
}

func TestManualStopPreventsFiring(t *testing.T) {
	c := clock.NewManual(epoch)
	tm := c.NewTimer(time.Second)
	require.True(t, tm.Stop())
	require.False(t, tm.Stop(), "second Stop reported a pending timer")
	c.Advance(time.Minute)
	require.False(t, fired(tm))
}

func TestManualResetReschedules(t *testing.T) {
	c := clock.NewManual(epoch)
	tm := c.NewTimer(time.Second)
	tm.Reset(time.Minute)
	c.Advance(time.Second)
	require.False(t, fired(tm))
	c.Advance(time.Minute)
	require.True(t, fired(tm))
}

func TestManualNeverGoesBackwards(t *testing.T) {
	c := clock.NewManual(epoch)
	c.Set(epoch.Add(-time.Hour))
	require.Equal(t, epoch, c.Now())
}

func TestSystemClockTimerFires(t *testing.T) {
	tm := clock.System().NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("system timer did not fire")
	}
}

func TestManualAfterFuncCallsAtItsDeadline(t *testing.T) {
	c := clock.NewManual(epoch)
	called := make(chan time.Time, 2)
	tm := c.AfterFunc(time.Minute, func() { called <- c.Now() })
	c.Advance(59 * time.Second)
	select {
	case <-called:
		t.Fatal("f was called a second early")
	default:
	}
	c.Advance(time.Second)
	select {
	case at := <-called:
		require.Equal(t, epoch.Add(time.Minute), at)
	case <-time.After(10 * time.Second):
		t.Fatal("f was not called at its deadline")
	}
	require.Nil(t, tm.C(), "an AfterFunc timer has no channel")
	tm.Reset(time.Second)
	require.True(t, tm.Stop(), "Stop after Reset found no pending timer")
	c.Advance(time.Hour)
	require.Equal(t, 0, c.Pending())
	require.Empty(t, called, "f was called after Stop")
}

func TestSystemAfterFunc(t *testing.T) {
	af, ok := clock.System().(clock.AfterFuncer)
	require.True(t, ok, "the system clock has AfterFunc")
	called := make(chan struct{})
	af.AfterFunc(time.Millisecond, func() { close(called) })
	select {
	case <-called:
	case <-time.After(10 * time.Second):
		t.Fatal("f was not called")
	}
	stopped := af.AfterFunc(time.Hour, func() { t.Error("a stopped AfterFunc called f") })
	require.True(t, stopped.Stop())
}
