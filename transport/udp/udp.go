package udp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Frame limits: the largest UDP payload over each IP version.
const (
	MaxFrameSizeIPv4 = 65507
	MaxFrameSizeIPv6 = 65527
)

// Defaults for Options.
const (
	DefaultSocketBuffer = 4 << 20
	// fromCacheSize bounds the cache of sender multiaddrs. An entry costs
	// about 140 bytes and saves a few small allocations a datagram from a
	// peer met again soon (the one being asked, the one asking): kept
	// small, as an idle node's memory matters more. 32 entries were 3 KiB
	// of an idle node of a 1,000-node network, where few senders repeat.
	fromCacheSize = 8
)

// Options configures a Transport. The zero value is usable.
type Options struct {
	// MaxFrameSize lowers the frame limit; 0 means the IP version's maximum
	// (MaxFrameSizeIPv4 or MaxFrameSizeIPv6). A larger value is an error.
	MaxFrameSize int
	// ReadBuffer and WriteBuffer are the socket buffer sizes to request; 0
	// means DefaultSocketBuffer. The kernel may grant less.
	ReadBuffer, WriteBuffer int
	// Logger receives debug messages about dropped datagrams; nil discards.
	Logger *slog.Logger
}

// Stats are counters since Listen.
type Stats struct {
	Sent     uint64 // frames handed to the kernel
	Received uint64 // frames returned by Receive
	Dropped  uint64 // datagrams over MaxFrameSize, dropped on receipt
}

// Transport is a UDP endpoint. It is safe for concurrent use.
type Transport struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	addr   ma.Multiaddr
	max    int
	logger *slog.Logger

	closeOnce sync.Once
	closed    atomic.Bool
	done      chan struct{} // closed by Close

	// reader is a one-slot semaphore: its holder owns buf, scratch, from
	// and the read deadline.
	reader chan struct{}
	raw    syscall.RawConn
	// buf is the read buffer of systems where readDatagram cannot learn a
	// datagram's size first: MaxFrameSize+1 bytes, made on first read, so
	// that truncation shows. scratch takes a datagram that is dropped.
	buf     []byte
	scratch [1]byte
	// peek learns the next datagram's size into peekN and peekErr (Linux);
	// a func value made once, so that Receive does not allocate a closure
	// per datagram.
	peek    func(fd uintptr) bool
	peekN   int
	peekErr syscall.Errno
	from    map[netip.AddrPort]ma.Multiaddr
	// interrupt ends a blocked read; a func value made once, so that
	// Receive does not allocate a closure per call.
	interrupt func()
	// armed is the Done channel of the ctx whose end interrupts reads, and
	// disarm cancels that; see arm.
	armMu  sync.Mutex
	armed  <-chan struct{}
	disarm func() bool
	// deadlineSet records that a cancelled ctx set a read deadline that the
	// next reader must clear.
	deadlineSet atomic.Bool

	sent, received, dropped atomic.Uint64
}

var _ transport.Transport = (*Transport)(nil)

