package tcp_test

import (
	"testing"

	"github.com/dhtkit/dhtkit/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// listen opens a loopback endpoint closed when the test ends.
func listen(t testing.TB, opts tcp.Options) *tcp.Transport {
	t.Helper()
	tr, err := tcp.Listen(ma.StringCast("/ip4/127.0.0.1/tcp/0"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}
