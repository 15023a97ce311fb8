package mem_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/mem"
	ma "github.com/multiformats/go-multiaddr"
)

// FuzzSendToAnyAddress feeds arbitrary binary multiaddrs to CanDial and Send:
// neither panics, CanDial accepts exactly /memory/N, and Send's error agrees
// with CanDial.
func FuzzSendToAnyAddress(f *testing.F) {
	for _, s := range []string{"/memory/1", "/memory/2", "/memory/18446744073709551615", "/memory/1/memory/2", "/ip4/127.0.0.1/udp/9"} {
		f.Add(ma.StringCast(s).Bytes())
	}
	f.Add([]byte{})
	f.Add([]byte{0x89, 0x06, 1, 2, 3}) // memory code, short value
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			return
		}
		n := mem.NewNetwork(mem.Options{})
		defer n.Close()
		a, err := n.Listen(nil) // /memory/1
		if err != nil {
			t.Fatal(err)
		}
		dial := a.CanDial(addr)
		isMemory := len(addr) == 1 && addr[0].Code() == ma.P_MEMORY
		if dial != isMemory {
			t.Fatalf("CanDial(%v) = %v", addr, dial)
		}
		err = a.Send(context.Background(), addr, []byte("x"))
		switch {
		case !dial && !errors.Is(err, transport.ErrUnsupportedAddr):
			t.Fatalf("Send to %v: %v, want ErrUnsupportedAddr", addr, err)
		case dial && addr.Equal(a.Addr()) && err != nil:
			t.Fatalf("Send to itself: %v", err)
		case dial && !addr.Equal(a.Addr()) && !errors.Is(err, transport.ErrUnreachable):
			t.Fatalf("Send to unused %v: %v, want ErrUnreachable", addr, err)
		}
	})
}
