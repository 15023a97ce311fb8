package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"

	dht "github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	alog "github.com/anacrolix/log"
	"golang.org/x/time/rate"
)

// anacrolixSide builds anacrolix/dht v2 servers as its defaults make them
// (k=8 tables, alpha=3 traversals of width 8) with these changes for a
// closed loopback network: the starting node is the network's first
// server, never the public routers; node ID security (BEP 42) is off,
// since loopback addresses cannot secure an ID; each server gets its own
// unlimited send limiter instead of the package-wide one of 25 packets a
// second, which 1,000 servers in one process would share; and each has an
// in-memory peer store, as a node serving get_peers does: without one it
// answers get_peers with no token, and a traversal, which counts only
// answers with a token among the k closest, never ends early and asks
// nearly every node in the network.
type anacrolixSide struct{}

func (anacrolixSide) name() string { return "anacrolix" }

type anacrolixNet struct {
	servers []*dht.Server
	passes  int // maintenance passes the build took
}

func (anacrolixSide) build(ctx context.Context, cfg config) (network, error) {
	if cfg.k != 8 || cfg.alpha != 3 {
		// Its table's k and its traversals' alpha are fixed.
		return nil, fmt.Errorf("anacrolix/dht v2 has k=8 and alpha=3, not k=%d alpha=%d", cfg.k, cfg.alpha)
	}
	an := &anacrolixNet{}
	logger := alog.NewLogger("dht").FilterLevel(alog.Critical)
	logger.SetHandlers(alog.DiscardHandler)
	var seed []dht.Addr
	for i := range cfg.nodes {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			an.close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		c := dht.NewDefaultServerConfig()
		c.Conn = conn
		c.NoSecurity = true
		c.NodeId = krpc.RandomNodeID()
		c.PeerStore = &peer_store.InMemory{RootId: int160.FromByteArray(c.NodeId)}
		c.SendLimiter = rate.NewLimiter(rate.Inf, 0)
		c.Logger = logger
		starting := seed
		c.StartingNodes = func() ([]dht.Addr, error) { return starting, nil }
		s, err := dht.NewServer(c)
		if err != nil {
			conn.Close()
			an.close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		an.servers = append(an.servers, s)
		if i == 0 {
			seed = []dht.Addr{dht.NewAddr(conn.LocalAddr())}
			continue
		}
		if err := bootstrap(ctx, s, cfg); err != nil {
			an.close()
			return nil, fmt.Errorf("node %d: join: %w", i, err)
		}
	}
	// A server passes on only the nodes it has heard back from, and a
	// joiner hears back from the nodes it asks but is itself only heard
	// from, so right after the joins every server knows of the later ones
	// without passing them on: the network is a star around the first.
	// anacrolix's table maintainer mends that once a minute, by pinging
	// questionable nodes and refreshing buckets. The same work is done
	// here at once, in passes: every server pings the nodes in its table,
	// then bootstraps again to learn of more, until a pass adds fewer than
	// 5% more good nodes to the tables (at most maxPasses passes).
	good := an.goodNodes()
	for an.passes = 1; an.passes <= maxPasses; an.passes++ {
		for i, s := range an.servers {
			if err := pingTable(ctx, s); err != nil {
				an.close()
				return nil, fmt.Errorf("node %d: maintenance pass %d: %w", i, an.passes, err)
			}
			if err := bootstrap(ctx, s, cfg); err != nil {
				an.close()
				return nil, fmt.Errorf("node %d: maintenance pass %d: %w", i, an.passes, err)
			}
		}
		before := good
		good = an.goodNodes()
		if good < before+before/20 {
			break
		}
	}
	return an, nil
}

// maxPasses bounds the maintenance passes of a build.
const maxPasses = 6

// goodNodes counts the good nodes in every server's table.
func (a *anacrolixNet) goodNodes() (n int) {
	for _, s := range a.servers {
		n += s.Stats().GoodNodes
	}
	return n
}

// pingTable pings every node in s's table, at most 8 at once, as the
// table maintainer pings a bucket's questionable nodes together.
func pingTable(ctx context.Context, s *dht.Server) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, ni := range s.Nodes() {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.Ping(ni.Addr.UDP())
		})
	}
	wg.Wait()
	return ctx.Err()
}

// bootstrap runs s's bootstrap traversal within cfg.timeout.
func bootstrap(ctx context.Context, s *dht.Server, cfg config) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	stats, err := s.BootstrapContext(ctx)
	if err == nil && stats.NumResponses == 0 {
		err = errors.New("no node answered")
	}
	return err
}

// traverse runs a get_peers traversal for target from server origin, as
// an announce without announcing does, and returns the requests it sent
// and whether the node with ID target answered.
func (a *anacrolixNet) traverse(ctx context.Context, origin int, target [20]byte) (rpcs int, reached bool, err error) {
	ann, err := a.servers[origin].AnnounceTraversal(target)
	if err != nil {
		return 0, false, err
	}
	defer ann.Close()
	for {
		select {
		case pv, ok := <-ann.Peers:
			if !ok {
				st := ann.TraversalStats()
				if st.NumResponses == 0 {
					err = errors.New("no node answered")
				}
				return int(st.NumAddrsTried), reached, err
			}
			reached = reached || pv.NodeInfo.ID == target
		case <-ctx.Done():
			return int(ann.TraversalStats().NumAddrsTried), reached, ctx.Err()
		}
	}
}

func (a *anacrolixNet) note() string {
	return fmt.Sprintf("(%d maintenance passes)", a.passes)
}

func (a *anacrolixNet) lookup(ctx context.Context, origin int, r *rand.Rand) (int, error) {
	var target [20]byte
	for i := range target {
		target[i] = byte(r.Uint32())
	}
	rpcs, _, err := a.traverse(ctx, origin, target)
	return rpcs, err
}

func (a *anacrolixNet) find(ctx context.Context, origin, i int) error {
	_, reached, err := a.traverse(ctx, origin, a.servers[i].ID())
	if err == nil && !reached && origin != i {
		err = errors.New("the traversal did not reach it")
	}
	return err
}

func (a *anacrolixNet) close() {
	var wg sync.WaitGroup
	for _, s := range a.servers {
		wg.Go(s.Close)
	}
	wg.Wait()
}
