package tcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Defaults for Options.
const (
	DefaultMaxFrameSize      = 1 << 20
	DefaultIdleTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultDialTimeout       = 10 * time.Second
	DefaultMaxConns          = 256
	DefaultSendQueueBytes    = 4 << 20
	DefaultReceiveQueueBytes = 16 << 20
	// maxFrameLimit bounds Options.MaxFrameSize: a length prefix is 32 bits.
	maxFrameLimit = 1 << 30
	// queueLen bounds the number of frames in each queue, whatever their size.
	queueLen = 1024
)

// Options configures a Transport. The zero value gives the defaults.
type Options struct {
	// MaxFrameSize is the frame limit, up to 1 GiB (DefaultMaxFrameSize if
	// 0).
	MaxFrameSize int
	// IdleTimeout closes a connection that carried no frame either way for
	// this long (DefaultIdleTimeout if 0).
	IdleTimeout time.Duration
	// WriteTimeout closes a connection whose peer has not taken a write
	// for this long (DefaultWriteTimeout if 0).
	WriteTimeout time.Duration
	// DialTimeout bounds a dial besides Send's ctx (DefaultDialTimeout if 0).
	DialTimeout time.Duration
	// MaxConns bounds the open inbound connections, and so their reader
	// goroutines (DefaultMaxConns if 0).
	MaxConns int
	// SendQueueBytes bounds the frames queued on one connection
	// (DefaultSendQueueBytes if 0).
	SendQueueBytes int
	// ReceiveQueueBytes bounds the frames waiting for Receive
	// (DefaultReceiveQueueBytes if 0).
	ReceiveQueueBytes int
	// Logger receives debug messages about closed connections; nil discards.
	Logger *slog.Logger
}

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MaxFrameSize, DefaultMaxFrameSize)
	def(&o.MaxConns, DefaultMaxConns)
	def(&o.SendQueueBytes, DefaultSendQueueBytes)
	def(&o.ReceiveQueueBytes, DefaultReceiveQueueBytes)
	defDur(&o.IdleTimeout, DefaultIdleTimeout)
	defDur(&o.WriteTimeout, DefaultWriteTimeout)
	defDur(&o.DialTimeout, DefaultDialTimeout)
	var errs []error
	if o.MaxFrameSize < 0 || o.MaxFrameSize > maxFrameLimit {
		errs = append(errs, fmt.Errorf("tcp: MaxFrameSize %d outside 1..%d", o.MaxFrameSize, maxFrameLimit))
	}
	if o.MaxConns < 0 || o.SendQueueBytes < 0 || o.ReceiveQueueBytes < 0 {
		errs = append(errs, errors.New("tcp: MaxConns, SendQueueBytes and ReceiveQueueBytes must not be negative"))
	}
	if o.IdleTimeout < 0 || o.WriteTimeout < 0 || o.DialTimeout < 0 {
		errs = append(errs, errors.New("tcp: timeouts must not be negative"))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, errors.Join(errs...)
}

// Stats are counters since Listen; OpenConns is a gauge.
type Stats struct {
	OpenConns      int64  // connections open now, both directions
	Dialed         uint64 // connections dialed
	Accepted       uint64 // connections accepted (Rejected ones excluded)
	Sent           uint64 // frames queued by Send
	Received       uint64 // frames received whole, DirectReceived included
	DirectReceived uint64 // frames Receive read from the socket itself
	SendDropped    uint64 // frames dropped: a full send queue or a failed connection
	ReceiveDropped uint64 // frames dropped: the receive queue was full
	Oversize       uint64 // connections closed for a length prefix over MaxFrameSize
	BadHello       uint64 // inbound connections closed for a missing or bad hello
	Rejected       uint64 // inbound connections closed at MaxConns
}

