package tcp_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/dhtkit/dhtkit/transport/tcp"
)

func TestListenOnABusyPortNamesTheAddressOnce(t *testing.T) {
	busy := listen(t, tcp.Options{}).Addrs()[0]
	_, err := tcp.Listen(busy, tcp.Options{})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a busy port = %v, want EADDRINUSE", err)
	}
	want := "tcp: listen on " + busy.String() + ": bind: address already in use"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	_, port, _ := strings.Cut(busy.String(), "/tcp/")
	if n := strings.Count(err.Error(), port); n != 1 {
		t.Errorf("error %q names the port %d times, want once", err, n)
	}
}
