package conformance

import (
	"context"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/transport"
)

// BenchmarkCodec measures c on the message every lookup step receives: a
// Peers reply of 20 realistic peer records. It runs Marshal and Unmarshal as
// sub-benchmarks, reporting bytes and allocations, so that any codec is
// measured on the same message as the built-in ones.
func BenchmarkCodec(b *testing.B, c msgenc.Codec) {
	m := SamplePeersReply(20)
	frame, err := c.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Marshal", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Unmarshal(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTransportRoundTrip measures one round trip of a frame of size
// bytes: a sends it to echo, echo sends it back to Packet.From, a receives
// it. Both transports must be listening and able to reach each other; the
// benchmark closes echo when it ends, and leaves a to the caller.
func BenchmarkTransportRoundTrip(b *testing.B, a, echo transport.Transport, size int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, err := echo.Receive(ctx)
			if err != nil {
				return
			}
			if err := echo.Send(ctx, p.From, p.Data); err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); echo.Close(); <-done }()
	frame := make([]byte, size)
	to := echo.Addrs()[0]
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		if err := a.Send(ctx, to, frame); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
