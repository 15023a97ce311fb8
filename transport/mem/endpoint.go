package mem

import (
	"context"
	"fmt"
	"sync"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Endpoint is one address on a Network. It implements transport.Transport
// and starts no goroutine.
type Endpoint struct {
	net  *Network
	id   uint64
	addr ma.Component

	mu      sync.Mutex
	closed  bool
	crashed bool
	// inbox[head:] are the frames waiting for Receive, oldest first. It is
	// nil while idle and never holds more than QueueLen frames.
	inbox []transport.Packet
	head  int
	// wake has a token when frames may be waiting; Close closes it. Made by
	// the first Receive that waits.
	wake chan struct{}
}

var _ transport.Transport = (*Endpoint)(nil)

// keepCap is the largest inbox capacity kept once the inbox drains; a larger
// one, left by a burst, is freed so that idle endpoints stay small.
const keepCap = 8

// enqueue outcomes.
type outcome int

const (
	enqueued outcome = iota
	refusedClosed
	refusedCrashed
	refusedFull
)

// Addr returns the endpoint's address, /memory/N.
func (e *Endpoint) Addr() ma.Multiaddr { return ma.Multiaddr{e.addr} }

// Addrs returns the endpoint's one address.
func (e *Endpoint) Addrs() []ma.Multiaddr { return []ma.Multiaddr{e.Addr()} }

// CanDial reports whether addr is /memory/N, whether or not anyone listens
// there.
func (e *Endpoint) CanDial(addr ma.Multiaddr) bool {
	_, ok := parseAddr(addr)
	return ok
}

// MaxFrameSize returns the network's Options.MaxFrameSize.
func (e *Endpoint) MaxFrameSize() int { return e.net.opts.MaxFrameSize }

// Send copies frame towards to. It returns transport.ErrClosed after Close,
// a *transport.FrameTooLargeError, an error matching
// transport.ErrUnsupportedAddr for an address that is not /memory/N,
// ErrCrashed while the endpoint is crashed, an error matching
// transport.ErrUnreachable when nobody listens at to, or ctx.Err() if ctx is
// already done. A nil error does not promise delivery. Send never blocks.
func (e *Endpoint) Send(ctx context.Context, to ma.Multiaddr, frame []byte) error {
	e.mu.Lock()
	closed, crashed := e.closed, e.crashed
	e.mu.Unlock()
	if closed {
		return transport.ErrClosed
	}
	if limit := e.MaxFrameSize(); len(frame) > limit {
		return &transport.FrameTooLargeError{Size: len(frame), Max: limit}
	}
	id, ok := parseAddr(to)
	if !ok {
		return fmt.Errorf("mem: send to %v: %w", to, transport.ErrUnsupportedAddr)
	}
	if crashed {
		return ErrCrashed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.net.send(e, id, frame)
}

// Receive returns the oldest frame in the inbox, waiting for one until ctx
// is done (ctx.Err()) or the endpoint closes (transport.ErrClosed). A crashed
// endpoint receives nothing. The packet's From and Data are the caller's.
func (e *Endpoint) Receive(ctx context.Context) (transport.Packet, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return transport.Packet{}, transport.ErrClosed
		}
		if e.head < len(e.inbox) {
			p := e.pop()
			if e.head < len(e.inbox) && e.wake != nil {
				// Pass the wake-up on to another waiting Receive.
				e.signal()
			}
			e.mu.Unlock()
			return p, nil
		}
		if e.wake == nil {
			e.wake = make(chan struct{}, 1)
		}
		wake := e.wake
		e.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return transport.Packet{}, ctx.Err()
		}
	}
}

// Close closes the endpoint, drops its unread frames and frees its address.
// Receive calls waiting return transport.ErrClosed. Later calls return
// transport.ErrClosed.
func (e *Endpoint) Close() error {
	if !e.shut() {
		return transport.ErrClosed
	}
	e.net.remove(e)
	return nil
}

// shut marks e closed and drops its inbox. It reports false if e was
// already closed.
func (e *Endpoint) shut() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.closed = true
	e.discard()
	if e.wake != nil {
		close(e.wake)
	}
	return true
}

// enqueue puts a frame at the back of the inbox if the endpoint can take
// it, copying the frame first if copyFrame is set.
func (e *Endpoint) enqueue(from ma.Component, frame []byte, copyFrame bool) outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		return refusedClosed
	case e.crashed:
		return refusedCrashed
	case len(e.inbox)-e.head >= e.net.opts.QueueLen:
		return refusedFull
	}
	if e.head > 0 && len(e.inbox) == cap(e.inbox) {
		// Slide the waiting frames to the front rather than grow.
		n := copy(e.inbox, e.inbox[e.head:])
		clear(e.inbox[n:])
		e.inbox, e.head = e.inbox[:n], 0
	}
	if copyFrame {
		frame = clone(frame)
	}
	e.inbox = append(e.inbox, transport.Packet{From: ma.Multiaddr{from}, Data: frame})
	if e.wake != nil {
		e.signal()
	}
	return enqueued
}

// pop removes the oldest frame. Called with e.mu held and the inbox not
// empty.
func (e *Endpoint) pop() transport.Packet {
	p := e.inbox[e.head]
	e.inbox[e.head] = transport.Packet{}
	e.head++
	if e.head == len(e.inbox) {
		e.head = 0
		if cap(e.inbox) > keepCap {
			e.inbox = nil
		} else {
			e.inbox = e.inbox[:0]
		}
	}
	return p
}

// signal leaves a wake-up token unless one is already there. Called with
// e.mu held, e.wake made and e not closed.
func (e *Endpoint) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// discard drops the unread frames, counting them. Called with e.mu held.
func (e *Endpoint) discard() {
	e.net.stats.discarded.Add(uint64(len(e.inbox) - e.head))
	e.inbox, e.head = nil, 0
}