// Transport is a TCP endpoint. It is safe for concurrent use.
type Transport struct {
	opts  Options
	ln    *net.TCPListener
	local netip.AddrPort
	addr  ma.Multiaddr
	hello []byte

	ctx    context.Context // cancelled by Close, to abort dials
	cancel context.CancelFunc
	closed atomic.Bool
	wg     sync.WaitGroup

	mu      sync.Mutex
	pool    map[netip.AddrPort]*conn // one connection per remote listen address
	dials   map[netip.AddrPort]*dial // dials in progress
	conns   map[*conn]struct{}       // every open connection
	inbound int                      // open accepted connections

	bufs       sync.Pool // *[]byte of pooledBuf capacity, for queued frames
	recv       chan transport.Packet
	recvQueued atomic.Int64 // bytes in recv
	waiting    atomic.Int32 // Receives waiting: on recv, or lending themselves

	// hot is the connection a Receive may read itself (see lend): one whose
	// reader goroutine delivered a frame to a queue that was empty, and has
	// had a frame in every lendCheck since.
	hot atomic.Pointer[conn]
	// lendable tells a Receive waiting on recv that hot is free to read.
	lendable chan struct{}
	// lendCheck is the constant of that name; tests lengthen it to keep a
	// connection lent while they look.
	lendCheck time.Duration
	// lendAfter is when connections may be lent again (unix nanoseconds),
	// after one was crowded out by frames from others (see awaitRole).
	lendAfter atomic.Int64
	// lendMu is held by the one Receive reading a connection itself, and
	// lender names that connection, for deliver to interrupt.
	lendMu sync.Mutex
	lender atomic.Pointer[conn]
	// lendCtx is the ctx of the last lend and stopLend undoes its
	// AfterFunc, which interrupts the lender: kept from one Receive to the
	// next with the same ctx, as registering one per call would cost
	// allocations per frame. Guarded by lendMu.
	lendCtx  context.Context
	stopLend func() bool

	open                                          atomic.Int64
	dialed, accepted, sent, received, sendDropped atomic.Uint64
	recvDropped, oversize, bad, rejected, direct  atomic.Uint64
}

var _ transport.Transport = (*Transport)(nil)

// Listen listens on addr, /ip4/HOST/tcp/PORT or /ip6/HOST/tcp/PORT; port 0
// picks a free port, which Addrs reports.
func Listen(addr ma.Multiaddr, opts Options) (*Transport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ap, err := transport.ToAddrPort(addr, transport.TCP)
	if err != nil {
		return nil, fmt.Errorf("tcp: listen: %w", err)
	}
	network := "tcp4"
	if !ap.Addr().Unmap().Is4() {
		network = "tcp6"
	}
	ln, err := net.ListenTCP(network, net.TCPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("tcp: listen on %v: %w", addr, cause(err))
	}
	local := ln.Addr().(*net.TCPAddr).AddrPort()
	self, err := transport.FromAddrPort(local, transport.TCP)
	var hello []byte
	if err == nil {
		hello, err = appendHello(nil, self)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("tcp: listen on %v: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		opts: opts, ln: ln, local: local, addr: self, hello: hello,
		ctx: ctx, cancel: cancel,
		pool:  make(map[netip.AddrPort]*conn),
		conns: make(map[*conn]struct{}),
		dials: make(map[netip.AddrPort]*dial),
		recv:  make(chan transport.Packet, queueLen),

		lendable:  make(chan struct{}, 1),
		lendCheck: lendCheck,
	}
	t.wg.Go(t.acceptLoop)
	return t, nil
}

// acceptLoop accepts connections until the listener closes.
func (t *Transport) acceptLoop() {
	var backoff time.Duration
	for {
		nc, err := t.ln.AcceptTCP()
		if err != nil {
			if t.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: a later Accept may work, so
			// wait a little longer each time rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t.opts.Logger.Debug("tcp: accept", "err", err, "retry in", backoff)
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-t.ctx.Done():
				timer.Stop()
				return
			}
			continue
		}
		backoff = 0
		t.mu.Lock()
		if t.closed.Load() || t.inbound >= t.opts.MaxConns {
			t.mu.Unlock()
			nc.Close()
			if !t.closed.Load() {
				t.rejected.Add(1)
			}
			continue
		}
		t.inbound++
		t.accepted.Add(1)
		t.startConnLocked(nc, netip.AddrPort{}, nil)
		t.mu.Unlock()
	}
}

// Send writes frame on the connection to to, dialing it first if needed,
// or queues it there when the socket does not take it at once. It returns
// once the frame is written or queued (or dropped, when the connection's
// queue is full): it never waits for the peer to read.
func (t *Transport) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if len(frame) > t.opts.MaxFrameSize {
		return &transport.FrameTooLargeError{Size: len(frame), Max: t.opts.MaxFrameSize}
	}
	ap, err := t.dest(to)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := t.connTo(ctx, ap)
	if err != nil {
		return err
	}
	if c.send(frame) {
		t.sent.Add(1)
	} else {
		t.sendDropped.Add(1)
	}
	return nil
}

