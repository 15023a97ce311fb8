//go:build linux && !udpportable

package udp_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/dhtkit/dhtkit/transport/udp"
)

// On Linux, Receive sizes each frame's buffer to the datagram, so that
// neither an idle transport nor a received frame holds a MaxFrameSize buffer.
func TestFramesOfEverySizeArriveWholeInBuffersOfTheirSize(t *testing.T) {
	tr := listen(t, udp.Options{})
	raw := rawSocket(t)
	to := udpAddr(t, tr)
	sizes := []int{0, 1, 2, 1000, 9000, udp.MaxFrameSizeIPv4}
	for i, size := range sizes {
		if _, err := raw.WriteToUDPAddrPort(bytes.Repeat([]byte{byte(i + 1)}, size), to); err != nil {
			t.Fatal(err)
		}
	}
	for i, size := range sizes {
		p := receive(t, tr)
		if !bytes.Equal(p.Data, bytes.Repeat([]byte{byte(i + 1)}, size)) {
			t.Fatalf("frame %d: got %d bytes, want %d bytes of %d", i, len(p.Data), size, i+1)
		}
		if runtime.GOOS == "linux" && size > 0 && cap(p.Data) != size {
			t.Errorf("frame %d: %d bytes in a buffer of %d", i, size, cap(p.Data))
		}
	}
}
