package conformance

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Timing of the transport rules. Frames are best effort, so a rule that
// needs a frame delivered resends it every transportAttempt until it arrives
// or transportPatience passes.
const (
	transportAttempt  = 200 * time.Millisecond
	transportPatience = 5 * time.Second
	// transportPrompt bounds calls that must return at once: Receive after
	// its ctx is done or the transport closed, Close itself.
	transportPrompt = 2 * time.Second
	// transportTagLen is the size of the tag that starts every frame the
	// suite sends, so that any received frame can be traced to its origin.
	transportTagLen = 8
	// transportBigFrame caps random frame sizes, so that a transport with a
	// huge MaxFrameSize does not make the suite allocate gigabytes.
	transportBigFrame = 1 << 20
)

// transportGroup builds n endpoints with the factory and checks its result.
// The caller must defer transportCloseAll.
func transportGroup(e *env, f transportFactory, n int) ([]transport.Transport, error) {
	ts := f.newGroup(e.t, n)
	if len(ts) != n {
		transportCloseAll(ts)
		return nil, fmt.Errorf("factory returned %d endpoints, want %d", len(ts), n)
	}
	for i, tr := range ts {
		if tr == nil {
			transportCloseAll(ts)
			return nil, fmt.Errorf("factory returned a nil endpoint at index %d", i)
		}
		if len(tr.Addrs()) == 0 {
			transportCloseAll(ts)
			return nil, fmt.Errorf("endpoint %d has no address", i)
		}
		if tr.MaxFrameSize() < 2*transportTagLen {
			transportCloseAll(ts)
			return nil, fmt.Errorf("endpoint %d has MaxFrameSize %d, want at least %d", i, tr.MaxFrameSize(), 2*transportTagLen)
		}
	}
	return ts, nil
}

// transportCloseAll closes every endpoint, ignoring errors: rules about
// Close check them themselves.
func transportCloseAll(ts []transport.Transport) {
	for _, tr := range ts {
		if tr != nil {
			_ = tr.Close()
		}
	}
}

// transportRecv is one packet received by endpoint idx.
type transportRecv struct {
	idx int
	p   transport.Packet
}

// transportPump calls Receive in a loop on its own goroutine and forwards
// packets to a channel, so that a check can wait for frames with its own
// timers even when an implementation ignores Receive's ctx.
type transportPump struct {
	quit chan struct{} // closed to stop forwarding
	done chan struct{}
	err  error // Receive's final error; read after done is closed
}

// transportStartPump starts a pump for endpoint idx feeding out. It stops
// when Receive fails (as after Close) or ctx is done.
func transportStartPump(ctx context.Context, tr transport.Transport, idx int, out chan<- transportRecv) *transportPump {
	pm := &transportPump{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pm.done)
		defer catch(func(err error) { pm.err = err })
		for {
			p, err := tr.Receive(ctx)
			if err != nil {
				pm.err = err
				return
			}
			select {
			case out <- transportRecv{idx: idx, p: p}:
			case <-pm.quit:
				// The check has stopped reading; Receive on, to see Close.
			case <-ctx.Done():
				pm.err = ctx.Err()
				return
			}
		}
	}()
	return pm
}

// transportStopPumps closes the endpoints and waits for the pumps. A pump
// whose Receive is still blocked after Close breaks the contract.
func transportStopPumps(ts []transport.Transport, pumps ...*transportPump) error {
	for _, pm := range pumps {
		close(pm.quit)
	}
	transportCloseAll(ts)
	timer := time.NewTimer(transportPrompt)
	defer timer.Stop()
	for _, pm := range pumps {
		select {
		case <-pm.done:
			if !errors.Is(pm.err, transport.ErrClosed) {
				return fmt.Errorf("a Receive blocked during Close returned %v, want ErrClosed", pm.err)
			}
		case <-timer.C:
			return fmt.Errorf("Receive still blocked %v after Close", transportPrompt)
		}
	}
	return nil
}

// transportFrame is a frame the suite sent, with where it was meant to go.
type transportFrame struct {
	data      []byte
	to        int  // index of the endpoint it was sent to
	forbidden bool // Send rejected it: it must never arrive
}

// transportFrames traces received frames to the frames sent. It is safe for
// concurrent use.
type transportFrames struct {
	mu    sync.Mutex
	byTag map[uint64]*transportFrame
}

func newTransportFrames() *transportFrames {
	return &transportFrames{byTag: map[uint64]*transportFrame{}}
}

// make returns a fresh frame of size bytes (at least the tag) addressed to
// endpoint to, and records it.
func (fs *transportFrames) make(e *env, size, to int) []byte {
	if size < transportTagLen {
		size = transportTagLen
	}
	data := make([]byte, size+7)
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], e.rng.Uint64())
	}
	data = data[:size:size]
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for {
		tag := e.rng.Uint64()
		if _, dup := fs.byTag[tag]; dup {
			continue
		}
		binary.BigEndian.PutUint64(data, tag)
		// The caller gets its own copy: rules scribble on what they send.
		fs.byTag[tag] = &transportFrame{data: data, to: to}
		return append([]byte(nil), data...)
	}
}

