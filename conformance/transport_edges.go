package conformance

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/transport"
)

// The transport rules about edges: Close against every call in flight, and
// the receiving side of MaxFrameSize.

// transportCalls collects what the goroutines of a rule saw: the first
// violation each reports, without ever blocking them.
type transportCalls struct {
	mu   sync.Mutex
	errs []error
}

func (c *transportCalls) report(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

func (c *transportCalls) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errs...)
}

// transportStarted is closed once by whoever first calls done.
type transportStarted struct {
	once sync.Once
	ch   chan struct{}
}

func newTransportStarted() *transportStarted { return &transportStarted{ch: make(chan struct{})} }

func (s *transportStarted) done() { s.once.Do(func() { close(s.ch) }) }

// transportWait waits for ch until timer; what names the wait in the error.
func transportWait(ch <-chan struct{}, timer <-chan time.Time, what string) error {
	select {
	case <-ch:
		return nil
	case <-timer:
		return errors.New(what)
	}
}

// transportCheckCloseDuringUse closes an endpoint twice at once while two
// Sends, a Receive that is being fed frames, and Addrs, CanDial and
// MaxFrameSize are all being called on it.
func transportCheckCloseDuringUse(e *env, f transportFactory) error {
	ts, err := transportGroup(e, f, 2)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	a, b := ts[0], ts[1]
	toA, toB := a.Addrs()[0], b.Addrs()[0]
	fs := newTransportFrames()
	size := min(a.MaxFrameSize(), 256)
	out, back := fs.make(e, size, 1), fs.make(e, size, 0)

	var (
		calls    transportCalls
		closed   atomic.Bool // a's first Close has returned
		stop     = make(chan struct{})
		inFlight sync.WaitGroup // a's Sends and Receive: they must end by themselves
		helpers  sync.WaitGroup // b's Send and a's accessors: stopped by stop
	)
	const senders = 2
	sending := make([]*transportStarted, senders)
	for i := range sending {
		sending[i] = newTransportStarted()
		inFlight.Go(func() {
			defer catch(func(err error) { calls.report(fmt.Errorf("Send in flight during Close: %w", err)) })
			for e.ctx.Err() == nil {
				after := closed.Load()
				err := a.Send(e.ctx, toB, out)
				sending[i].done()
				switch {
				case errors.Is(err, transport.ErrClosed):
					return
				case err != nil:
					calls.report(fmt.Errorf("a Send in flight during Close returned %v, want nil or ErrClosed", err))
					return
				case after:
					calls.report(errors.New("a Send begun after Close returned nil, want ErrClosed"))
					return
				}
				runtime.Gosched() // let the other callers run on a busy machine
			}
		})
	}
	receiving := newTransportStarted()
	inFlight.Go(func() {
		defer catch(func(err error) { calls.report(fmt.Errorf("Receive in flight during Close: %w", err)) })
		for {
			p, err := a.Receive(e.ctx)
			if err != nil {
				if !errors.Is(err, transport.ErrClosed) {
					calls.report(fmt.Errorf("a Receive in flight during Close returned %v, want ErrClosed", err))
				}
				return
			}
			receiving.done()
			if _, err := fs.check(0, p.Data); err != nil {
				calls.report(err)
				return
			}
		}
	})
	// b keeps a's Receive busy; its errors once a is closed are its own.
	feeding := newTransportStarted()
	helpers.Go(func() {
		defer catch(func(err error) { calls.report(fmt.Errorf("the peer's Send: %w", err)) })
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = b.Send(e.ctx, toA, back)
			feeding.done()
			runtime.Gosched()
		}
	})
	accessing, accessedAfter := newTransportStarted(), newTransportStarted()
	helpers.Go(func() {
		var op string
		defer catch(func(err error) { calls.report(fmt.Errorf("%s during or after Close: %w", op, err)) })
		for {
			after := closed.Load()
			op = "Addrs"
			_ = a.Addrs()
			op = "CanDial"
			_ = a.CanDial(toB)
			op = "MaxFrameSize"
			_ = a.MaxFrameSize()
			accessing.done()
			if after {
				accessedAfter.done()
			}
			select {
			case <-stop:
				return
			default:
			}
			runtime.Gosched()
		}
	})
	defer func() {
		// b's Send may be stuck in a broken transport until b closes.
		close(stop)
		transportCloseAll(ts)
		done := make(chan struct{})
		go func() { helpers.Wait(); close(done) }()
		timer := time.NewTimer(transportPrompt)
		defer timer.Stop()
		_ = transportWait(done, timer.C, "")
	}()

	ready := time.NewTimer(transportPatience)
	defer ready.Stop()
	for _, w := range []struct {
		ch   chan struct{}
		what string
	}{
		{sending[0].ch, "Send"}, {sending[1].ch, "Send"}, {feeding.ch, "the peer's Send"},
		{receiving.ch, "Receive of a frame"}, {accessing.ch, "Addrs, CanDial and MaxFrameSize"},
	} {
		if err := transportWait(w.ch, ready.C, fmt.Sprintf("%s did not return within %v before Close was called", w.what, transportPatience)); err != nil {
			return errors.Join(err, calls.err())
		}
	}

	start := make(chan struct{})
	closeErrs := make([]error, 2)
	var closers sync.WaitGroup
	for i := range closeErrs {
		closers.Go(func() {
			defer catch(func(err error) { closeErrs[i] = err })
			<-start
			closeErrs[i] = a.Close()
		})
	}
	close(start)
	closing := make(chan struct{})
	go func() { closers.Wait(); close(closing) }()
	prompt := time.NewTimer(transportPrompt)
	defer prompt.Stop()
	if err := transportWait(closing, prompt.C, fmt.Sprintf("two Closes called while Send, Receive and the accessors ran did not both return within %v", transportPrompt)); err != nil {
		return errors.Join(err, calls.err())
	}
	closed.Store(true)
	nils := 0
	for _, err := range closeErrs {
		switch {
		case err == nil:
			nils++
		case !errors.Is(err, transport.ErrClosed):
			return errors.Join(fmt.Errorf("a Close concurrent with another and with calls in flight returned %v, want nil or ErrClosed", err), calls.err())
		}
	}
	if nils != 1 {
		return errors.Join(fmt.Errorf("%d of 2 concurrent Closes returned nil, want exactly 1", nils), calls.err())
	}

	ended := make(chan struct{})
	go func() { inFlight.Wait(); close(ended) }()
	after := time.NewTimer(transportPrompt)
	defer after.Stop()
	if err := transportWait(ended, after.C, fmt.Sprintf("a Send or Receive in flight when Close was called had not returned %v after Close did", transportPrompt)); err != nil {
		return errors.Join(err, calls.err())
	}
	if err := transportWait(accessedAfter.ch, after.C, "Addrs, CanDial and MaxFrameSize did not return after Close"); err != nil {
		return errors.Join(err, calls.err())
	}
	if err := a.Close(); !errors.Is(err, transport.ErrClosed) {
		return errors.Join(fmt.Errorf("Close after the concurrent ones returned %v, want ErrClosed", err), calls.err())
	}
	return calls.err()
}

