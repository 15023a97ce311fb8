package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// TestTransport runs every transport rule as a subtest of t and fails the
// test for each rule broken.
//
// newGroup must return n fresh, open endpoints on one network, each able to
// reach every other by the address it reports in Addrs. It is called afresh
// for every rule. The suite closes every endpoint it is given; the factory
// may also register t.Cleanup to release what it shares (a simulated
// network, say). Endpoints must have a MaxFrameSize of at least 16 bytes.
//
// Frames are best effort, so a rule that needs a frame delivered resends it
// until it arrives (for a few seconds) and demands only that one copy get
// through; what does arrive is checked strictly: never truncated, merged,
// corrupted or sent to the wrong endpoint.
//
// opts is optional, at most one: TransportOptions.RawSend lets the suite
// put frames on the wire past Send's limit, and the rule
// oversize-received-dropped then checks the receiving side of
// MaxFrameSize; without it that rule is skipped.
func TestTransport(t *testing.T, newGroup func(t *testing.T, n int) []transport.Transport, opts ...TransportOptions) {
	t.Helper()
	runSuite(t, "transport", transportRules, transportSuiteOf(t, newGroup, opts))
}

// CheckTransport runs the same rules as TestTransport and returns the
// violations, each a *Violation, instead of failing t. It takes the same
// factory and options, with the same contract.
func CheckTransport(t *testing.T, newGroup func(t *testing.T, n int) []transport.Transport, opts ...TransportOptions) []error {
	t.Helper()
	return checkSuite(t, "transport", transportRules, transportSuiteOf(t, newGroup, opts))
}

// TransportOptions tell TestTransport what a transport's interface does not
// offer.
type TransportOptions struct {
	// RawSend puts frame on the wire to the endpoint at to the way the
	// transport carries a frame, without Send's check of MaxFrameSize:
	// one datagram for UDP, a fresh connection with one length-prefixed
	// frame for TCP. The suite sends frames of exactly MaxFrameSize and one
	// byte more through it, to check that the receiver delivers the first
	// and drops the second. It returns an error matching
	// transport.ErrFrameTooLarge when the wire itself cannot carry the
	// frame (a UDP datagram over 65507 bytes), and then the suite checks
	// only the first. t is the rule's, for t.Cleanup.
	RawSend func(t *testing.T, to ma.Multiaddr, frame []byte) error
}

// transportFactory is what a transport rule receives: the caller's factory
// and options.
type transportFactory = *transportSuite

type transportSuite struct {
	newGroup func(t *testing.T, n int) []transport.Transport
	rawSend  func(t *testing.T, to ma.Multiaddr, frame []byte) error
}

func transportSuiteOf(t *testing.T, newGroup func(t *testing.T, n int) []transport.Transport, opts []TransportOptions) *transportSuite {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("conformance: TestTransport takes at most one TransportOptions, got %d", len(opts))
	}
	s := &transportSuite{newGroup: newGroup}
	if len(opts) == 1 {
		s.rawSend = opts[0].RawSend
	}
	return s
}