// dest converts to into a destination of the listener's IP version.
func (t *Transport) dest(to ma.Multiaddr) (netip.AddrPort, error) {
	ap, err := transport.ToAddrPort(to, transport.TCP)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("tcp: %w", err)
	}
	if ap.Addr().Unmap().Is4() != t.local.Addr().Unmap().Is4() {
		return netip.AddrPort{}, fmt.Errorf("tcp: %v is not reachable from a listener on %v: %w", to, t.addr, transport.ErrUnsupportedAddr)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// connTo returns the pooled connection to ap, dialing one if there is none.
// Concurrent Sends to one address share one dial.
func (t *Transport) connTo(ctx context.Context, ap netip.AddrPort) (*conn, error) {
	for {
		t.mu.Lock()
		if t.closed.Load() {
			t.mu.Unlock()
			return nil, transport.ErrClosed
		}
		if c := t.pool[ap]; c != nil {
			t.mu.Unlock()
			return c, nil
		}
		d, dialing := t.dials[ap]
		if !dialing {
			d = &dial{done: make(chan struct{})}
			t.dials[ap] = d
		}
		t.mu.Unlock()
		if dialing {
			select {
			case <-d.done:
				if d.err != nil && !errors.Is(d.err, errDialerGaveUp) {
					return nil, d.err
				}
				continue // take it from the pool, or dial again
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-t.ctx.Done():
				return nil, transport.ErrClosed
			}
		}
		c, err := t.dial(ctx, ap)
		t.mu.Lock()
		delete(t.dials, ap)
		t.mu.Unlock()
		d.err = err
		if err != nil && ctx.Err() != nil {
			// The dialer's own ctx ended: the others may try again.
			d.err = errDialerGaveUp
		}
		close(d.done)
		return c, err
	}
}

// errDialerGaveUp tells the Sends waiting for a dial that it ended with the
// dialing Send's ctx, not with an answer about the address.
var errDialerGaveUp = errors.New("tcp: dialer gave up")

// dial is one dial in progress, shared by the Sends waiting for it.
type dial struct {
	done chan struct{}
	err  error // set before done is closed
}

// dial connects to ap and pools the connection.
func (t *Transport) dial(ctx context.Context, ap netip.AddrPort) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, t.opts.DialTimeout)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", ap.String())
	if err != nil {
		switch {
		case t.closed.Load():
			return nil, transport.ErrClosed
		case ctx.Err() != nil:
			return nil, fmt.Errorf("tcp: dial %v: %w", ap, ctx.Err())
		}
		// Refused, or no answer within DialTimeout.
		return nil, fmt.Errorf("tcp: dial %v: %w: %w", ap, transport.ErrUnreachable, cause(err))
	}
	from, err := transport.FromAddrPort(ap, transport.TCP)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("tcp: dial %v: %w", ap, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		nc.Close()
		return nil, transport.ErrClosed
	}
	c := t.startConnLocked(nc.(*net.TCPConn), ap, from)
	t.pool[ap] = c
	t.dialed.Add(1)
	return c, nil
}

// Receive returns the next frame: a queued one, or one it reads itself
// from the connection lent to it (see lend), or the next one queued.
func (t *Transport) Receive(ctx context.Context) (transport.Packet, error) {
	for {
		if t.closed.Load() {
			return transport.Packet{}, transport.ErrClosed
		}
		select {
		case p := <-t.recv:
			t.recvQueued.Add(-int64(len(p.Data)))
			return p, nil
		default:
		}
		// Counted as waiting before it tries to lend, so that a lend
		// ending after this try fails signals lendable.
		t.waiting.Add(1)
		p, ok, again, held := t.lend(ctx)
		if held != nil {
			t.waiting.Add(-1)
			t.leave(held)
			if ok {
				return p, nil
			}
			if again {
				continue
			}
			t.waiting.Add(1)
		}
		select {
		case p := <-t.recv:
			t.waiting.Add(-1)
			t.recvQueued.Add(-int64(len(p.Data)))
			return p, nil
		case <-t.lendable:
			t.waiting.Add(-1)
		case <-ctx.Done():
			t.waiting.Add(-1)
			return transport.Packet{}, ctx.Err()
		case <-t.ctx.Done():
			t.waiting.Add(-1)
			return transport.Packet{}, transport.ErrClosed
		}
	}
}

// lend reads the next frame from the hot connection in Receive's own
// goroutine, when no other goroutine reads it. A request/reply exchange
// then wakes the receiving goroutine once per frame, from the socket, as a
// plain blocking read would; handing each frame from a reader goroutine
// to Receive costs a second wake-up, most of a loopback round trip's
// extra time. The read stops early (ok false) when a frame is queued
// from another connection, ctx ends or the transport closes; again
// reports that Receive should look anew (the read was interrupted or the
// connection failed). held is the connection it read, if any, which it
// has left by the time it returns.
func (t *Transport) lend(ctx context.Context) (p transport.Packet, ok, again bool, held *conn) {
	c := t.hot.Load()
	if c == nil || !t.lendMu.TryLock() {
		return p, false, false, nil
	}
	defer t.lendMu.Unlock()
	if !c.role.CompareAndSwap(roleFree, roleReceive) {
		return p, false, false, nil
	}
	defer c.role.Store(roleFree)
	c.resume()
	t.lender.Store(c)
	defer t.lender.Store(nil)
	t.watchLocked(ctx)
	// deliver queues, then interrupts the lender it sees: checked after
	// lender is set, a frame queued before is seen here, and one queued
	// after interrupts the read.
	if len(t.recv) > 0 || ctx.Err() != nil || t.closed.Load() {
		return p, false, false, c
	}
	data, err := c.fr.next()
	switch {
	case err == nil:
		c.touch()
		c.direct.Add(1)
		t.received.Add(1)
		t.direct.Add(1)
		return transport.Packet{From: append(ma.Multiaddr(nil), c.from...), Data: data}, true, false, c
	case errors.Is(err, errInterrupted):
		// Something is queued, ctx ended, the transport closed, or a ctx
		// of an earlier Receive ended: look again.
		return p, false, true, c
	default:
		c.readFailed(err)
		return p, false, true, c
	}
}

