package tcp

import (
	"bufio"
	"errors"
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

const (
	// helloTimeout bounds the wait for an inbound connection's hello.
	helloTimeout = 10 * time.Second
	// readBuffer is each connection's read buffer.
	readBuffer = 16 << 10
	// pooledBuf is the capacity of recycled send buffers; larger frames get
	// buffers of their own.
	pooledBuf = 16 << 10
	// writeBatch bounds the frames gathered into one write.
	writeBatch = 64
	// directBuf bounds the scratch buffer a connection keeps for Send's
	// direct writes; most DHT messages fit.
	directBuf = 4 << 10
	// lendCheck is how often a reader goroutine that lent its connection to
	// Receive looks whether it is free again, and so bounds how long a
	// frame, a failure or an idle timeout on it can go unread when Receive
	// is not called.
	lendCheck = 10 * time.Millisecond
	// lendBackoff is how long no connection is lent after one was
	// interrupted by frames from others more often than it carried frames
	// itself in a lendCheck: with many busy peers, an interrupt per frame
	// costs more than lending saves.
	lendBackoff = 100 * time.Millisecond
)

// Who reads a connection (conn.role): its reader goroutine, a Receive
// that lent itself, or nobody for now.
const (
	roleFree int32 = iota
	roleReader
	roleReceive
)

var (
	// errIdle ends a connection that carried no frame for IdleTimeout.
	errIdle = errors.New("tcp: connection idle")
	// errInterrupted stops a read so that its goroutine can look at
	// something else; the connection is fine.
	errInterrupted = errors.New("tcp: read interrupted")
	// aLongTimeAgo is a read deadline that stops a read at once.
	aLongTimeAgo = time.Unix(1, 0)
)

// conn is one TCP connection, in either direction, with its reader and
// writer goroutines.
type conn struct {
	t       *Transport
	nc      *net.TCPConn
	inbound bool
	// key is the pool key: the peer's listen address. Guarded by t.mu;
	// invalid for an inbound connection before its hello or not pooled.
	key netip.AddrPort
	// from is the peer's listen address as a multiaddr. Set before the
	// reader delivers a frame and only read by the reader.
	from ma.Multiaddr

	queue     chan *[]byte // length-prefixed frames for the writer
	queued    atomic.Int64 // bytes in queue or being written from it
	closing   chan struct{}
	closeOnce sync.Once
	last      atomic.Int64 // unix nanoseconds of the last frame either way

	// raw writes without waiting, for Send's direct path.
	raw syscall.RawConn
	// wmu is held by whoever writes to nc: Send's direct path, or the
	// writer for a batch. It guards wbuf, wn, werr and rest.
	wmu sync.Mutex
	// wbuf is the direct path's scratch: prefix and frame in one write;
	// wn counts the bytes of it written, werr the error that stopped it.
	wbuf []byte
	wn   int
	werr error
	// wfn writes wbuf[wn:] to a file descriptor for raw.Write: made once,
	// as a closure made per frame would be allocated per frame.
	wfn func(fd uintptr) bool
	// rest is what must go out before anything else: the hello, or the
	// tail of a frame the socket took only part of. The writer sends it.
	rest []byte
	// kick wakes the writer for rest.
	kick chan struct{}

	// role says who reads the connection: only its holder touches fr. The
	// reader goroutine holds it until a frame it delivers finds the queue
	// empty (Receive keeps up); then it lends it, so that the next Receive
	// reads the connection itself and is woken by the socket, not by a
	// hand-off from the reader goroutine (see Transport.lend).
	role atomic.Int32
	fr   frameReader
	// dmu guards the read deadline and interrupted: a Receive reading the
	// connection is stopped by a deadline in the past (interrupt), which
	// the next reader replaces with the idle deadline (resume).
	dmu         sync.Mutex
	interrupted bool
	// direct counts the frames Receive read from the connection itself;
	// reclaim tells the reader goroutine that Receive left the connection
	// and it is no longer lent.
	direct  atomic.Uint64
	reclaim chan struct{}
	// interrupts counts the frames queued from other connections while
	// Receive read this one, each of which interrupted that read.
	interrupts atomic.Uint64
}

// startConnLocked registers nc and starts its goroutines. key and from are
// the peer's listen address for a dialed connection, zero for an accepted
// one. The caller holds t.mu and has checked that t is open.
func (t *Transport) startConnLocked(nc *net.TCPConn, key netip.AddrPort, from ma.Multiaddr) *conn {
	c := &conn{
		t:       t,
		nc:      nc,
		inbound: !key.IsValid(),
		key:     key,
		from:    from,
		queue:   make(chan *[]byte, queueLen),
		closing: make(chan struct{}),
		kick:    make(chan struct{}, 1),
		reclaim: make(chan struct{}, 1),
	}
	c.role.Store(roleReader)
	c.fr = frameReader{br: bufio.NewReaderSize(&idleReader{c: c}, readBuffer), max: t.opts.MaxFrameSize}
	c.raw, _ = nc.SyscallConn() // nil, on error, only disables the direct path
	c.wfn = func(fd uintptr) bool {
		c.wn, c.werr = writeFD(fd, c.wbuf, c.wn)
		return true // never wait: the writer goroutine does
	}
	if !c.inbound {
		// The hello goes first; until it is out, frames queue.
		c.rest = t.hello
		c.kick <- struct{}{}
	}
	c.touch()
	t.conns[c] = struct{}{}
	t.open.Add(1)
	t.wg.Go(c.readLoop)
	t.wg.Go(c.writeLoop)
	return c
}

func (c *conn) touch() { c.last.Store(time.Now().UnixNano()) }

// send writes frame at once when the socket takes it, else queues it for
// the writer; it reports false when the frame was dropped.
func (c *conn) send(frame []byte) bool {
	if c.writeNow(frame) {
		return true
	}
	return c.enqueue(frame)
}

// writeNow writes frame from the caller's goroutine when nothing is queued
// before it and the writer is not writing, and reports whether it did. It
// never waits for the socket: what the socket does not take at once, down
// to the frame's tail, is left to the writer, so a slow peer still costs
// Send nothing but a queued frame. This saves a hand-off to the writer
// goroutine for each frame: a request/reply round trip is mostly such
// hand-offs and system calls.
func (c *conn) writeNow(frame []byte) bool {
	if c.raw == nil || c.queued.Load() != 0 || !c.wmu.TryLock() {
		return false
	}
	defer c.wmu.Unlock()
	if len(c.rest) > 0 || c.queued.Load() != 0 {
		return false
	}
	select {
	case <-c.closing:
		return false
	default:
	}
	c.wbuf = appendFrame(c.wbuf[:0], frame)
	c.wn, c.werr = 0, nil
	err := c.raw.Write(c.wfn)
	n := c.wn
	if err == nil {
		err = c.werr
	}
	if n == 0 {
		// Nothing went out (a full socket, a passed write deadline, a
		// failed connection): the writer takes it from here, and reports.
		return false
	}
	if n < len(c.wbuf) {
		c.rest = append([]byte(nil), c.wbuf[n:]...)
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	if cap(c.wbuf) > directBuf {
		c.wbuf = nil // an idle connection keeps no large frame's buffer
	}
	if err != nil {
		c.t.opts.Logger.Debug("tcp: write", "peer", c.nc.RemoteAddr(), "err", err)
	}
	c.touch()
	return true
}

// enqueue queues frame for the writer, or reports false when the queue is
// full or the connection closed.
func (c *conn) enqueue(frame []byte) bool {
	size := int64(frameHeader + len(frame))
	if c.queued.Add(size) > int64(c.t.opts.SendQueueBytes) {
		c.queued.Add(-size)
		return false
	}
	var b *[]byte
	if size <= pooledBuf {
		if p, ok := c.t.bufs.Get().(*[]byte); ok {
			b = p
		} else {
			s := make([]byte, 0, pooledBuf)
			b = &s
		}
	} else {
		s := make([]byte, 0, size)
		b = &s
	}
	*b = appendFrame((*b)[:0], frame)
	select {
	case <-c.closing:
	default:
		select {
		case c.queue <- b:
			return true
		default:
		}
	}
	c.queued.Add(-size)
	c.release(b)
	return false
}

// release recycles a send buffer.
func (c *conn) release(b *[]byte) {
	if cap(*b) == pooledBuf {
		c.t.bufs.Put(b)
	}
}

// writeLoop writes what Send could not write at once: rest, then queued
// frames in batches, until the connection closes or a write fails or
// stalls.
func (c *conn) writeLoop() {
	defer c.close()
	held := make([]*[]byte, 0, writeBatch)
	// WriteTo consumes the slice it is given, so each batch starts again
	// from base, which keeps its capacity.
	base := make(net.Buffers, 0, writeBatch+1)
	var bufs net.Buffers
	for {
		held = held[:0]
		select {
		case b := <-c.queue:
			held = append(held, b)
		gather:
			for len(held) < writeBatch {
				select {
				case b := <-c.queue:
					held = append(held, b)
				default:
					break gather
				}
			}
		case <-c.kick:
		case <-c.closing:
			return
		}
		c.wmu.Lock()
		bufs = base[:0]
		if len(c.rest) > 0 {
			bufs = append(bufs, c.rest)
		}
		var size int64
		for _, b := range held {
			bufs = append(bufs, *b)
			size += int64(len(*b))
		}
		var err error
		if len(bufs) > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(c.t.opts.WriteTimeout))
			_, err = bufs.WriteTo(c.nc)
			c.rest = nil
		}
		c.wmu.Unlock()
		c.queued.Add(-size)
		for _, b := range held {
			c.release(b)
		}
		if err != nil {
			c.t.sendDropped.Add(uint64(len(held)))
			c.t.opts.Logger.Debug("tcp: write", "peer", c.nc.RemoteAddr(), "err", err)
			return
		}
		c.touch()
	}
}

