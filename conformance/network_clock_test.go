package conformance_test

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/conformance"
	"github.com/stretchr/testify/require"
)

// networkFired reports whether tm has a tick waiting.
func networkFired(tm clock.Timer) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestNetworkClockAdvanceFiresOnlyTimersItPasses(t *testing.T) {
	c := conformance.NewNetworkClock()
	before := c.Now()
	hour, day := c.NewTimer(time.Hour), c.NewTimer(24*time.Hour)
	require.NoError(t, c.Advance(61*time.Minute))
	require.True(t, networkFired(hour), "a timer an hour away did not fire when the clock jumped past it")
	require.False(t, networkFired(day), "a timer a day away fired after a jump of an hour")
	require.GreaterOrEqual(t, c.Now().Sub(before), 61*time.Minute, "Now did not jump with the clock")
	require.True(t, day.Stop(), "Stop did not report the pending timer")
	require.NoError(t, c.Advance(48*time.Hour))
	require.False(t, networkFired(day), "a stopped timer fired")
	require.Error(t, c.Advance(-time.Second), "the clock went back")
}

func TestNetworkClockTimersFireInRealTime(t *testing.T) {
	c := conformance.NewNetworkClock()
	tm := c.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(10 * time.Second):
		t.Fatal("a 1ms timer did not fire on the wall clock")
	}
	require.False(t, tm.Stop(), "Stop reported a timer that already fired as pending")
}

func TestNetworkClockResetDropsAnUnreadTick(t *testing.T) {
	c := conformance.NewNetworkClock()
	tm := c.NewTimer(time.Minute)
	require.NoError(t, c.Advance(time.Minute))
	tm.Reset(time.Hour)
	require.False(t, networkFired(tm), "a tick from before Reset was received after it")
	require.NoError(t, c.Advance(time.Hour))
	require.True(t, networkFired(tm), "the reset timer did not fire at its new deadline")
}