// Listen opens a UDP socket on addr, /ip4/HOST/udp/PORT or
// /ip6/HOST/udp/PORT; port 0 picks a free port, which Addrs reports.
func Listen(addr ma.Multiaddr, opts Options) (*Transport, error) {
	ap, err := transport.ToAddrPort(addr, transport.UDP)
	if err != nil {
		return nil, fmt.Errorf("udp: listen: %w", err)
	}
	network, limit := "udp4", MaxFrameSizeIPv4
	if ap.Addr().Is6() && !ap.Addr().Is4In6() {
		network, limit = "udp6", MaxFrameSizeIPv6
	}
	max := opts.MaxFrameSize
	switch {
	case max == 0:
		max = limit
	case max < 0 || max > limit:
		return nil, fmt.Errorf("udp: MaxFrameSize %d outside 1..%d", max, limit)
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("udp: listen on %v: %w", addr, cause(err))
	}
	if err := setBuffers(conn, opts); err != nil {
		conn.Close()
		return nil, err
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("udp: listen on %v: %w", addr, err)
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	self, err := transport.FromAddrPort(local, transport.UDP)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("udp: listen on %v: %w", addr, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Transport{
		conn:   conn,
		local:  local,
		addr:   self,
		max:    max,
		logger: logger,
		done:   make(chan struct{}),
		reader: make(chan struct{}, 1),
		raw:    raw,
		from:   make(map[netip.AddrPort]ma.Multiaddr),
	}
	t.interrupt = func() {
		t.deadlineSet.Store(true)
		t.conn.SetReadDeadline(time.Unix(1, 0))
	}
	t.initRead()
	return t, nil
}

func setBuffers(conn *net.UDPConn, opts Options) error {
	rb, wb := opts.ReadBuffer, opts.WriteBuffer
	if rb <= 0 {
		rb = DefaultSocketBuffer
	}
	if wb <= 0 {
		wb = DefaultSocketBuffer
	}
	if err := conn.SetReadBuffer(rb); err != nil {
		return fmt.Errorf("udp: set read buffer: %w", err)
	}
	if err := conn.SetWriteBuffer(wb); err != nil {
		return fmt.Errorf("udp: set write buffer: %w", err)
	}
	return nil
}

// Send writes frame as one datagram. UDP never waits for the receiver, so
// ctx is only checked on entry.
func (t *Transport) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if len(frame) > t.max {
		return &transport.FrameTooLargeError{Size: len(frame), Max: t.max}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ap, err := t.dest(to)
	if err != nil {
		return err
	}
	if _, err := t.conn.WriteToUDPAddrPort(frame, ap); err != nil {
		switch {
		case errors.Is(err, net.ErrClosed):
			return transport.ErrClosed
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
			return fmt.Errorf("udp: send to %v: %w: %w", to, transport.ErrUnreachable, cause(err))
		}
		return fmt.Errorf("udp: send to %v: %w", to, cause(err))
	}
	t.sent.Add(1)
	return nil
}

// dest converts to into a destination of the socket's IP version.
func (t *Transport) dest(to ma.Multiaddr) (netip.AddrPort, error) {
	ap, err := transport.ToAddrPort(to, transport.UDP)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("udp: %w", err)
	}
	if ap.Addr().Unmap().Is4() != t.local.Addr().Unmap().Is4() {
		return netip.AddrPort{}, fmt.Errorf("udp: %v is not reachable from a socket on %v: %w", to, t.addr, transport.ErrUnsupportedAddr)
	}
	return ap, nil
}

// Receive reads the next datagram of at most MaxFrameSize bytes. Callers
// take turns: one reads the socket while the others wait (each honouring
// its ctx).
func (t *Transport) Receive(ctx context.Context) (transport.Packet, error) {
	if t.closed.Load() {
		return transport.Packet{}, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return transport.Packet{}, err
	}
	select {
	case t.reader <- struct{}{}:
	case <-ctx.Done():
		return transport.Packet{}, ctx.Err()
	case <-t.done:
		return transport.Packet{}, transport.ErrClosed
	}
	defer func() { <-t.reader }()

	t.arm(ctx)
	for {
		if t.deadlineSet.Swap(false) {
			t.conn.SetReadDeadline(time.Time{})
		}
		// Checked after clearing: a ctx that ended before the clear is seen
		// here, one that ends after it sets the deadline again.
		if err := ctx.Err(); err != nil {
			return transport.Packet{}, err
		}
		data, n, from, err := t.readDatagram()
		if err != nil {
			switch {
			case t.closed.Load() || errors.Is(err, net.ErrClosed):
				return transport.Packet{}, transport.ErrClosed
			case ctx.Err() != nil:
				return transport.Packet{}, ctx.Err()
			case errors.Is(err, os.ErrDeadlineExceeded):
				// Left by an earlier reader's ctx: clear it and read on.
				t.deadlineSet.Store(true)
				continue
			case errors.Is(err, syscall.ECONNREFUSED):
				// An ICMP error for an earlier send: not this caller's.
				continue
			}
			return transport.Packet{}, fmt.Errorf("udp: receive: %w", err)
		}
		if n > t.max {
			t.dropped.Add(1)
			t.logger.Debug("udp: dropped an oversize datagram", "from", from, "limit", t.max)
			continue
		}
		addr, err := t.fromAddr(from)
		if err != nil {
			t.dropped.Add(1)
			continue
		}
		t.received.Add(1)
		return transport.Packet{From: addr, Data: data}, nil
	}
}

// arm makes ctx's end interrupt a blocked read, by setting a read deadline
// in the past that the next reader clears. The registration stays until a
// Receive with another ctx or Close: a receive loop that passes the same ctx
// every time registers once, and Receive allocates nothing for it. The
// caller holds the reader slot.
func (t *Transport) arm(ctx context.Context) {
	done := ctx.Done()
	if done == nil {
		return
	}
	t.armMu.Lock()
	defer t.armMu.Unlock()
	if done == t.armed || t.closed.Load() {
		return
	}
	if t.disarm != nil {
		t.disarm()
	}
	t.armed, t.disarm = done, context.AfterFunc(ctx, t.interrupt)
}

// fromAddr returns a fresh multiaddr for a sender, building it once per
// sender while the cache has room. The caller holds the reader slot.
func (t *Transport) fromAddr(ap netip.AddrPort) (ma.Multiaddr, error) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	cached, ok := t.from[ap]
	if !ok {
		var err error
		cached, err = transport.FromAddrPort(ap, transport.UDP)
		if err != nil {
			return nil, err
		}
		if len(t.from) >= fromCacheSize {
			// A new map, not clear: clear keeps the old one's buckets.
			t.from = make(map[netip.AddrPort]ma.Multiaddr)
		}
		t.from[ap] = cached
	}
	// The Packet is the caller's: give it its own slice.
	return append(ma.Multiaddr(nil), cached...), nil
}

// Addrs returns the bound address, with the real port.
func (t *Transport) Addrs() []ma.Multiaddr {
	return []ma.Multiaddr{append(ma.Multiaddr(nil), t.addr...)}
}

// CanDial reports whether addr is a UDP address of the socket's IP version.
func (t *Transport) CanDial(addr ma.Multiaddr) bool {
	_, err := t.dest(addr)
	return err == nil
}

// MaxFrameSize returns the frame limit.
func (t *Transport) MaxFrameSize() int { return t.max }

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	return Stats{Sent: t.sent.Load(), Received: t.received.Load(), Dropped: t.dropped.Load()}
}

// Close closes the socket, which ends a blocked Receive with ErrClosed.
// Later calls return ErrClosed. The transport starts no goroutines.
func (t *Transport) Close() error {
	err := transport.ErrClosed
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		close(t.done)
		t.armMu.Lock()
		if t.disarm != nil {
			t.disarm()
		}
		t.armMu.Unlock()
		err = t.conn.Close()
		if err != nil {
			err = fmt.Errorf("udp: close: %w", err)
		}
	})
	return err
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
