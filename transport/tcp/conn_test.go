package tcp_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func receive(t *testing.T, tr transport.Transport) transport.Packet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := tr.Receive(ctx)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return p
}

// rawClient dials tr and sends the documented hello announcing port.
func rawClient(t *testing.T, tr *tcp.Transport, port int) net.Conn {
	t.Helper()
	ap, err := transport.ToAddrPort(tr.Addrs()[0], transport.TCP)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	addr := ma.StringCast("/ip4/127.0.0.1/tcp/" + strconv.Itoa(port)).Bytes()
	hello := append([]byte("DKT1"), byte(len(addr)))
	if _, err := c.Write(append(hello, addr...)); err != nil {
		t.Fatal(err)
	}
	return c
}

// expectClosedByPeer reads c until the transport closes it.
func expectClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the transport did not close the connection")
	}
}

func frame(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

func TestRawClientFramesArriveFromItsAnnouncedPort(t *testing.T) {
	tr := listen(t, tcp.Options{})
	c := rawClient(t, tr, 4242)
	if _, err := c.Write(append(frame([]byte("one")), frame([]byte("two"))...)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two"} {
		p := receive(t, tr)
		if string(p.Data) != want {
			t.Fatalf("got %q, want %q", p.Data, want)
		}
		if p.From.String() != "/ip4/127.0.0.1/tcp/4242" {
			t.Errorf("From = %v, want the announced listen address /ip4/127.0.0.1/tcp/4242", p.From)
		}
	}
}

func TestOversizeLengthPrefixClosesConnectionAndIsCounted(t *testing.T) {
	tr := listen(t, tcp.Options{MaxFrameSize: 1000})
	c := rawClient(t, tr, 4242)
	prefix := binary.BigEndian.AppendUint32(nil, 1001)
	if _, err := c.Write(append(prefix, make([]byte, 1001)...)); err != nil {
		t.Fatal(err)
	}
	expectClosedByPeer(t, c)
	waitFor(t, "Stats().Oversize to reach 1", func() bool { return tr.Stats().Oversize == 1 })
	waitFor(t, "the connection to be forgotten", func() bool { return tr.Stats().OpenConns == 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if p, err := tr.Receive(ctx); err == nil {
		t.Fatalf("Receive returned %d bytes from an oversize frame", len(p.Data))
	}
}

func TestHugeLengthPrefixDoesNotAllocate(t *testing.T) {
	tr := listen(t, tcp.Options{MaxFrameSize: 1 << 30})
	c := rawClient(t, tr, 4242)
	if _, err := c.Write([]byte{0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	expectClosedByPeer(t, c)
	if tr.Stats().Oversize != 1 {
		t.Errorf("Stats().Oversize = %d, want 1", tr.Stats().Oversize)
	}
}

func TestBadHelloClosesConnectionAndIsCounted(t *testing.T) {
	tr := listen(t, tcp.Options{})
	ap, _ := transport.ToAddrPort(tr.Addrs()[0], transport.TCP)
	c, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	expectClosedByPeer(t, c)
	waitFor(t, "Stats().BadHello to reach 1", func() bool { return tr.Stats().BadHello == 1 })
}

func TestIdleConnectionsCloseAndRedial(t *testing.T) {
	opts := tcp.Options{IdleTimeout: 100 * time.Millisecond}
	a, b := listen(t, opts), listen(t, opts)
	ctx := context.Background()
	if err := a.Send(ctx, b.Addrs()[0], []byte("hello")); err != nil {
		t.Fatal(err)
	}
	receive(t, b)
	if a.Stats().OpenConns != 1 {
		t.Fatalf("a has %d connections open after a Send, want 1", a.Stats().OpenConns)
	}
	waitFor(t, "both ends to close the idle connection", func() bool {
		return a.Stats().OpenConns == 0 && b.Stats().OpenConns == 0
	})
	if err := a.Send(ctx, b.Addrs()[0], []byte("again")); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, b); string(p.Data) != "again" {
		t.Fatalf("after an idle close got %q, want %q", p.Data, "again")
	}
}

func TestActiveConnectionOutlivesIdleTimeout(t *testing.T) {
	opts := tcp.Options{IdleTimeout: 400 * time.Millisecond}
	a, b := listen(t, opts), listen(t, opts)
	ctx := context.Background()
	// Traffic for three idle timeouts, a frame every few milliseconds.
	for start := time.Now(); time.Since(start) < 3*opts.IdleTimeout; {
		if err := a.Send(ctx, b.Addrs()[0], []byte("tick")); err != nil {
			t.Fatal(err)
		}
		receive(t, b)
	}
	if got := a.Stats().Dialed; got != 1 {
		t.Errorf("a dialed %d connections during steady traffic, want 1", got)
	}
	if got := b.Stats().Accepted; got != 1 {
		t.Errorf("b accepted %d connections during steady traffic, want 1", got)
	}
}

func TestReplyReusesTheInboundConnection(t *testing.T) {
	a, b := listen(t, tcp.Options{}), listen(t, tcp.Options{})
	ctx := context.Background()
	if err := a.Send(ctx, b.Addrs()[0], []byte("ask")); err != nil {
		t.Fatal(err)
	}
	p := receive(t, b)
	if !p.From.Equal(a.Addrs()[0]) {
		t.Fatalf("From = %v, want a's listen address %v", p.From, a.Addrs()[0])
	}
	if err := b.Send(ctx, p.From, []byte("answer")); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, a); string(p.Data) != "answer" || !p.From.Equal(b.Addrs()[0]) {
		t.Fatalf("a got %q from %v, want %q from %v", p.Data, p.From, "answer", b.Addrs()[0])
	}
	if sa, sb := a.Stats(), b.Stats(); sa.OpenConns != 1 || sb.OpenConns != 1 || sb.Dialed != 0 {
		t.Errorf("a has %d connections, b has %d and dialed %d; want 1, 1, 0: the reply should reuse the connection", sa.OpenConns, sb.OpenConns, sb.Dialed)
	}
}

func TestSendToClosedPortIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ma.StringCast("/ip4/127.0.0.1/tcp/" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	ln.Close()
	a := listen(t, tcp.Options{})
	if err := a.Send(context.Background(), addr, []byte("x")); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("Send to a closed port: %v, want ErrUnreachable", err)
	}
}

func TestPeerThatNeverReadsDoesNotStallOthers(t *testing.T) {
	// A raw listener that accepts and never reads: its buffers fill and
	// writes to it stall.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	defer func() {
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	}()
	stuck := ma.StringCast("/ip4/127.0.0.1/tcp/" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))

	a := listen(t, tcp.Options{WriteTimeout: 500 * time.Millisecond, SendQueueBytes: 1 << 20})
	b := listen(t, tcp.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Send(ctx, b.Addrs()[0], []byte("before")); err != nil {
		t.Fatal(err)
	}
	receive(t, b)
	// Send until the stuck connection's socket buffers and a's 1 MiB queue
	// are full, its write stalls for WriteTimeout and a closes it. Every
	// Send must return at once all the while.
	big := make([]byte, 64<<10)
	for sent := 0; sent == 0 || a.Stats().OpenConns == 2; sent++ {
		if ctx.Err() != nil {
			t.Fatalf("the stalled connection was not closed within 30s (%d Sends, %+v)", sent, a.Stats())
		}
		start, dialed := time.Now(), a.Stats().Dialed
		if err := a.Send(ctx, stuck, big); err != nil {
			t.Fatalf("Send to the stuck peer: %v", err)
		}
		// A Send that dials waits for the dial; any other only queues.
		// 2 s leaves room for a loaded machine; the context's 30 s only
		// bounds a failing run.
		if d := time.Since(start); d > 2*time.Second && a.Stats().Dialed == dialed {
			t.Fatalf("a Send to the stuck peer over an open connection took %v", d)
		}
	}
	if a.Stats().SendDropped == 0 {
		t.Error("no frame to the stuck peer was dropped: the queue is not bounded")
	}
	if err := a.Send(ctx, b.Addrs()[0], []byte("still moving")); err != nil {
		t.Fatal(err)
	}
	if p := receive(t, b); string(p.Data) != "still moving" {
		t.Fatalf("got %q", p.Data)
	}
}
func TestInboundConnectionsAreBoundedByMaxConns(t *testing.T) {
	tr := listen(t, tcp.Options{MaxConns: 2})
	rawClient(t, tr, 1001)
	rawClient(t, tr, 1002)
	waitFor(t, "two connections", func() bool { return tr.Stats().OpenConns == 2 })
	third := rawClient(t, tr, 1003)
	expectClosedByPeer(t, third)
	// The refusal is counted as the connection is closed: the client may
	// see the close first.
	waitFor(t, "the refused connection counted", func() bool { return tr.Stats().Rejected == 1 })
	if got := tr.Stats().Rejected; got != 1 {
		t.Errorf("Stats().Rejected = %d, want 1", got)
	}
}

func TestCloseEndsConnectionsAndBlockedReceive(t *testing.T) {
	a, b := listen(t, tcp.Options{}), listen(t, tcp.Options{})
	if err := a.Send(context.Background(), b.Addrs()[0], []byte("x")); err != nil {
		t.Fatal(err)
	}
	receive(t, b)
	errc := make(chan error, 1)
	go func() {
		_, err := b.Receive(context.Background())
		errc <- err
	}()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("blocked Receive returned %v, want ErrClosed", err)
	}
	if b.Stats().OpenConns != 0 {
		t.Errorf("b has %d connections after Close", b.Stats().OpenConns)
	}
	waitFor(t, "a to notice the closed connection", func() bool { return a.Stats().OpenConns == 0 })
	if err := b.Close(); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
}

