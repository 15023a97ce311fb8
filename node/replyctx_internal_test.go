package node

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestReplyCtxEndsAtDeadline checks that a reply's context reports the
// deadline through Err without Done, and through Done once asked for.
func TestReplyCtxEndsAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newReplyCtx(context.Background(), time.Second)
		defer c.release()
		if d, ok := c.Deadline(); !ok || !d.Equal(time.Now().Add(time.Second)) {
			t.Fatalf("Deadline() = %v, %v; want now+1s, true", d, ok)
		}
		if err := c.Err(); err != nil {
			t.Fatalf("Err() before the deadline = %v, want nil", err)
		}
		time.Sleep(time.Second) // fake time inside the bubble
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err() at the deadline = %v, want DeadlineExceeded", err)
		}
		select {
		case <-c.Done():
		default:
			t.Fatal("Done() after the deadline is not closed")
		}
	})
}

// TestReplyCtxDoneClosesAtDeadline checks that a Done asked for before the
// deadline closes when it passes, and that Err then agrees.
func TestReplyCtxDoneClosesAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := newReplyCtx(context.Background(), time.Second)
		defer c.release()
		done := c.Done()
		select {
		case <-done:
			t.Fatal("Done() closed before the deadline")
		default:
		}
		<-done
		if got := time.Since(start); got != time.Second {
			t.Fatalf("Done() closed after %v, want 1s", got)
		}
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err() = %v, want DeadlineExceeded", err)
		}
	})
}

// TestReplyCtxFollowsParent checks that the parent's end and its earlier
// deadline reach the reply's context, with or without Done asked for.
func TestReplyCtxFollowsParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		c := newReplyCtx(parent, time.Hour)
		defer c.release()
		cancel()
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err() after the parent's cancel = %v, want Canceled", err)
		}
		<-c.Done() // must not block: the parent has ended

		short, cancelShort := context.WithTimeout(context.Background(), time.Minute)
		defer cancelShort()
		c2 := newReplyCtx(short, time.Hour)
		defer c2.release()
		if d, _ := c2.Deadline(); !d.Equal(time.Now().Add(time.Minute)) {
			t.Fatalf("Deadline() = %v, want the parent's, now+1m", d)
		}
		<-c2.Done()
		if got := c2.Err(); !errors.Is(got, context.DeadlineExceeded) {
			t.Fatalf("Err() = %v, want DeadlineExceeded", got)
		}
	})
}