// transportCheckOversizeReceived puts frames of exactly MaxFrameSize and one
// byte more on the wire with TransportOptions.RawSend.
func transportCheckOversizeReceived(e *env, f transportFactory) (err error) {
	if f.rawSend == nil {
		return skip("no TransportOptions.RawSend: the suite has no way past Send's check to put a frame over MaxFrameSize on the wire")
	}
	a, b, in, stop, err := transportPair(e, f)
	if err != nil {
		return err
	}
	defer func() { err = transportFinish(err, stop) }()
	fs := newTransportFrames()
	to := b.Addrs()[0]
	max := b.MaxFrameSize()
	raw := func(frame []byte) error {
		if err := f.rawSend(e.t, to, frame); err != nil {
			return fmt.Errorf("RawSend of a %d-byte frame: %w", len(frame), err)
		}
		return nil
	}
	// First the harness's path itself: a frame at the limit arrives whole.
	if _, err := transportDeliverBy(e.ctx, fs, raw, fs.make(e, max, 1), 1, in, false); err != nil {
		return fmt.Errorf("a frame of exactly MaxFrameSize (%d bytes) put on the wire by RawSend: %w", max, err)
	}
	over := fs.make(e, max+1, 1)
	fs.forbid(over) // fs.check reports it if it ever arrives
	for range 3 {   // best effort: more than one try to get it there
		err := f.rawSend(e.t, to, over)
		if errors.Is(err, transport.ErrFrameTooLarge) {
			break // the wire itself cannot carry it: nothing to drop
		}
		if err != nil {
			return fmt.Errorf("RawSend of a %d-byte frame (MaxFrameSize+1): %w", max+1, err)
		}
	}
	// Frames after it, on the wire and through Send, still arrive, and it
	// never does.
	if _, err := transportDeliverBy(e.ctx, fs, raw, fs.make(e, max, 1), 1, in, false); err != nil {
		return fmt.Errorf("a frame of MaxFrameSize put on the wire after one of MaxFrameSize+1: %w", err)
	}
	if _, err := transportDeliver(e.ctx, fs, a, to, fs.make(e, min(max, 256), 1), 1, in, false); err != nil {
		return fmt.Errorf("after a frame of MaxFrameSize+1 bytes was put on the wire: %w", err)
	}
	return nil
}