var transportRules = []rule[transportFactory]{
	{"send-receive-frame", "a frame of any size up to MaxFrameSize arrives exactly as sent, never truncated, merged or corrupted", transportCheckSendReceive},
	{"reply-to-from-reaches-sender", "a reply sent to a received Packet.From reaches the endpoint that sent the frame, and the receiver can dial that From", transportCheckReplyToFrom},
	{"many-senders-frames-intact", "frames sent concurrently between many endpoints arrive intact at the endpoint they were sent to, and every path delivers", transportCheckManySenders},
	{"oversize-send-rejected", "Send of a frame over MaxFrameSize fails with a *FrameTooLargeError matching ErrFrameTooLarge and sends nothing", transportCheckOversize},
	{"max-size-frame-delivered", "a frame of exactly MaxFrameSize bytes arrives intact", transportCheckMaxSize},
	{"receive-honours-ctx", "Receive with a done or cancelled ctx returns ctx.Err() promptly", transportCheckReceiveCtx},
	{"silent-peer-does-not-block", "flooding a peer that never calls Receive neither blocks Send past its ctx nor delays frames to another peer", transportCheckSilentPeer},
	{"addrs-dialable", "CanDial is true for the endpoint's own Addrs and false for another protocol's address", transportCheckAddrsDialable},
	{"unsupported-address", "Send to an address CanDial rejects fails with ErrUnsupportedAddr", transportCheckUnsupported},
	{"close-once", "of concurrent calls to Close exactly one returns nil, the others and every later call ErrClosed, all promptly", transportCheckCloseOnce},
	{"use-after-close", "after Close, Send and Receive return ErrClosed, and a Receive blocked during Close returns ErrClosed", transportCheckUseAfterClose},
	{"returned-data-is-owned", "a received Data belongs to the caller: later frames neither change it nor are changed by writes to it", transportCheckReceivedOwned},
	{"send-does-not-keep-frame", "changing a frame after Send returns does not change what arrives", transportCheckSendKeeps},
	{"addrs-returns-copy", "changing the slice Addrs returns does not change the endpoint's addresses", transportCheckAddrsCopy},
	{"close-during-every-call", "two Closes at once while Sends, a fed Receive, Addrs, CanDial and MaxFrameSize run: one returns nil and the other ErrClosed, promptly; each Send in flight returns nil or ErrClosed, Receive ErrClosed, a Send begun after Close ErrClosed; none hangs or panics", transportCheckCloseDuringUse},
	{"flooded-peer-recovers", "a peer flooded past every queue while it does not call Receive gets frames again once it does", transportCheckFloodedPeerRecovers},
	{"send-to-closed-endpoint", "Sends to the address of a closed endpoint return promptly, nil or ErrUnreachable, and the sender still reaches and hears from others", transportCheckSendToClosed},
	{"receive-ignores-other-ctx", "a waiting Receive neither returns nor fails when the ctx of an earlier, finished Receive ends; it returns the next frame", transportCheckReceiveOtherCtx},
	{"oversize-received-dropped", "with TransportOptions.RawSend: a frame of exactly MaxFrameSize put on the wire arrives whole, one of MaxFrameSize+1 is never returned by Receive, and frames after it still arrive", transportCheckOversizeReceived},
}

// transportPair builds two endpoints with a pump on the second; stop closes
// both and waits for the pump.
func transportPair(e *env, newGroup transportFactory) (a, b transport.Transport, in chan transportRecv, stop func() error, err error) {
	ts, err := transportGroup(e, newGroup, 2)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	in = make(chan transportRecv, 64)
	pm := transportStartPump(e.ctx, ts[1], 1, in)
	return ts[0], ts[1], in, func() error { return transportStopPumps(ts, pm) }, nil
}

// transportFinish joins a check's result with the pumps' shutdown result.
func transportFinish(err error, stop func() error) error {
	if serr := stop(); err == nil {
		err = serr
	}
	return err
}

func transportCheckSendReceive(e *env, newGroup transportFactory) (err error) {
	a, b, in, stop, err := transportPair(e, newGroup)
	if err != nil {
		return err
	}
	defer func() { err = transportFinish(err, stop) }()
	fs := newTransportFrames()
	to := b.Addrs()[0]
	for range 24 {
		frame := fs.make(e, transportRandomSize(e, a.MaxFrameSize()), 1)
		if _, err := transportDeliver(e.ctx, fs, a, to, frame, 1, in, false); err != nil {
			return err
		}
	}
	return nil
}

func transportCheckReplyToFrom(e *env, newGroup transportFactory) (err error) {
	ts, err := transportGroup(e, newGroup, 3)
	if err != nil {
		return err
	}
	in := make(chan transportRecv, 64)
	pumps := make([]*transportPump, len(ts))
	for i, tr := range ts {
		pumps[i] = transportStartPump(e.ctx, tr, i, in)
	}
	defer func() { err = transportFinish(err, func() error { return transportStopPumps(ts, pumps...) }) }()
	fs := newTransportFrames()
	// Endpoints 0 and 2 each ask 1; 1 answers each at Packet.From.
	for _, asker := range []int{0, 2} {
		req := fs.make(e, 32+e.rng.IntN(256), 1)
		p, err := transportDeliver(e.ctx, fs, ts[asker], ts[1].Addrs()[0], req, 1, in, false)
		if err != nil {
			return fmt.Errorf("request from endpoint %d: %w", asker, err)
		}
		if len(p.From) == 0 {
			return fmt.Errorf("a frame from endpoint %d arrived with an empty Packet.From", asker)
		}
		if !ts[1].CanDial(p.From) {
			return fmt.Errorf("the receiver cannot dial Packet.From %v of a frame from endpoint %d", p.From, asker)
		}
		reply := fs.make(e, 32+e.rng.IntN(256), asker)
		if _, err := transportDeliver(e.ctx, fs, ts[1], p.From, reply, asker, in, false); err != nil {
			return fmt.Errorf("reply to Packet.From %v (endpoint %d listens on %v): %w", p.From, asker, ts[asker].Addrs(), err)
		}
	}
	return nil
}

