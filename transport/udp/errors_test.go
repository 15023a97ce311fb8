package udp_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/dhtkit/dhtkit/transport/udp"
)

func TestListenOnABusyPortNamesTheAddressOnce(t *testing.T) {
	busy := listen(t, udp.Options{}).Addrs()[0]
	_, err := udp.Listen(busy, udp.Options{})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a busy port = %v, want EADDRINUSE", err)
	}
	want := "udp: listen on " + busy.String() + ": bind: address already in use"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	_, port, _ := strings.Cut(busy.String(), "/udp/")
	if n := strings.Count(err.Error(), port); n != 1 {
		t.Errorf("error %q names the port %d times, want once", err, n)
	}
}