// transportCheckFloodedPeerRecovers floods a peer that does not call
// Receive, first with more small frames than any queue counted in frames
// holds, then with more bytes than any queue counted in bytes holds, and
// then has it read again: a frame sent then must reach it. A transport
// that loses its accounting of what it dropped starves the peer for good.
func transportCheckFloodedPeerRecovers(e *env, f transportFactory) (err error) {
	ts, err := transportGroup(e, f, 2)
	if err != nil {
		return err
	}
	a, b := ts[0], ts[1]
	to := b.Addrs()[0]
	fs := newTransportFrames()
	big := min(a.MaxFrameSize(), 16<<10)
	floodCtx, cancel := context.WithTimeout(e.ctx, transportPatience)
	defer cancel()
	for _, w := range []struct{ size, count int }{
		{2 * transportTagLen, 4096},
		{big, min((8<<20)/big, 8192)},
	} {
		frame := fs.make(e, w.size, 1)
		for range w.count {
			// Errors are allowed: the peer may refuse more.
			if a.Send(floodCtx, to, frame); floodCtx.Err() != nil {
				transportCloseAll(ts)
				return fmt.Errorf("flooding a peer that does not read: %d Sends of %d bytes did not return within %v", w.count, w.size, transportPatience)
			}
		}
	}
	in := make(chan transportRecv, 64)
	pm := transportStartPump(e.ctx, b, 1, in)
	defer func() { err = transportFinish(err, func() error { return transportStopPumps(ts, pm) }) }()
	frame := fs.make(e, 256, 1)
	if _, err := transportDeliver(e.ctx, fs, a, to, frame, 1, in, false); err != nil {
		return fmt.Errorf("once a flooded peer reads again: %w", err)
	}
	return nil
}

