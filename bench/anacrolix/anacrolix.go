package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

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
	// quietSince is when the servers last sent a query while building.
	quietSince time.Time
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
	// from, so after the joins the servers that joined early know of the
	// later ones without passing them on. anacrolix's table maintainer
	// fixes that: it pings questionable nodes and refreshes buckets that
	// are not full, at once and then every minute. The network counts as
	// built when every server's first maintenance pass is over, that is
	// when the servers have sent no query for a while.
	for _, s := range an.servers {
		go s.TableMaintainer()
	}
	if err := an.quiesce(ctx, cfg); err != nil {
		an.close()
		return nil, err
	}
	return an, nil
}

// quietFor is how long the network must send no query to count as built.
const quietFor = time.Second

// quiesce waits until the servers have sent no query for quietFor, then
// returns at once if they went quiet at the last poll; the quiet window is
// not the servers' work, so it ends the build where it started.
func (a *anacrolixNet) quiesce(ctx context.Context, cfg config) error {
	sent := func() (n int64) {
		for _, s := range a.servers {
			n += s.Stats().OutboundQueriesAttempted
		}
		return n
	}
	last, lastChange := sent(), time.Now()
	deadline := time.Now().Add(cfg.timeout)
	for time.Since(lastChange) < quietFor {
		if time.Now().After(deadline) {
			return fmt.Errorf("maintenance still busy after %v", cfg.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if n := sent(); n != last {
			last, lastChange = n, time.Now()
		}
	}
	a.quietSince = lastChange
	return nil
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

// builtAt ends the build where the servers went quiet, not where the
// harness noticed.
func (a *anacrolixNet) builtAt() time.Time { return a.quietSince }

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
