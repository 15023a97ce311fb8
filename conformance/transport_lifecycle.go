package conformance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// The transport rules about ctx, addresses and the lifecycle.

// transportReceiveWithin calls Receive on its own goroutine and reports its
// error, or an error of its own if Receive does not return within limit.
func transportReceiveWithin(ctx context.Context, tr transport.Transport, limit time.Duration, start func()) (error, bool) {
	done := make(chan error, 1)
	go func() {
		defer catch(func(err error) { done <- err })
		_, err := tr.Receive(ctx)
		done <- err
	}()
	if start != nil {
		start()
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		return err, true
	case <-timer.C:
		return nil, false
	}
}

func transportCheckReceiveCtx(e *env, newGroup transportFactory) error {
	ts, err := transportGroup(e, newGroup, 1)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	tr := ts[0]

	done, cancel := context.WithCancel(e.ctx)
	cancel()
	err, ok := transportReceiveWithin(done, tr, transportPrompt, nil)
	if !ok {
		return fmt.Errorf("Receive with an already cancelled ctx did not return within %v", transportPrompt)
	}
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("Receive with a cancelled ctx returned %v, want context.Canceled", err)
	}

	short, cancelShort := context.WithTimeout(e.ctx, 50*time.Millisecond)
	defer cancelShort()
	err, ok = transportReceiveWithin(short, tr, transportPrompt, nil)
	if !ok {
		return fmt.Errorf("Receive did not return within %v of its ctx deadline", transportPrompt)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Receive past its ctx deadline returned %v, want context.DeadlineExceeded", err)
	}

	blocked, cancelBlocked := context.WithCancel(e.ctx)
	defer cancelBlocked()
	err, ok = transportReceiveWithin(blocked, tr, transportPrompt, cancelBlocked)
	if !ok {
		return fmt.Errorf("a blocked Receive did not return within %v of its ctx being cancelled", transportPrompt)
	}
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("a blocked Receive whose ctx was cancelled returned %v, want context.Canceled", err)
	}
	return nil
}

// transportForeign returns addresses of a protocol none of the built-in
// transports speak, plus own with its last protocol swapped between udp and
// tcp, which an endpoint listening on own must not claim.
func transportForeign(own ma.Multiaddr) []ma.Multiaddr {
	out := []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/sctp/9")}
	rest, last := ma.SplitLast(own)
	if last == nil {
		return out
	}
	var other string
	switch last.Code() {
	case ma.P_UDP:
		other = "tcp"
	case ma.P_TCP:
		other = "udp"
	default:
		return out
	}
	if c, err := ma.NewComponent(other, last.Value()); err == nil {
		out = append(out, rest.AppendComponent(c))
	}
	return out
}

func transportCheckAddrsDialable(e *env, newGroup transportFactory) error {
	ts, err := transportGroup(e, newGroup, 1)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	for _, addr := range ts[0].Addrs() {
		if !ts[0].CanDial(addr) {
			return fmt.Errorf("CanDial(%v) of the endpoint's own address is false", addr)
		}
	}
	for _, addr := range transportForeign(ts[0].Addrs()[0]) {
		if ts[0].CanDial(addr) {
			return fmt.Errorf("CanDial(%v) is true for an endpoint listening on %v", addr, ts[0].Addrs())
		}
	}
	if ts[0].CanDial(nil) {
		return errors.New("CanDial(nil) is true")
	}
	return nil
}

func transportCheckUnsupported(e *env, newGroup transportFactory) error {
	ts, err := transportGroup(e, newGroup, 1)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	candidates := append(transportForeign(ts[0].Addrs()[0]),
		ma.StringCast("/dns4/dhtkit.invalid/udp/9"),
		ma.StringCast("/dns4/dhtkit.invalid/tcp/9"),
		nil)
	for _, addr := range candidates {
		if ts[0].CanDial(addr) {
			continue
		}
		err := ts[0].Send(e.ctx, addr, []byte("dhtkit conformance"))
		if !errors.Is(err, transport.ErrUnsupportedAddr) {
			return fmt.Errorf("Send to %v, which CanDial rejects, returned %v, want ErrUnsupportedAddr", addr, err)
		}
	}
	return nil
}

func transportCheckCloseOnce(e *env, newGroup transportFactory) error {
	ts, err := transportGroup(e, newGroup, 1)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	done := make(chan error, 1)
	go func() { done <- closeOnce(ts[0].Close, transport.ErrClosed) }()
	timer := time.NewTimer(transportPrompt)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("concurrent Close calls did not all return within %v", transportPrompt)
	}
}

func transportCheckUseAfterClose(e *env, newGroup transportFactory) error {
	ts, err := transportGroup(e, newGroup, 2)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	a, b := ts[0], ts[1]
	to := b.Addrs()[0]

	closeErr := make(chan error, 1)
	err, ok := transportReceiveWithin(e.ctx, a, transportPrompt, func() { closeErr <- a.Close() })
	if cerr := <-closeErr; cerr != nil {
		return fmt.Errorf("the first Close returned %v, want nil", cerr)
	}
	if !ok {
		return fmt.Errorf("a Receive blocked during Close did not return within %v", transportPrompt)
	}
	if werr := transportWantClosed("a Receive blocked during Close", err); werr != nil {
		return werr
	}
	if werr := transportWantClosed("Send", a.Send(e.ctx, to, []byte("after close"))); werr != nil {
		return werr
	}
	err, ok = transportReceiveWithin(e.ctx, a, transportPrompt, nil)
	if !ok {
		return fmt.Errorf("Receive after Close did not return within %v", transportPrompt)
	}
	return transportWantClosed("Receive", err)
}

func transportCheckAddrsCopy(e *env, newGroup transportFactory) error {
	ts, err := transportGroup(e, newGroup, 1)
	if err != nil {
		return err
	}
	defer transportCloseAll(ts)
	first := ts[0].Addrs()
	want := first[0].String()
	first[0] = ma.StringCast("/ip4/192.0.2.1/udp/9")
	if got := ts[0].Addrs(); len(got) == 0 || got[0].String() != want {
		return fmt.Errorf("after the caller changed the slice Addrs returned, Addrs gives %v, want [%s ...]", got, want)
	}
	return nil
}