// forbid marks a frame as one that must never arrive.
func (fs *transportFrames) forbid(data []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.byTag[transportTag(data)].forbidden = true
}

// transportTag returns the tag that starts every frame the suite makes.
func transportTag(frame []byte) uint64 { return binary.BigEndian.Uint64(frame) }

// check verifies that data, received at endpoint idx, is exactly a frame that
// was sent there, and returns its tag.
func (fs *transportFrames) check(idx int, data []byte) (uint64, error) {
	if len(data) < transportTagLen {
		return 0, fmt.Errorf("received a %d-byte frame, shorter than the %d-byte tag of every frame sent: corrupted or truncated", len(data), transportTagLen)
	}
	tag := binary.BigEndian.Uint64(data)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.byTag[tag]
	switch {
	case !ok:
		return tag, fmt.Errorf("received a %d-byte frame whose tag %016x matches no frame sent: corrupted or merged", len(data), tag)
	case f.forbidden:
		return tag, fmt.Errorf("received the %d-byte frame %016x that Send rejected", len(f.data), tag)
	case len(data) != len(f.data):
		return tag, fmt.Errorf("frame %016x was sent with %d bytes but arrived with %d: truncated or merged", tag, len(f.data), len(data))
	case f.to != idx:
		return tag, fmt.Errorf("frame %016x was sent to endpoint %d but arrived at endpoint %d", tag, f.to, idx)
	}
	if !bytes.Equal(data, f.data) {
		i := 0
		for data[i] == f.data[i] {
			i++
		}
		return tag, fmt.Errorf("frame %016x of %d bytes arrived corrupted from byte %d", tag, len(data), i)
	}
	return tag, nil
}

// transportDeliver sends frame from src to dst until the pump feeding in
// yields it at endpoint dstIdx, checking every packet that arrives on the
// way. With scribble, the frame is overwritten each time Send returns (and
// restored before the next attempt): the transport must not keep it.
func transportDeliver(ctx context.Context, fs *transportFrames, src transport.Transport, to ma.Multiaddr, frame []byte, dstIdx int, in <-chan transportRecv, scribble bool) (transport.Packet, error) {
	send := func(frame []byte) error {
		if err := src.Send(ctx, to, frame); err != nil {
			return fmt.Errorf("Send of a %d-byte frame to a live endpoint failed: %w", len(frame), err)
		}
		return nil
	}
	return transportDeliverBy(ctx, fs, send, frame, dstIdx, in, scribble)
}

// transportDeliverBy is transportDeliver with the sending done by send,
// whose error ends the delivery.
func transportDeliverBy(ctx context.Context, fs *transportFrames, send func(frame []byte) error, frame []byte, dstIdx int, in <-chan transportRecv, scribble bool) (transport.Packet, error) {
	want := binary.BigEndian.Uint64(frame)
	var orig []byte
	if scribble {
		orig = append([]byte(nil), frame...)
	}
	deadline := time.NewTimer(transportPatience)
	defer deadline.Stop()
	for attempt := 1; ; attempt++ {
		if scribble {
			copy(frame, orig)
		}
		if err := send(frame); err != nil {
			return transport.Packet{}, err
		}
		if scribble {
			for i := range frame {
				frame[i] = 0xA5
			}
		}
		retry := time.NewTimer(transportAttempt)
	wait:
		for {
			select {
			case r := <-in:
				tag, err := fs.check(r.idx, r.p.Data)
				if err != nil {
					retry.Stop()
					return r.p, err
				}
				if tag == want && r.idx == dstIdx {
					retry.Stop()
					return r.p, nil
				}
			case <-retry.C:
				break wait
			case <-deadline.C:
				retry.Stop()
				return transport.Packet{}, fmt.Errorf("a %d-byte frame sent %d times over %v never arrived", len(frame), attempt, transportPatience)
			case <-ctx.Done():
				retry.Stop()
				return transport.Packet{}, ctx.Err()
			}
		}
	}
}

// transportRandomSize returns a frame size in [transportTagLen, max], biased
// towards small frames and the edges.
func transportRandomSize(e *env, max int) int {
	if max > transportBigFrame {
		max = transportBigFrame
	}
	var size int
	switch e.rng.IntN(4) {
	case 0:
		size = transportTagLen + e.rng.IntN(64)
	case 1:
		size = max - e.rng.IntN(16)
	case 2:
		size = transportTagLen + e.rng.IntN(min(max, 2048)-transportTagLen+1)
	default:
		size = transportTagLen + e.rng.IntN(max-transportTagLen+1)
	}
	return min(max, size)
}

// transportWantClosed reports whether err is ErrClosed, with a message for
// the violation otherwise.
func transportWantClosed(op string, err error) error {
	if !errors.Is(err, transport.ErrClosed) {
		return fmt.Errorf("%s after Close returned %v, want transport.ErrClosed", op, err)
	}
	return nil
}
