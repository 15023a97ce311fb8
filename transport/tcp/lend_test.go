package tcp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// These tests look inside the transport (Transport.lender) to know when a
// Receive reads a connection itself, so that each can interrupt that read
// and not a wait on the queue.

// listenLoopback opens an endpoint whose reader goroutines take back a
// lent connection only after an hour, so that a slow test run does not
// take it from the Receive the test looks at.
func listenLoopback(t *testing.T) *Transport {
	t.Helper()
	tr, err := Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr.lendCheck = time.Hour
	t.Cleanup(func() { tr.Close() })
	return tr
}

// poll waits until cond holds, for at most five seconds.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// result is what a Receive run in its own goroutine returned.
type result struct {
	p   transport.Packet
	err error
}

func receiveAsync(ctx context.Context, tr *Transport) <-chan result {
	out := make(chan result, 1)
	go func() {
		p, err := tr.Receive(ctx)
		out <- result{p, err}
	}()
	return out
}

// await returns what the Receive returned, failing after five seconds.
func await(t *testing.T, what string, r <-chan result) result {
	t.Helper()
	select {
	case res := <-r:
		return res
	case <-time.After(5 * time.Second):
		t.Fatalf("Receive did not return %s", what)
		return result{}
	}
}

// pingPong makes b echo what a sends it, and runs n round trips from a,
// which makes each side's connection the one its Receive reads itself.
func pingPong(t *testing.T, a, b *Transport, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, err := b.Receive(ctx)
			if err != nil {
				return
			}
			b.Send(ctx, p.From, p.Data)
		}
	}()
	defer func() { cancel(); <-done }()
	for i := range n {
		msg := []byte("ping " + strconv.Itoa(i))
		if err := a.Send(ctx, b.Addrs()[0], msg); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		p, err := a.Receive(rctx)
		rcancel()
		if err != nil || !bytes.Equal(p.Data, msg) {
			t.Fatalf("round trip %d: %q, %v", i, p.Data, err)
		}
	}
}

// lentReceive starts a Receive on a, whose connection to b is hot, and
// waits until it reads that connection itself.
func lentReceive(t *testing.T, ctx context.Context, a *Transport) <-chan result {
	t.Helper()
	r := receiveAsync(ctx, a)
	poll(t, "a Receive reading the connection itself", func() bool { return a.lender.Load() != nil })
	return r
}

func TestRoundTripsAreReadByReceiveItself(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	pingPong(t, a, b, 50)
	// The first reply reaches a waiting Receive through the reader
	// goroutine; after it, Receive reads the connection itself.
	if got := a.Stats().DirectReceived; got < 40 {
		t.Errorf("a's Receive read %d of 50 replies itself, want most", got)
	}
	if got := b.Stats().DirectReceived; got < 40 {
		t.Errorf("b's Receive read %d of 50 requests itself, want most", got)
	}
}

func TestFrameFromAnotherConnectionInterruptsALentReceive(t *testing.T) {
	a, b, c := listenLoopback(t), listenLoopback(t), listenLoopback(t)
	pingPong(t, a, b, 5)
	r := lentReceive(t, context.Background(), a)
	if err := c.Send(context.Background(), a.Addrs()[0], []byte("from c")); err != nil {
		t.Fatal(err)
	}
	res := await(t, "a frame queued from another connection", r)
	if res.err != nil || string(res.p.Data) != "from c" || !res.p.From.Equal(c.Addrs()[0]) {
		t.Fatalf("Receive = %q from %v, %v; want c's frame", res.p.Data, res.p.From, res.err)
	}
	// The connection lent before is read again by the next Receive.
	r = lentReceive(t, context.Background(), a)
	if err := b.Send(context.Background(), a.Addrs()[0], []byte("from b")); err != nil {
		t.Fatal(err)
	}
	if res := await(t, "b's frame", r); res.err != nil || string(res.p.Data) != "from b" {
		t.Fatalf("Receive = %q, %v; want b's frame", res.p.Data, res.err)
	}
}

func TestCtxEndInterruptsALentReceive(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	pingPong(t, a, b, 5)
	ctx, cancel := context.WithCancel(context.Background())
	r := lentReceive(t, ctx, a)
	cancel()
	if res := await(t, "after ctx ended", r); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("Receive = %v, want context.Canceled", res.err)
	}
	// The connection still works, read by the next Receive.
	pingPong(t, a, b, 2)
}

func TestCloseInterruptsALentReceive(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	pingPong(t, a, b, 5)
	r := lentReceive(t, context.Background(), a)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if res := await(t, "after Close", r); !errors.Is(res.err, transport.ErrClosed) {
		t.Fatalf("Receive = %v, want ErrClosed", res.err)
	}
}

