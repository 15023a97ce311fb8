package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
)

// blockStore is what the file manager needs of the DHT: immutable values,
// each stored under the hash of its bytes.
type blockStore interface {
	// put stores value and returns its key and how many replicas
	// acknowledged it; an error when none did.
	put(ctx context.Context, value []byte) (peer.ID, int, error)
	// get returns the value some replica holds under key. The caller
	// verifies it: a block store need not be trusted.
	get(ctx context.Context, key peer.ID) ([]byte, error)
}

// retry says how often a get is tried and how long to wait between tries.
type retry struct {
	attempts int
	backoff  time.Duration // before the second try; doubles, at most maxBackoff
	// missing: retry when no replica holds the key. Off for a root ID,
	// which either exists or is mistyped.
	missing bool
}

const maxBackoff = 3 * time.Second

// A chunk or inner node that cannot be had is tried for about 10 seconds:
// long enough to ride out replicas that restart or a share still being
// stored, short enough to fail a fetch whose share is incomplete.
var (
	chunkRetry = retry{attempts: 7, backoff: 200 * time.Millisecond, missing: true}
	rootRetry  = retry{attempts: 3, backoff: 100 * time.Millisecond}
)

// errBadBlock: a value whose bytes do not hash to the key it was asked for.
var errBadBlock = errors.New("value does not hash to its key")

// getVerified gets the value under key from bs and checks that it hashes to
// key. A value that does not is discarded and counted in bad, and the get
// is tried again, as is one that failed, up to r's attempts.
func getVerified(ctx context.Context, bs blockStore, h peer.Hasher, key peer.ID, r retry, bad *atomic.Int64) ([]byte, error) {
	wait := r.backoff
	var last error
	for attempt := range r.attempts {
		if attempt > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("get %s: %w (last try: %w)", key.Short(), ctx.Err(), last)
			case <-t.C:
			}
			wait = min(2*wait, maxBackoff)
		}
		b, err := bs.get(ctx, key)
		switch {
		case err == nil && h.Sum(b) == key:
			return b, nil
		case err == nil:
			bad.Add(1)
			last = fmt.Errorf("%w: %s", errBadBlock, key.Short())
			continue
		case ctx.Err() != nil:
			return nil, fmt.Errorf("get %s: %w", key.Short(), ctx.Err())
		case errors.Is(err, node.ErrNotFound) && !r.missing:
			return nil, err
		}
		last = err
	}
	return nil, fmt.Errorf("get %s: %d tries: %w", key.Short(), r.attempts, last)
}

// nodeBlocks is a blockStore over client nodes that store at replicas
// peers each.
//
// A node keeps every value it puts, to republish it until Close; a share
// would so hold the whole file in memory. nodeBlocks therefore puts through
// a fresh client node every rotateBytes and closes the old one once the
// puts it carries have finished, which bounds a share's memory whatever the
// file size.
type nodeBlocks struct {
	join        func(context.Context) (*node.Node, error)
	replicas    int
	rotateBytes int64

	mu       sync.Mutex
	cur      *session
	rotating bool
	closing  sync.WaitGroup // old sessions closing in the background
}

// session is one client node and the calls in flight on it.
type session struct {
	n      *node.Node
	calls  sync.WaitGroup
	stored atomic.Int64
}

const defaultRotateBytes = 16 << 20

func newNodeBlocks(n *node.Node, join func(context.Context) (*node.Node, error), replicas int) *nodeBlocks {
	return &nodeBlocks{join: join, replicas: replicas, rotateBytes: defaultRotateBytes, cur: &session{n: n}}
}

// acquire returns the current session with a call counted on it.
func (b *nodeBlocks) acquire() *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.cur
	s.calls.Add(1)
	return s
}

func (b *nodeBlocks) put(ctx context.Context, value []byte) (peer.ID, int, error) {
	s := b.acquire()
	key, acks, err := s.n.PutImmutable(ctx, value, node.WithReplicas(b.replicas))
	s.calls.Done()
	if err == nil && s.stored.Add(int64(len(value))) >= b.rotateBytes {
		b.rotate(ctx, s)
	}
	return key, acks, err
}

func (b *nodeBlocks) get(ctx context.Context, key peer.ID) ([]byte, error) {
	s := b.acquire()
	defer s.calls.Done()
	return s.n.GetImmutable(ctx, key)
}

// rotate replaces old, if it is still current, with a freshly joined node.
// Puts go on through old meanwhile; a failed join keeps old.
func (b *nodeBlocks) rotate(ctx context.Context, old *session) {
	b.mu.Lock()
	if b.cur != old || b.rotating {
		b.mu.Unlock()
		return
	}
	b.rotating = true
	b.mu.Unlock()
	n, err := b.join(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rotating = false
	if err != nil {
		old.stored.Store(0) // try again after as many bytes more
		return
	}
	b.cur = &session{n: n}
	b.closing.Add(1)
	go func() {
		defer b.closing.Done()
		old.calls.Wait()
		old.n.Close()
	}()
}

// Close closes the current node and waits for the old ones to close.
func (b *nodeBlocks) Close() error {
	b.mu.Lock()
	s := b.cur
	b.mu.Unlock()
	s.calls.Wait()
	err := s.n.Close()
	b.closing.Wait()
	return err
}
