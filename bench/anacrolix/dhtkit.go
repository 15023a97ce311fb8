package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

// dhtkitSide builds dhtkit nodes with every default (ed25519 records,
// verified on receipt; CBOR; Kademlia; direct lookups) except k and alpha.
type dhtkitSide struct{}

func (dhtkitSide) name() string { return "dhtkit" }

type dhtkitNet struct{ nodes []*node.Node }

func (dhtkitSide) build(ctx context.Context, cfg config) (network, error) {
	net := &dhtkitNet{}
	for i := range cfg.nodes {
		n, err := node.NewBuilder().
			K(cfg.k).
			Alpha(cfg.alpha).
			ListenString("/ip4/127.0.0.1/udp/0").
			Build(ctx)
		if err != nil {
			net.close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		net.nodes = append(net.nodes, n)
		if i == 0 {
			continue
		}
		jctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		err = n.Bootstrap(jctx, net.nodes[0].Addrs()...)
		cancel()
		if err != nil {
			net.close()
			return nil, fmt.Errorf("node %d: join: %w", i, err)
		}
	}
	return net, nil
}

func (d *dhtkitNet) lookup(ctx context.Context, origin int, r *rand.Rand) (int, error) {
	n := d.nodes[origin]
	b := make([]byte, n.ID().Len())
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	target, err := peer.IDFromBytes(b)
	if err != nil {
		return 0, err
	}
	var tr node.Trace
	_, err = n.FindPeer(ctx, target, node.WithTrace(&tr))
	if errors.Is(err, node.ErrNotFound) {
		// No peer has a random ID: the lookup ran to the k closest.
		err = nil
	} else if err == nil {
		err = fmt.Errorf("found a peer with the random ID %v", target)
	}
	return tr.RPCs, err
}

func (d *dhtkitNet) find(ctx context.Context, origin, i int) error {
	want := d.nodes[i].ID()
	rec, err := d.nodes[origin].FindPeer(ctx, want)
	if err != nil {
		return err
	}
	if rec.ID != want {
		return fmt.Errorf("found %v", rec.ID)
	}
	return nil
}

func (d *dhtkitNet) close() {
	var wg sync.WaitGroup
	for _, n := range d.nodes {
		wg.Go(func() { _ = n.Close() })
	}
	wg.Wait()
}

func (d *dhtkitNet) detail() lookupDetail {
	var ld lookupDetail
	for _, n := range d.nodes {
		st := n.Stats()
		ld.sigChecks += st.SignatureChecks
		ld.table += float64(st.TableSize)
	}
	ld.table /= float64(len(d.nodes))
	return ld
}
