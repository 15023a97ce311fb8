package mem

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for zero Options fields.
const (
	// DefaultQueueLen is the inbox bound of an endpoint.
	DefaultQueueLen = 64
	// DefaultMaxFrameSize matches msgenc.MaxFrameSize, so that any frame a
	// codec accepts fits.
	DefaultMaxFrameSize = 1 << 20
)

// Errors of the mem network. Sends to an address nobody listens on fail with
// transport.ErrUnreachable; after Close everything fails with
// transport.ErrClosed.
var (
	// ErrCrashed: the endpoint is crashed and cannot send until Restart.
	ErrCrashed = errors.New("mem: endpoint crashed")
	// ErrAddrInUse: Listen was given an address another endpoint holds.
	ErrAddrInUse = errors.New("mem: address in use")
	// ErrNoEndpoint: a fault control named an address nobody listens on.
	ErrNoEndpoint = errors.New("mem: no endpoint at address")
	// ErrBadAddr: the address is not /memory/N.
	ErrBadAddr = errors.New("mem: not a /memory/N address")
	// ErrBadOptions: a LinkConfig field is out of range.
	ErrBadOptions = errors.New("mem: bad options")
)

// Options configures a Network. The zero value is a lossless, zero-latency
// network with the defaults above. Out-of-range values are clamped: Loss to
// [0, 1], a negative Latency to zero, a negative QueueLen or MaxFrameSize to
// the default.
type Options struct {
	// Seed seeds loss decisions. The same seed and the same order of lossy
	// sends lose the same frames.
	Seed uint64
	// Latency delays every frame on links without their own LinkConfig.
	// Zero delivers inside Send.
	Latency time.Duration
	// Loss is the probability, 0 to 1, that a frame on a link without its
	// own LinkConfig is lost.
	Loss float64
	// QueueLen bounds each endpoint's inbox; frames arriving at a full inbox
	// are lost and counted. Zero means DefaultQueueLen.
	QueueLen int
	// MaxFrameSize is the largest frame Send accepts. Zero means
	// DefaultMaxFrameSize.
	MaxFrameSize int
}

// LinkConfig is the behaviour of one directed link. It replaces the
// network's defaults entirely: a zero Loss means lossless.
type LinkConfig struct {
	// Loss is the probability, 0 to 1, that a frame is lost.
	Loss float64
	// Latency delays every frame; zero delivers inside Send.
	Latency time.Duration
}

func (c LinkConfig) validate() error {
	if !(c.Loss >= 0 && c.Loss <= 1) { // also rejects NaN
		return fmt.Errorf("%w: loss %v is not within [0, 1]", ErrBadOptions, c.Loss)
	}
	if c.Latency < 0 {
		return fmt.Errorf("%w: negative latency %v", ErrBadOptions, c.Latency)
	}
	return nil
}

// withDefaults fills o's zero fields and clamps the out-of-range ones, so
// that NewNetwork needs no error: Loss to [0, 1] (NaN to 0), a negative
// Latency to 0, a negative QueueLen or MaxFrameSize to the default.
func (o Options) withDefaults() Options {
	switch {
	case !(o.Loss >= 0): // negative or NaN
		o.Loss = 0
	case o.Loss > 1:
		o.Loss = 1
	}
	o.Latency = max(o.Latency, 0)
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.MaxFrameSize <= 0 {
		o.MaxFrameSize = DefaultMaxFrameSize
	}
	return o
}