// leave tells who should read c next, after a lend: its reader goroutine
// if c is no longer lent, else a Receive waiting on the queue, if any.
func (t *Transport) leave(c *conn) {
	if t.hot.Load() != c {
		select {
		case c.reclaim <- struct{}{}:
		default:
		}
	} else if t.waiting.Load() > 0 {
		select {
		case t.lendable <- struct{}{}:
		default:
		}
	}
}

// watchLocked makes ctx's end interrupt the lender; the caller holds
// lendMu.
func (t *Transport) watchLocked(ctx context.Context) {
	if ctx == t.lendCtx {
		return
	}
	t.unwatchLocked()
	if ctx.Done() == nil {
		return
	}
	t.lendCtx = ctx
	t.stopLend = context.AfterFunc(ctx, func() {
		if c := t.lender.Load(); c != nil {
			c.interrupt()
		}
	})
	if t.closed.Load() {
		// Close may have unwatched already: do not outlive it.
		t.unwatchLocked()
	}
}

// unwatchLocked undoes watchLocked; the caller holds lendMu.
func (t *Transport) unwatchLocked() {
	if t.stopLend != nil {
		t.stopLend()
	}
	t.lendCtx, t.stopLend = nil, nil
}

// deliver queues a received frame for Receive, or drops it when the queue
// is full. It reports whether Receive keeps up: the frame is queued and
// nothing before it, or a Receive was waiting for it.
func (t *Transport) deliver(from ma.Multiaddr, data []byte) bool {
	n := int64(len(data))
	if t.recvQueued.Add(n) > int64(t.opts.ReceiveQueueBytes) {
		t.recvQueued.Add(-n)
		t.recvDropped.Add(1)
		return false
	}
	select {
	case t.recv <- transport.Packet{From: append(ma.Multiaddr(nil), from...), Data: data}:
		t.received.Add(1)
	default:
		t.recvQueued.Add(-n)
		t.recvDropped.Add(1)
		return false
	}
	if c := t.lender.Load(); c != nil {
		c.interrupts.Add(1)
		c.interrupt()
	}
	return len(t.recv) <= 1
}

// Addrs returns the listen address, with the real port.
func (t *Transport) Addrs() []ma.Multiaddr {
	return []ma.Multiaddr{append(ma.Multiaddr(nil), t.addr...)}
}

// CanDial reports whether addr is a TCP address of the listener's IP
// version.
func (t *Transport) CanDial(addr ma.Multiaddr) bool {
	_, err := t.dest(addr)
	return err == nil
}

// MaxFrameSize returns the frame limit.
func (t *Transport) MaxFrameSize() int { return t.opts.MaxFrameSize }

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	return Stats{
		OpenConns:      t.open.Load(),
		Dialed:         t.dialed.Load(),
		Accepted:       t.accepted.Load(),
		Sent:           t.sent.Load(),
		Received:       t.received.Load(),
		DirectReceived: t.direct.Load(),
		SendDropped:    t.sendDropped.Load(),
		ReceiveDropped: t.recvDropped.Load(),
		Oversize:       t.oversize.Load(),
		BadHello:       t.bad.Load(),
		Rejected:       t.rejected.Load(),
	}
}

// Close closes the listener and every connection and waits for all the
// transport's goroutines. Later calls return ErrClosed.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed.Load() {
		t.mu.Unlock()
		return transport.ErrClosed
	}
	t.closed.Store(true)
	conns := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	t.cancel()
	err := t.ln.Close()
	for _, c := range conns {
		c.close()
	}
	// A lender's read ends with its connection, so lendMu is soon free.
	t.lendMu.Lock()
	t.unwatchLocked()
	t.lendMu.Unlock()
	t.wg.Wait()
	if err != nil {
		return fmt.Errorf("tcp: close: %w", err)
	}
	return nil
}

// cause returns what went wrong under a *net.OpError: its operation and
// address are what this package's own message states, in the caller's
// terms (a multiaddr), so that an error names each of them once.
func cause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
