package conformance

import (
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