func transportCheckManySenders(e *env, newGroup transportFactory) (err error) {
	const n, perPath = 4, 30
	ts, err := transportGroup(e, newGroup, n)
	if err != nil {
		return err
	}
	in := make(chan transportRecv, 256)
	pumps := make([]*transportPump, n)
	for i, tr := range ts {
		pumps[i] = transportStartPump(e.ctx, tr, i, in)
	}
	defer func() { err = transportFinish(err, func() error { return transportStopPumps(ts, pumps...) }) }()

	fs := newTransportFrames()
	maxSize := min(ts[0].MaxFrameSize(), 4096)
	type path struct{ from, to int }
	frames := map[path][][]byte{}
	owner := map[uint64]path{}
	for from := range n {
		for to := range n {
			if from == to {
				continue
			}
			for range perPath {
				f := fs.make(e, transportRandomSize(e, maxSize), to)
				frames[path{from, to}] = append(frames[path{from, to}], f)
				owner[transportTag(f)] = path{from, to}
			}
		}
	}

	sendErr := make(chan error, len(frames))
	var wg sync.WaitGroup
	for p, list := range frames {
		wg.Go(func() {
			defer catch(func(err error) { sendErr <- err })
			to := ts[p.to].Addrs()[0]
			for _, f := range list {
				if err := ts[p.from].Send(e.ctx, to, f); err != nil {
					sendErr <- fmt.Errorf("concurrent Send from endpoint %d to live endpoint %d failed: %w", p.from, p.to, err)
					return
				}
			}
		})
	}
	sent := make(chan struct{})
	go func() { wg.Wait(); close(sent) }()

	delivered := map[path]bool{}
	retry := time.NewTicker(transportAttempt)
	defer retry.Stop()
	deadline := time.NewTimer(transportPatience)
	defer deadline.Stop()
	sending := true
	for sending || len(delivered) < len(frames) {
		select {
		case r := <-in:
			tag, err := fs.check(r.idx, r.p.Data)
			if err != nil {
				return err
			}
			delivered[owner[tag]] = true
		case err := <-sendErr:
			return err
		case <-sent:
			sending, sent = false, nil
		case <-retry.C:
			if sending {
				continue
			}
			// Best effort: resend the first frame of each silent path.
			for p, list := range frames {
				if !delivered[p] {
					if err := ts[p.from].Send(e.ctx, ts[p.to].Addrs()[0], list[0]); err != nil {
						return fmt.Errorf("Send from endpoint %d to live endpoint %d failed: %w", p.from, p.to, err)
					}
				}
			}
		case <-deadline.C:
			if sending {
				return fmt.Errorf("%d concurrent Sends of %d frames each did not finish within %v", len(frames), perPath, transportPatience)
			}
			return fmt.Errorf("%d of %d sender-receiver paths delivered none of %d frames within %v", len(frames)-len(delivered), len(frames), perPath, transportPatience)
		case <-e.ctx.Done():
			return e.ctx.Err()
		}
	}
	return nil
}

func transportCheckOversize(e *env, newGroup transportFactory) (err error) {
	a, b, in, stop, err := transportPair(e, newGroup)
	if err != nil {
		return err
	}
	defer func() { err = transportFinish(err, stop) }()
	fs := newTransportFrames()
	max := a.MaxFrameSize()
	big := fs.make(e, max+1, 1)
	fs.forbid(big)
	err = a.Send(e.ctx, b.Addrs()[0], big)
	var tooLarge *transport.FrameTooLargeError
	switch {
	case err == nil:
		return fmt.Errorf("Send of %d bytes with MaxFrameSize %d returned nil, want a *FrameTooLargeError", max+1, max)
	case !errors.As(err, &tooLarge):
		return fmt.Errorf("Send of %d bytes with MaxFrameSize %d returned %v, want a *FrameTooLargeError", max+1, max, err)
	case !errors.Is(err, transport.ErrFrameTooLarge):
		return fmt.Errorf("Send of an oversize frame returned %v, which does not match ErrFrameTooLarge", err)
	case tooLarge.Size != max+1 || tooLarge.Max != max:
		return fmt.Errorf("FrameTooLargeError has Size %d, Max %d, want %d, %d", tooLarge.Size, tooLarge.Max, max+1, max)
	}
	// Nothing of it may arrive: the next frame is the marker, not a piece.
	marker := fs.make(e, 64, 1)
	_, err = transportDeliver(e.ctx, fs, a, b.Addrs()[0], marker, 1, in, false)
	return err
}

