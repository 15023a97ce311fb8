package linkemu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Port is one link of the switch. ReadFrame blocks until a frame arrives
// and returns its length; after Close it returns an error. WriteFrame
// sends one frame. Both may be called from different goroutines at once.
type Port interface {
	ReadFrame(buf []byte) (int, error)
	WriteFrame(frame []byte) error
	Close() error
}

// Link is what every host's link does to the frames the host sends.
type Link struct {
	Delay, Jitter time.Duration
	Loss          float64 // 0 to 1
}

func (l Link) validate() error {
	switch {
	case l.Delay < 0 || l.Jitter < 0:
		return fmt.Errorf("linkemu: negative delay %v or jitter %v", l.Delay, l.Jitter)
	case l.Jitter > l.Delay:
		return fmt.Errorf("linkemu: jitter %v exceeds delay %v", l.Jitter, l.Delay)
	case l.Loss < 0 || l.Loss > 1:
		return fmt.Errorf("linkemu: loss %v is not between 0 and 1", l.Loss)
	}
	return nil
}

// Options configure a Switch.
type Options struct {
	Link Link
	// Seed seeds the choice of lost frames and of delays.
	Seed uint64
	// After runs f after d (default time.AfterFunc); tests replace it.
	After func(d time.Duration, f func())
}

// Stats count frames by what became of them.
type Stats struct {
	Received, Delivered, Lost, Cut, Flooded, WriteErrors uint64
}

// Switch moves frames between its ports. Its methods are safe for
// concurrent use.
type Switch struct {
	ports []Port
	link  Link
	after func(time.Duration, func())

	mu   sync.Mutex
	rng  *rand.Rand
	macs map[[6]byte]int // where each source address was last seen
	side []int           // partition group of each port; all 0 when healed

	received, delivered, lost, cut, flooded, writeErrors atomic.Uint64

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New returns a switch over ports. Run starts it.
func New(ports []Port, opts Options) (*Switch, error) {
	if err := opts.Link.validate(); err != nil {
		return nil, err
	}
	if len(ports) < 2 {
		return nil, errors.New("linkemu: a switch needs at least two ports")
	}
	s := &Switch{
		ports: ports,
		link:  opts.Link,
		after: opts.After,
		rng:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		macs:  make(map[[6]byte]int),
		side:  make([]int, len(ports)),
	}
	if s.after == nil {
		s.after = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	return s, nil
}

// Run reads every port in a goroutine of its own until Close.
func (s *Switch) Run() {
	for i, p := range s.ports {
		s.wg.Go(func() {
			buf := make([]byte, 1<<16)
			for {
				n, err := p.ReadFrame(buf)
				if err != nil {
					return
				}
				s.Handle(i, buf[:n])
			}
		})
	}
}

// Close closes every port and waits for Run's goroutines. Frames still
// delayed are written, or fail, on their own.
func (s *Switch) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		for _, p := range s.ports {
			errs = append(errs, p.Close())
		}
		s.wg.Wait()
	})
	return errors.Join(errs...)
}

// Handle takes in a frame that arrived on port in: it learns where the
// source address is, then loses the frame or delivers a copy, after the
// link's delay, to each port it is for.
func (s *Switch) Handle(in int, frame []byte) {
	s.received.Add(1)
	if len(frame) < 14 {
		return // not even an Ethernet header
	}
	var dst, src [6]byte
	copy(dst[:], frame[0:6])
	copy(src[:], frame[6:12])

	s.mu.Lock()
	s.macs[src] = in
	if s.link.Loss > 0 && s.rng.Float64() < s.link.Loss {
		s.mu.Unlock()
		s.lost.Add(1)
		return
	}
	delay := s.link.Delay
	if s.link.Jitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(2*s.link.Jitter)+1)) - s.link.Jitter
	}
	var outs []int
	if out, ok := s.macs[dst]; ok && dst[0]&1 == 0 {
		outs = []int{out}
	} else {
		s.flooded.Add(1)
		for i := range s.ports {
			outs = append(outs, i)
		}
	}
	outs = slices.DeleteFunc(outs, func(o int) bool {
		if o == in {
			return true
		}
		if s.side[o] != s.side[in] {
			s.cut.Add(1)
			return true
		}
		return false
	})
	s.mu.Unlock()
	if len(outs) == 0 {
		return
	}
	c := append([]byte(nil), frame...)
	deliver := func() {
		for _, o := range outs {
			if err := s.ports[o].WriteFrame(c); err != nil {
				s.writeErrors.Add(1)
				continue
			}
			s.delivered.Add(1)
		}
	}
	if delay <= 0 {
		deliver()
		return
	}
	s.after(delay, deliver)
}

// Partition cuts the switch into groups: frames pass only between ports
// of the same group. A port in no group is in a group of its own with
// every other such port. Ports are numbered as New was given them.
func (s *Switch) Partition(groups ...[]int) error {
	side := make([]int, len(s.ports))
	for i := range side {
		side[i] = -1
	}
	for g, ports := range groups {
		for _, p := range ports {
			if p < 0 || p >= len(s.ports) {
				return fmt.Errorf("linkemu: no port %d (the switch has %d)", p, len(s.ports))
			}
			if side[p] != -1 {
				return fmt.Errorf("linkemu: port %d is in two groups", p)
			}
			side[p] = g
		}
	}
	s.mu.Lock()
	s.side = side
	s.mu.Unlock()
	return nil
}

// Heal joins every port again.
func (s *Switch) Heal() {
	s.mu.Lock()
	s.side = make([]int, len(s.ports))
	s.mu.Unlock()
}

// Stats returns the counts so far.
func (s *Switch) Stats() Stats {
	return Stats{
		Received: s.received.Load(), Delivered: s.delivered.Load(), Lost: s.lost.Load(),
		Cut: s.cut.Load(), Flooded: s.flooded.Load(), WriteErrors: s.writeErrors.Load(),
	}
}