// transportCheckSendToClosed closes an endpoint and sends to its address:
// each Send returns promptly, nil or an error matching ErrUnreachable, and
// neither the sender's Sends to others nor its Receive suffer.
func transportCheckSendToClosed(e *env, f transportFactory) (err error) {
	ts, err := transportGroup(e, f, 3)
	if err != nil {
		return err
	}
	a, gone, c := ts[0], ts[1], ts[2]
	in := make(chan transportRecv, 64)
	pumps := []*transportPump{transportStartPump(e.ctx, a, 0, in), transportStartPump(e.ctx, c, 2, in)}
	defer func() {
		err = transportFinish(err, func() error { return transportStopPumps([]transport.Transport{a, c}, pumps...) })
	}()
	fs := newTransportFrames()
	to := gone.Addrs()[0]
	// A connection or route to it first, so that its Close has one to break.
	if err := a.Send(e.ctx, to, fs.make(e, 64, 1)); err != nil {
		return fmt.Errorf("Send to a live endpoint failed: %w", err)
	}
	if err := gone.Close(); err != nil {
		return fmt.Errorf("Close returned %v, want nil", err)
	}
	frame := fs.make(e, 64, 1)
	fs.forbid(frame)
	for i := range 16 {
		sent := make(chan error, 1)
		go func() {
			defer catch(func(err error) { sent <- err })
			sent <- a.Send(e.ctx, to, frame)
		}()
		timer := time.NewTimer(transportPrompt)
		select {
		case err := <-sent:
			timer.Stop()
			if err != nil && !errors.Is(err, transport.ErrUnreachable) {
				return fmt.Errorf("Send %d to the address of a closed endpoint returned %v, want nil or ErrUnreachable", i+1, err)
			}
		case <-timer.C:
			return fmt.Errorf("Send %d to the address of a closed endpoint did not return within %v", i+1, transportPrompt)
		}
	}
	if _, err := transportDeliver(e.ctx, fs, a, c.Addrs()[0], fs.make(e, 64, 2), 2, in, false); err != nil {
		return fmt.Errorf("after Sends to a closed endpoint, to a live one: %w", err)
	}
	if _, err := transportDeliver(e.ctx, fs, c, a.Addrs()[0], fs.make(e, 64, 0), 0, in, false); err != nil {
		return fmt.Errorf("to an endpoint that sent to a closed one: %w", err)
	}
	return nil
}

// transportCheckReceiveOtherCtx ends the ctx of a Receive that has
// returned while another Receive, with a ctx that never ends, waits: the
// waiting one must return the next frame, not an error or an empty packet.
func transportCheckReceiveOtherCtx(e *env, f transportFactory) (err error) {
	ts, err := transportGroup(e, f, 2)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	a, b := ts[0], ts[1]
	to := b.Addrs()[0]
	fs := newTransportFrames()
	first, cancelFirst := context.WithCancel(e.ctx)
	defer cancelFirst()
	receive := func(ctx context.Context) <-chan transportRecv {
		out := make(chan transportRecv, 1)
		go func() {
			defer catch(func(err error) { out <- transportRecv{idx: -1, p: transport.Packet{Data: []byte(err.Error())}} })
			p, err := b.Receive(ctx)
			if err != nil {
				out <- transportRecv{idx: -1, p: transport.Packet{Data: []byte(err.Error())}}
				return
			}
			out <- transportRecv{idx: 1, p: p}
		}()
		return out
	}
	// get sends frames to b until r yields one, and checks it.
	get := func(r <-chan transportRecv, what string) error {
		frame := fs.make(e, 64, 1)
		deadline := time.NewTimer(transportPatience)
		defer deadline.Stop()
		for {
			if err := a.Send(e.ctx, to, frame); err != nil {
				return fmt.Errorf("Send to a live endpoint failed: %w", err)
			}
			retry := time.NewTimer(transportAttempt)
			select {
			case got := <-r:
				retry.Stop()
				if got.idx < 0 {
					return fmt.Errorf("%s returned the error %q", what, got.p.Data)
				}
				_, err := fs.check(got.idx, got.p.Data)
				return err
			case <-retry.C:
			case <-deadline.C:
				retry.Stop()
				return fmt.Errorf("%s returned nothing within %v while frames were sent", what, transportPatience)
			}
		}
	}
	if err := get(receive(first), "a Receive"); err != nil {
		return err
	}
	// A ctx whose Done is nil, so that registering it disarms nothing.
	waiting := receive(context.WithoutCancel(e.ctx))
	// No frame is sent for a while before and after the first ctx ends:
	// the waiting Receive must not return. The first pause also lets it
	// reach the point where it waits, which the interface cannot show.
	for _, when := range []string{"while no frame was sent", "when the ctx of an earlier, finished Receive ended"} {
		quiet := time.NewTimer(transportAttempt / 4)
		select {
		case got := <-waiting:
			quiet.Stop()
			if got.idx < 0 {
				return fmt.Errorf("a waiting Receive returned the error %q %s", got.p.Data, when)
			}
			return fmt.Errorf("a waiting Receive returned a %d-byte packet %s", len(got.p.Data), when)
		case <-quiet.C:
		}
		cancelFirst()
	}
	return get(waiting, "a Receive waiting while the ctx of an earlier one ended")
}
