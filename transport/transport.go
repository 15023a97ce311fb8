package transport

import (
	"context"
	"errors"
	"fmt"

	ma "github.com/multiformats/go-multiaddr"
)

// Transport errors.
var (
	// ErrClosed: the transport was closed.
	ErrClosed = errors.New("transport: closed")
	// ErrUnsupportedAddr: the transport cannot reach that kind of address.
	ErrUnsupportedAddr = errors.New("transport: unsupported address")
	// ErrUnreachable: the destination refused or is known to be down. Frames
	// are otherwise best effort: a nil error does not promise delivery.
	ErrUnreachable = errors.New("transport: destination unreachable")
)

// FrameTooLargeError reports a frame over the transport's limit. It matches
// ErrFrameTooLarge with errors.Is.
type FrameTooLargeError struct {
	Size, Max int
}

// ErrFrameTooLarge is matched by every *FrameTooLargeError.
var ErrFrameTooLarge = errors.New("transport: frame too large")

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("transport: frame of %d bytes exceeds the limit of %d", e.Size, e.Max)
}

// Is makes errors.Is(err, ErrFrameTooLarge) true.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// Packet is one received frame.
type Packet struct {
	// From is the sender's address as this transport sees it; a reply sent
	// to it reaches the sender. Like Data, it belongs to the receiver.
	From ma.Multiaddr
	// Data is the frame. It belongs to the receiver.
	Data []byte
}

// Transport sends and receives whole frames. Implementations are safe for
// concurrent use.
//
// Frames are best effort: they may be lost, duplicated or reordered, but never
// truncated, merged or corrupted. A slow or silent peer never blocks sends to
// others.
//
// Close is the same in every dhtkit part (stores, transports, node.Node):
// the first call stops the transport, waits for every goroutine it
// started, and returns nil or the error of releasing its sockets; after it
// Send and Receive return ErrClosed, and so does every later call to Close,
// which does nothing else. Of concurrent calls, one is the first.
type Transport interface {
	// Send sends one frame to the address. A frame larger than MaxFrameSize
	// fails with a *FrameTooLargeError and is not sent. Send does not keep
	// frame after it returns.
	Send(ctx context.Context, to ma.Multiaddr, frame []byte) error
	// Receive blocks until a frame arrives, ctx is done (ctx.Err()) or the
	// transport is closed (ErrClosed). Frames over the limit are dropped on
	// receipt and never returned.
	Receive(ctx context.Context) (Packet, error)
	// Addrs returns the addresses the transport listens on. The slice is the
	// caller's.
	Addrs() []ma.Multiaddr
	// CanDial reports whether Send can reach addr.
	CanDial(addr ma.Multiaddr) bool
	// MaxFrameSize is the largest frame Send accepts and Receive delivers.
	MaxFrameSize() int
	// Close stops the transport and releases its sockets; later calls
	// return ErrClosed (see above). A Receive blocked when Close is
	// called returns ErrClosed.
	Close() error
}
