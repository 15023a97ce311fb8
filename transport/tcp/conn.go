package tcp

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
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
)

// errIdle ends a connection that carried no frame for IdleTimeout.
var errIdle = errors.New("tcp: connection idle")

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
	queued    atomic.Int64 // bytes in queue
	closing   chan struct{}
	closeOnce sync.Once
	last      atomic.Int64 // unix nanoseconds of the last frame either way
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
	}
	c.touch()
	t.conns[c] = struct{}{}
	t.open.Add(1)
	t.wg.Go(c.readLoop)
	t.wg.Go(c.writeLoop)
	return c
}

func (c *conn) touch() { c.last.Store(time.Now().UnixNano()) }

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

// writeLoop writes the hello (on a dialed connection), then queued frames
// in batches, until the connection closes or a write fails or stalls.
func (c *conn) writeLoop() {
	defer c.close()
	if !c.inbound {
		c.nc.SetWriteDeadline(time.Now().Add(c.t.opts.WriteTimeout))
		if _, err := c.nc.Write(c.t.hello); err != nil {
			c.t.opts.Logger.Debug("tcp: write hello", "peer", c.nc.RemoteAddr(), "err", err)
			return
		}
	}
	held := make([]*[]byte, 0, writeBatch)
	// WriteTo consumes the slice it is given, so each batch starts again
	// from base, which keeps its capacity.
	base := make(net.Buffers, 0, writeBatch)
	var bufs net.Buffers
	for {
		select {
		case b := <-c.queue:
			held = append(held[:0], b)
		gather:
			for len(held) < writeBatch {
				select {
				case b := <-c.queue:
					held = append(held, b)
				default:
					break gather
				}
			}
			bufs = base[:0]
			var size int64
			for _, b := range held {
				bufs = append(bufs, *b)
				size += int64(len(*b))
			}
			c.nc.SetWriteDeadline(time.Now().Add(c.t.opts.WriteTimeout))
			_, err := bufs.WriteTo(c.nc)
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
		case <-c.closing:
			return
		}
	}
}

// readLoop reads the hello (on an accepted connection), then frames, until
// the connection fails, idles out or sends something invalid.
func (c *conn) readLoop() {
	defer c.close()
	t := c.t
	r := &idleReader{c: c}
	br := bufio.NewReaderSize(r, readBuffer)
	if c.inbound {
		r.hard = true
		c.nc.SetReadDeadline(time.Now().Add(min(t.opts.IdleTimeout, helloTimeout)))
		if err := c.readHello(br); err != nil {
			t.bad.Add(1)
			t.opts.Logger.Debug("tcp: hello", "peer", c.nc.RemoteAddr(), "err", err)
			return
		}
		r.hard = false
	}
	c.nc.SetReadDeadline(time.Now().Add(t.opts.IdleTimeout))
	for {
		data, err := readFrame(br, t.opts.MaxFrameSize)
		if err != nil {
			if errors.Is(err, ErrOversizeFrame) {
				t.oversize.Add(1)
			}
			t.opts.Logger.Debug("tcp: read", "peer", c.nc.RemoteAddr(), "err", err)
			return
		}
		c.touch()
		t.deliver(c.from, data)
	}
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
		if c.inbound {
			t.inbound--
		}
		t.mu.Unlock()
		t.open.Add(-1)
	})
}

// idleReader reads the connection, ending it with errIdle once no frame
// moved either way for IdleTimeout. With hard set, a deadline is final.
type idleReader struct {
	c    *conn
	hard bool
}

func (r *idleReader) Read(b []byte) (int, error) {
	for {
		n, err := r.c.nc.Read(b)
		if n > 0 || err == nil || r.hard || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		until := time.Unix(0, r.c.last.Load()).Add(r.c.t.opts.IdleTimeout)
		if !time.Now().Before(until) {
			return 0, errIdle
		}
		r.c.nc.SetReadDeadline(until)
	}
}
