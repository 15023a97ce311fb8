package node

import (
	"context"
	"sync"
	"time"
)

// replyCtx bounds the sending of one answer by a deadline without arming a
// timer. context.WithTimeout starts a timer and registers a child with the
// node's context for every answer, although most transports (UDP, mem with
// room in the inbox) only call Err and never wait on Done. replyCtx makes
// the timer-backed context only when a transport does wait on Done.
type replyCtx struct {
	parent   context.Context
	deadline time.Time

	mu     sync.Mutex
	timed  context.Context // made by the first Done
	cancel context.CancelFunc
}

var _ context.Context = (*replyCtx)(nil)

// newReplyCtx returns a context that ends when parent does or d has passed,
// whichever is first. Its release must be called once the send returns.
func newReplyCtx(parent context.Context, d time.Duration) *replyCtx {
	deadline := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	return &replyCtx{parent: parent, deadline: deadline}
}

// Deadline returns the earlier of the parent's deadline and the reply's.
func (c *replyCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns a channel closed when the context ends; the first call arms
// the timer.
func (c *replyCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timed == nil {
		c.timed, c.cancel = context.WithDeadline(c.parent, c.deadline)
	}
	return c.timed.Done()
}

// Err returns the parent's error, or context.DeadlineExceeded once the
// deadline has passed, or nil.
func (c *replyCtx) Err() error {
	c.mu.Lock()
	timed := c.timed
	c.mu.Unlock()
	if timed != nil {
		// Done was asked for: agree with the channel it returned.
		return timed.Err()
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value returns the parent's value for key.
func (c *replyCtx) Value(key any) any { return c.parent.Value(key) }

// release stops the timer, if Done armed one.
func (c *replyCtx) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}