func TestALentConnectionIsReadWhenNoReceiveIs(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	a.lendCheck = lendCheck // before a's first connection
	pingPong(t, a, b, 5)
	before := a.Stats()
	if before.DirectReceived == 0 {
		t.Fatal("no connection lent during the round trips")
	}
	for i := range 5 {
		if err := b.Send(context.Background(), a.Addrs()[0], []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// No Receive runs: the reader goroutine takes its connection back
	// (within lendCheck of the last round trip, so most runs get here
	// before it has) and queues the frames.
	poll(t, "the frames queued", func() bool { return a.Stats().Received == before.Received+5 })
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p, err := a.Receive(ctx)
		cancel()
		if err != nil || !bytes.Equal(p.Data, []byte{byte(i)}) {
			t.Fatalf("frame %d: %v, %v", i, p.Data, err)
		}
	}
	if got := a.Stats().DirectReceived; got != before.DirectReceived {
		t.Errorf("DirectReceived went from %d to %d for frames already queued", before.DirectReceived, got)
	}
}

// rawHot dials a as a raw peer announcing port, and sends a frame while a
// Receive waits, which makes its connection the hot one.
func rawHot(t *testing.T, a *Transport) net.Conn {
	t.Helper()
	ap, err := transport.ToAddrPort(a.Addrs()[0], transport.TCP)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	hello, err := appendHello(nil, ma.StringCast("/ip4/127.0.0.1/tcp/9"))
	if err != nil {
		t.Fatal(err)
	}
	r := receiveAsync(context.Background(), a)
	poll(t, "a waiting Receive", func() bool { return a.waiting.Load() > 0 })
	if _, err := nc.Write(appendFrame(hello, []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	if res := await(t, "the raw peer's first frame", r); res.err != nil {
		t.Fatal(res.err)
	}
	poll(t, "the raw connection lent", func() bool { return a.hot.Load() != nil })
	return nc
}

func TestFrameCutByAnInterruptArrivesWhole(t *testing.T) {
	a := listenLoopback(t)
	nc := rawHot(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	r := lentReceive(t, ctx, a)
	payload := bytes.Repeat([]byte("x"), 1000)
	wire := appendFrame(nil, payload)
	if _, err := nc.Write(wire[:500]); err != nil {
		t.Fatal(err)
	}
	// The lender most likely reads the first half before ctx ends, so the
	// frame is cut by the interrupt; TestFrameReaderResumesAfterInterruptions
	// cuts frames at every point deterministically.
	cancel()
	if res := await(t, "after ctx ended", r); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("Receive = %q, %v; want context.Canceled", res.p.Data, res.err)
	}
	if _, err := nc.Write(wire[500:]); err != nil {
		t.Fatal(err)
	}
	res := await(t, "the rest of the frame", receiveAsync(context.Background(), a))
	if res.err != nil || !bytes.Equal(res.p.Data, payload) {
		t.Fatalf("Receive = %d bytes, %v; want the whole %d-byte frame", len(res.p.Data), res.err, len(payload))
	}
}

func TestOversizePrefixOnALentConnectionIsCountedAndReceiveGoesOn(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	nc := rawHot(t, a)
	r := lentReceive(t, context.Background(), a)
	if _, err := nc.Write([]byte{0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the oversize prefix counted", func() bool { return a.Stats().Oversize == 1 })
	if err := b.Send(context.Background(), a.Addrs()[0], []byte("after")); err != nil {
		t.Fatal(err)
	}
	if res := await(t, "a frame from another peer", r); res.err != nil || string(res.p.Data) != "after" {
		t.Fatalf("Receive = %q, %v; want b's frame", res.p.Data, res.err)
	}
}

func TestASecondReceiveReadsTheConnectionTheFirstLeaves(t *testing.T) {
	a, b := listenLoopback(t), listenLoopback(t)
	pingPong(t, a, b, 5)
	first := lentReceive(t, context.Background(), a)
	second := receiveAsync(context.Background(), a)
	// Both wait: the first reading the connection, the second on the queue.
	poll(t, "the second Receive waiting on the queue", func() bool { return a.waiting.Load() == 2 })
	if err := b.Send(context.Background(), a.Addrs()[0], []byte("one")); err != nil {
		t.Fatal(err)
	}
	if res := await(t, "the first frame", first); res.err != nil || string(res.p.Data) != "one" {
		t.Fatalf("first Receive = %q, %v", res.p.Data, res.err)
	}
	// The second Receive learns that the connection is free and reads it;
	// its reader goroutine would take it back only after an hour.
	if err := b.Send(context.Background(), a.Addrs()[0], []byte("two")); err != nil {
		t.Fatal(err)
	}
	if res := await(t, "the second frame", second); res.err != nil || string(res.p.Data) != "two" {
		t.Fatalf("second Receive = %q, %v", res.p.Data, res.err)
	}
}

func TestLendingBacksOffWhenOtherPeersKeepInterruptingIt(t *testing.T) {
	a, b, c := listenLoopback(t), listenLoopback(t), listenLoopback(t)
	a.lendCheck = lendCheck // before a's first connection
	pingPong(t, a, b, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	drained := make(chan struct{})
	go func() { // a keeps receiving: lent b's connection, interrupted by c's frames
		defer close(drained)
		for {
			if _, err := a.Receive(ctx); err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); <-drained }()
	start := time.Now().UnixNano()
	poll(t, "lending backed off", func() bool {
		c.Send(ctx, a.Addrs()[0], []byte("busy"))
		return a.lendAfter.Load() > start
	})
	if got := a.Stats().DirectReceived; got == 0 {
		t.Fatal("nothing was read by Receive itself before the peers crowded in")
	}
}
