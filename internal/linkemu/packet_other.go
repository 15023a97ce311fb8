//go:build !linux

package linkemu

import "errors"

// PacketPort is a network interface opened as an AF_PACKET socket, which
// only Linux has.
type PacketPort struct{ Port }

// OpenPacketPort fails: packet sockets are Linux's.
func OpenPacketPort(name string) (*PacketPort, error) {
	return nil, errors.New("linkemu: packet sockets need Linux")
}