func TestConcurrentSendsShareOneDial(t *testing.T) {
	a, b := listen(t, tcp.Options{}), listen(t, tcp.Options{})
	const n = 16
	errc := make(chan error, n)
	for i := range n {
		go func() { errc <- a.Send(context.Background(), b.Addrs()[0], []byte{byte(i)}) }()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[byte]bool{}
	for range n {
		seen[receive(t, b).Data[0]] = true
	}
	if len(seen) != n {
		t.Errorf("received %d distinct frames, want %d", len(seen), n)
	}
	if got := a.Stats().Dialed; got != 1 {
		t.Errorf("a dialed %d connections for one destination, want 1", got)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	a, err := tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), tcp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), b.Addrs()[0], []byte("x")); err != nil {
		t.Fatal(err)
	}
	receive(t, b)
	if err := a.Send(context.Background(), b.Addrs()[0], []byte("y")); err != nil {
		t.Fatal(err)
	}
	// Close returns only once its own goroutines have ended; the net
	// package's may take a moment longer.
	a.Close()
	b.Close()
	waitFor(t, "the goroutine count to return to its level before Listen", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

func TestReceiveQueueIsBoundedAndDropsAreCounted(t *testing.T) {
	a := listen(t, tcp.Options{})
	b := listen(t, tcp.Options{ReceiveQueueBytes: 64 << 10})
	const n, size = 100, 4 << 10
	for range n {
		if err := a.Send(context.Background(), b.Addrs()[0], make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
	// b never calls Receive while the frames arrive.
	waitFor(t, "every frame to be queued or dropped", func() bool {
		s := b.Stats()
		return s.Received+s.ReceiveDropped == n
	})
	s := b.Stats()
	if s.Received > (64<<10)/size {
		t.Errorf("%d frames of %d bytes queued, over the 64 KiB bound", s.Received, size)
	}
	if s.ReceiveDropped == 0 {
		t.Error("no frame was dropped")
	}
}

func TestSilentClientIsClosedWithoutHello(t *testing.T) {
	tr := listen(t, tcp.Options{IdleTimeout: 100 * time.Millisecond})
	ap, _ := transport.ToAddrPort(tr.Addrs()[0], transport.TCP)
	c, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expectClosedByPeer(t, c)
	waitFor(t, "Stats().BadHello to reach 1", func() bool { return tr.Stats().BadHello == 1 })
}

// TestFramesStayWholeWhenTheSocketFills: Send writes a frame at once when
// the socket takes it and hands the rest to the writer goroutine when it
// takes only part. A peer that stops reading while far more than its and
// our socket buffers hold is sent, then reads everything, must get every
// frame whole, in order, after the hello.
func TestFramesStayWholeWhenTheSocketFills(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	peer := ma.StringCast("/ip4/127.0.0.1/tcp/" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))

	const frames, size = 64, 256 << 10 // 16 MiB: more than both sockets buffer
	a := listen(t, tcp.Options{SendQueueBytes: 2 * frames * size})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]byte, size)
	for i := range frames {
		binary.BigEndian.PutUint64(out, uint64(i))
		for j := 8; j < size; j++ {
			out[j] = byte(i + j)
		}
		if err := a.Send(ctx, peer, out); err != nil {
			t.Fatal(err)
		}
	}
	var c net.Conn
	select {
	case c = <-accepted:
	case <-ctx.Done():
		t.Fatal("no connection")
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	head := make([]byte, 5)
	if _, err := io.ReadFull(c, head); err != nil || string(head[:4]) != "DKT1" {
		t.Fatalf("hello: %q, %v", head, err)
	}
	if _, err := io.ReadFull(c, make([]byte, head[4])); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4+size)
	for i := range frames {
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("frame %d: %v (%+v)", i, err, a.Stats())
		}
		if n := binary.BigEndian.Uint32(got); n != size {
			t.Fatalf("frame %d: length prefix %d, want %d", i, n, size)
		}
		data := got[4:]
		if n := binary.BigEndian.Uint64(data); n != uint64(i) {
			t.Fatalf("frame %d arrived as frame %d", i, n)
		}
		for j := 8; j < size; j++ {
			if data[j] != byte(i+j) {
				t.Fatalf("frame %d: byte %d is %d, want %d", i, j, data[j], byte(i+j))
			}
		}
	}
	if s := a.Stats(); s.Sent != frames || s.SendDropped != 0 {
		t.Errorf("stats %+v, want %d sent and none dropped", s, frames)
	}
}