// readLoop reads the hello (on an accepted connection), then frames, until
// the connection fails, idles out or sends something invalid. Once a frame
// it delivers finds the queue empty, it lends the connection to Receive
// (if no other connection is lent) until awaitRole takes it back.
func (c *conn) readLoop() {
	defer c.close()
	t := c.t
	if c.inbound {
		c.dmu.Lock()
		c.nc.SetReadDeadline(time.Now().Add(min(t.opts.IdleTimeout, helloTimeout)))
		c.dmu.Unlock()
		r := c.fr.br
		if err := c.readHello(r); err != nil {
			t.bad.Add(1)
			t.opts.Logger.Debug("tcp: hello", "peer", c.nc.RemoteAddr(), "err", err)
			return
		}
	}
	c.dmu.Lock()
	c.nc.SetReadDeadline(time.Now().Add(t.opts.IdleTimeout))
	c.dmu.Unlock()
	var timer *time.Timer
	for {
		data, err := c.fr.next()
		if errors.Is(err, errInterrupted) {
			// Meant for a Receive that held the connection before.
			c.resume()
			continue
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		c.touch()
		if !t.deliver(c.from, data) || c.last.Load() < t.lendAfter.Load() || !t.hot.CompareAndSwap(nil, c) {
			continue
		}
		// Receive keeps up: lend it the connection.
		c.role.Store(roleFree)
		if t.waiting.Load() > 0 {
			// A Receive waiting on the queue may read it now.
			select {
			case t.lendable <- struct{}{}:
			default:
			}
		}
		if !c.awaitRole(&timer) {
			return
		}
	}
}

// awaitRole waits until the connection, lent to Receive, should be read by
// its reader goroutine again, and takes it back; it reports false when the
// connection closed. It takes it back when Receive leaves it free for a
// whole lendCheck, or when no frame came on it for as long, which lets
// another connection be lent, or when frames from others interrupted
// Receive more often than it read one from this connection.
func (c *conn) awaitRole(timer **time.Timer) bool {
	t := c.t
	seen, seenInt := c.direct.Load(), c.interrupts.Load()
	for {
		if *timer == nil {
			*timer = time.NewTimer(t.lendCheck)
		} else {
			(*timer).Reset(t.lendCheck)
		}
		select {
		case <-c.closing:
			(*timer).Stop()
			return false
		case <-(*timer).C:
		case <-c.reclaim:
			(*timer).Stop()
		}
		n, ni := c.direct.Load(), c.interrupts.Load()
		active, crowded := n != seen, ni-seenInt > n-seen
		seen, seenInt = n, ni
		if crowded {
			t.lendAfter.Store(time.Now().Add(lendBackoff).UnixNano())
		}
		if c.role.CompareAndSwap(roleFree, roleReader) {
			t.hot.CompareAndSwap(c, nil)
			c.resume()
			return true
		}
		if active && !crowded {
			continue
		}
		// Quiet or crowded: stop lending it, and stop the Receive reading
		// it, which then signals reclaim.
		if t.hot.CompareAndSwap(c, nil) {
			c.interrupt()
		}
	}
}

// readFailed ends the connection after a read error: a failed socket, an
// idle timeout or an invalid frame.
func (c *conn) readFailed(err error) {
	if errors.Is(err, ErrOversizeFrame) {
		c.t.oversize.Add(1)
	}
	c.t.opts.Logger.Debug("tcp: read", "peer", c.nc.RemoteAddr(), "err", err)
	c.close()
}

// interrupt stops the read in progress on the connection, or the next one,
// with errInterrupted.
func (c *conn) interrupt() {
	c.dmu.Lock()
	c.interrupted = true
	c.nc.SetReadDeadline(aLongTimeAgo)
	c.dmu.Unlock()
}

// resume undoes interrupt, for the holder of the read role: reads wait
// again until the idle deadline.
func (c *conn) resume() {
	c.dmu.Lock()
	if c.interrupted {
		c.interrupted = false
		c.nc.SetReadDeadline(time.Unix(0, c.last.Load()).Add(c.t.opts.IdleTimeout))
	}
	c.dmu.Unlock()
}

// readHello learns an accepted connection's listen address and pools the
// connection under it unless the pool has one already.
func (c *conn) readHello(br *bufio.Reader) error {
	addr, err := readHello(br)
	if err != nil {
		return err
	}
	announced, _ := transport.ToAddrPort(addr, transport.TCP) // checked by readHello
	remote := c.nc.RemoteAddr().(*net.TCPAddr).AddrPort()
	key := netip.AddrPortFrom(remote.Addr().Unmap(), announced.Port())
	from, err := transport.FromAddrPort(key, transport.TCP)
	if err != nil {
		return err
	}
	c.from = from
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed.Load() && t.pool[key] == nil {
		t.pool[key] = c
		c.key = key
	}
	return nil
}

// close closes the connection once and forgets it; its goroutines end.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.nc.Close()
		t := c.t
		t.mu.Lock()
		if c.key.IsValid() && t.pool[c.key] == c {
			delete(t.pool, c.key)
		}
		delete(t.conns, c)
		t.hot.CompareAndSwap(c, nil)
		if c.inbound {
			t.inbound--
		}
		t.mu.Unlock()
		t.open.Add(-1)
	})
}

// idleReader reads the connection, ending it with errIdle once no frame
// moved either way for IdleTimeout; an interrupt ends a read with
// errInterrupted. Until the connection has its listen address (an
// accepted connection before its hello), a deadline is final.
type idleReader struct {
	c *conn
}

func (r *idleReader) Read(b []byte) (int, error) {
	c := r.c
	for {
		n, err := c.nc.Read(b)
		if n > 0 || err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		c.dmu.Lock()
		if c.interrupted {
			c.dmu.Unlock()
			return 0, errInterrupted
		}
		if c.from == nil {
			c.dmu.Unlock()
			return 0, err
		}
		until := time.Unix(0, c.last.Load()).Add(c.t.opts.IdleTimeout)
		if !time.Now().Before(until) {
			c.dmu.Unlock()
			return 0, errIdle
		}
		c.nc.SetReadDeadline(until)
		c.dmu.Unlock()
	}
}
