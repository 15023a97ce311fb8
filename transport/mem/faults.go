package mem

import (
	"fmt"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// SetLink gives the directed link from → to its own loss and latency in
// place of the network's defaults, for frames sent from now on. Call it both
// ways for a symmetric link. The addresses need not be listening yet.
func (n *Network) SetLink(from, to ma.Multiaddr, cfg LinkConfig) error {
	l, err := parseLink(from, to)
	if err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return transport.ErrClosed
	}
	if n.links == nil {
		n.links = make(map[link]LinkConfig)
	}
	n.links[l] = cfg
	return nil
}

// ResetLink returns the directed link from → to to the network's defaults.
func (n *Network) ResetLink(from, to ma.Multiaddr) error {
	l, err := parseLink(from, to)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return transport.ErrClosed
	}
	delete(n.links, l)
	return nil
}

func parseLink(from, to ma.Multiaddr) (link, error) {
	f, ok1 := parseAddr(from)
	t, ok2 := parseAddr(to)
	if !ok1 || !ok2 {
		return link{}, fmt.Errorf("mem: link %v -> %v: %w", from, to, ErrBadAddr)
	}
	return link{f, t}, nil
}

// Partition splits the network: frames sent from now on between addresses
// of different groups are lost. Addresses in no group form one more group
// together. It replaces any earlier partition. An address listed twice fails
// with ErrBadOptions.
func (n *Network) Partition(groups ...[]ma.Multiaddr) error {
	m := make(map[uint64]int)
	for i, g := range groups {
		for _, a := range g {
			id, ok := parseAddr(a)
			if !ok {
				return fmt.Errorf("mem: partition: %v: %w", a, ErrBadAddr)
			}
			if _, dup := m[id]; dup {
				return fmt.Errorf("%w: %v is in two partition groups", ErrBadOptions, a)
			}
			m[id] = i + 1
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return transport.ErrClosed
	}
	n.groups = m
	return nil
}

// Heal removes the partition.
func (n *Network) Heal() {
	n.mu.Lock()
	n.groups = nil
	n.mu.Unlock()
}

// Crash makes the endpoint at addr silent until Restart: its unread frames
// are dropped, frames reaching it are lost (their Send returns nil), its own
// Send fails with ErrCrashed and its Receive waits. Crashing a crashed
// endpoint does nothing. It fails with ErrNoEndpoint if nobody listens there.
func (n *Network) Crash(addr ma.Multiaddr) error {
	e, err := n.lookup(addr)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed && !e.crashed {
		e.crashed = true
		e.discard()
	}
	return nil
}

// Restart brings a crashed endpoint back at the same address with an empty
// inbox. Restarting a running endpoint does nothing. It fails with
// ErrNoEndpoint if nobody listens there.
func (n *Network) Restart(addr ma.Multiaddr) error {
	e, err := n.lookup(addr)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.crashed = false
	e.mu.Unlock()
	return nil
}
