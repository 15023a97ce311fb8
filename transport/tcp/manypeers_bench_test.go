package tcp_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
)

// BenchmarkManyPeers is the round trip with several peers at once: each
// of peers clients sends a frame to one echo endpoint and waits for the
// reply, all concurrently, so the echo's Receive takes frames from many
// connections (and one connection lent to it is interrupted by the
// others). One op is one round trip of one client.
func BenchmarkManyPeers(b *testing.B) {
	for _, peers := range []int{4, 16} {
		b.Run("peers="+strconv.Itoa(peers), func(b *testing.B) {
			echo := listen(b, tcp.Options{})
			clients := make([]*tcp.Transport, peers)
			for i := range clients {
				clients[i] = listen(b, tcp.Options{})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					p, err := echo.Receive(ctx)
					if err != nil {
						return
					}
					echo.Send(ctx, p.From, p.Data)
				}
			}()
			defer func() { cancel(); echo.Close(); <-done }()
			to := echo.Addrs()[0]
			frame := make([]byte, 128)
			var next sync.Mutex
			n := 0
			b.ReportAllocs()
			withCPU(b, func() {
				var wg sync.WaitGroup
				for _, c := range clients {
					wg.Add(1)
					go func(c transport.Transport) {
						defer wg.Done()
						for {
							next.Lock()
							if n >= b.N {
								next.Unlock()
								return
							}
							n++
							next.Unlock()
							if err := c.Send(ctx, to, frame); err != nil {
								b.Error(err)
								return
							}
							if _, err := c.Receive(ctx); err != nil {
								b.Error(err)
								return
							}
						}
					}(c)
				}
				wg.Wait()
			})
		})
	}
}