func transportCheckMaxSize(e *env, newGroup transportFactory) (err error) {
	a, b, in, stop, err := transportPair(e, newGroup)
	if err != nil {
		return err
	}
	defer func() { err = transportFinish(err, stop) }()
	fs := newTransportFrames()
	frame := fs.make(e, a.MaxFrameSize(), 1)
	_, err = transportDeliver(e.ctx, fs, a, b.Addrs()[0], frame, 1, in, false)
	return err
}

func transportCheckSilentPeer(e *env, newGroup transportFactory) (err error) {
	ts, err := transportGroup(e, newGroup, 3)
	if err != nil {
		return err
	}
	a, b, silent := ts[0], ts[1], ts[2]
	in := make(chan transportRecv, 64)
	pm := transportStartPump(e.ctx, b, 1, in)
	defer func() { err = transportFinish(err, func() error { return transportStopPumps(ts, pm) }) }()

	// Flood the silent peer with about 8 MiB, far more than socket buffers
	// and any sane receive queue hold.
	fs := newTransportFrames()
	size := min(a.MaxFrameSize(), 16<<10)
	count := min((8<<20)/size, 8192)
	flood := fs.make(e, size, 2)
	floodCtx, stopFlood := context.WithCancel(e.ctx)
	defer stopFlood()
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		for range count {
			if floodCtx.Err() != nil {
				return
			}
			// Errors are allowed: the silent peer may refuse more.
			_ = a.Send(floodCtx, silent.Addrs()[0], flood)
		}
	}()
	// Let the flood fill every buffer on the way, or give up waiting after
	// a second if Send blocks on the full path (it may, until its ctx).
	fill := time.NewTimer(time.Second)
	select {
	case <-floodDone:
	case <-fill.C:
	}
	fill.Stop()

	frame := fs.make(e, 256, 1)
	if _, err := transportDeliver(e.ctx, fs, a, b.Addrs()[0], frame, 1, in, false); err != nil {
		return fmt.Errorf("while the endpoint floods a silent peer: %w", err)
	}
	stopFlood()
	timer := time.NewTimer(transportPrompt)
	defer timer.Stop()
	select {
	case <-floodDone:
	case <-timer.C:
		return fmt.Errorf("a Send to the silent peer did not return within %v of its ctx being cancelled", transportPrompt)
	}
	return nil
}

func transportCheckReceivedOwned(e *env, newGroup transportFactory) (err error) {
	a, b, in, stop, err := transportPair(e, newGroup)
	if err != nil {
		return err
	}
	defer func() { err = transportFinish(err, stop) }()
	fs := newTransportFrames()
	to := b.Addrs()[0]
	size := min(a.MaxFrameSize(), 512)
	first, err := transportDeliver(e.ctx, fs, a, to, fs.make(e, size, 1), 1, in, false)
	if err != nil {
		return err
	}
	kept := append([]byte(nil), first.Data...)
	second, err := transportDeliver(e.ctx, fs, a, to, fs.make(e, size, 1), 1, in, false)
	if err != nil {
		return err
	}
	if string(first.Data) != string(kept) {
		return errors.New("a received Data changed when a later frame arrived: the transport reuses its buffer")
	}
	// Writes to one Data must not reach the next frames.
	for i := range second.Data {
		second.Data[i] = 0x5A
	}
	for i := range first.Data {
		first.Data[i] = 0x5A
	}
	for range 3 {
		if _, err := transportDeliver(e.ctx, fs, a, to, fs.make(e, size, 1), 1, in, false); err != nil {
			return fmt.Errorf("after the caller wrote to a received Data: %w", err)
		}
	}
	return nil
}

func transportCheckSendKeeps(e *env, newGroup transportFactory) (err error) {
	a, b, in, stop, err := transportPair(e, newGroup)
	if err != nil {
		return err
	}
	defer func() { err = transportFinish(err, stop) }()
	fs := newTransportFrames()
	for _, size := range []int{64, min(a.MaxFrameSize(), 4096)} {
		frame := fs.make(e, size, 1)
		if _, err := transportDeliver(e.ctx, fs, a, b.Addrs()[0], frame, 1, in, true); err != nil {
			return fmt.Errorf("with the frame overwritten after Send returned: %w", err)
		}
	}
	return nil
}
