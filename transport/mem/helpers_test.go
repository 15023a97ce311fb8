package mem_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
)

// newNet returns a network closed with the test.
func newNet(t *testing.T, opts mem.Options) *mem.Network {
	t.Helper()
	n := mem.NewNetwork(opts)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// listen adds k endpoints at automatic addresses.
func listen(t *testing.T, n *mem.Network, k int) []*mem.Endpoint {
	t.Helper()
	eps := make([]*mem.Endpoint, k)
	for i := range eps {
		e, err := n.Listen(nil)
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		eps[i] = e
	}
	return eps
}

// send sends frame from a to b and fails the test on an error.
func send(t *testing.T, from, to *mem.Endpoint, frame string) {
	t.Helper()
	if err := from.Send(context.Background(), to.Addr(), []byte(frame)); err != nil {
		t.Fatalf("Send %s -> %s: %v", from.Addr(), to.Addr(), err)
	}
}

// receive returns the next frame at e, failing the test after a second.
// Zero-latency frames are in the inbox when Send returns, so the deadline
// only bounds a broken implementation.
func receive(t *testing.T, e *mem.Endpoint) transport.Packet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p, err := e.Receive(ctx)
	if err != nil {
		t.Fatalf("Receive at %s: %v", e.Addr(), err)
	}
	return p
}

// poll returns the next frame at e if one is waiting, without blocking.
func poll(t *testing.T, e *mem.Endpoint) (transport.Packet, bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := e.Receive(ctx)
	switch {
	case err == nil:
		return p, true
	case errors.Is(err, context.Canceled):
		return transport.Packet{}, false
	default:
		t.Fatalf("Receive at %s with a cancelled ctx: %v", e.Addr(), err)
		return transport.Packet{}, false
	}
}

// inboxEmpty reports whether e has no frame waiting, taking the frame if
// there is one.
func inboxEmpty(t *testing.T, e *mem.Endpoint) bool {
	t.Helper()
	_, ok := poll(t, e)
	return !ok
}
