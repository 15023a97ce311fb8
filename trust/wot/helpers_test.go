package wot_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/dhtkit/dhtkit/trust/wot"
)

func record(t testing.TB, h peer.Hasher, id *peer.Identity) *peer.Record {
	t.Helper()
	r, err := peer.NewRecord(id, h, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dht is the fake DHT behind Refresh's fetcher: a map of key to values that
// keeps, like a replica, one plain value per publisher per key, the highest
// sequence number winning.
type dht struct {
	mu      sync.Mutex
	vals    map[peer.ID][]*trust.Value
	fetches map[peer.ID]int
	fail    map[peer.ID]error
}

func newDHT() *dht {
	return &dht{vals: make(map[peer.ID][]*trust.Value), fetches: make(map[peer.ID]int), fail: make(map[peer.ID]error)}
}

// publish stores v as a replica would.
func (d *dht) publish(v *trust.Value) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, old := range d.vals[v.Key] {
		if bytes.Equal(old.Publisher, v.Publisher) {
			if v.Seq > old.Seq {
				d.vals[v.Key][i] = v.Clone()
			}
			return
		}
	}
	d.vals[v.Key] = append(d.vals[v.Key], v.Clone())
}

// add stores v beside whatever is there, as a stale or hostile replica might
// return it.
func (d *dht) add(v *trust.Value) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.vals[v.Key] = append(d.vals[v.Key], v.Clone())
}

func (d *dht) fetch(ctx context.Context, key peer.ID) ([]*trust.Value, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fetches[key]++
	if err := d.fail[key]; err != nil {
		return nil, err
	}
	out := make([]*trust.Value, len(d.vals[key]))
	for i, v := range d.vals[key] {
		out[i] = v.Clone()
	}
	return out, nil
}

func (d *dht) fetchCount(key peer.ID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fetches[key]
}

// web is one test's world: a hasher, a manual clock, a fake DHT and a
// policy over them.
type web struct {
	t   *testing.T
	h   peer.Hasher
	clk *clock.Manual
	d   *dht
	p   *wot.Policy
}

// newWeb builds a policy with opts, filling Hasher, Clock and (when opts
// has none) Roots from roots.
func newWeb(t *testing.T, opts wot.Options, roots ...*peer.Identity) *web {
	t.Helper()
	w := &web{t: t, h: peer.SHA256(), clk: clock.NewManual(epoch), d: newDHT()}
	if opts.Hasher != nil {
		w.h = opts.Hasher
	}
	opts.Hasher, opts.Clock = w.h, w.clk
	for _, r := range roots {
		opts.Roots = append(opts.Roots, r.PublicKey())
	}
	p, err := wot.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	w.p = p
	return w
}

func (w *web) id(i *peer.Identity) peer.ID { return i.ID(w.h) }

// endorse publishes from's endorsement of to, never expiring.
func (w *web) endorse(from, to *peer.Identity, level int, seq uint64) *trust.Value {
	w.t.Helper()
	return w.endorseUntil(from, to, level, time.Time{}, seq)
}

func (w *web) endorseUntil(from, to *peer.Identity, level int, expires time.Time, seq uint64) *trust.Value {
	w.t.Helper()
	v, err := wot.NewEndorsement(from, w.h, w.id(to), level, expires, seq)
	if err != nil {
		w.t.Fatalf("NewEndorsement: %v", err)
	}
	w.d.publish(v)
	return v
}

func (w *web) refresh() {
	w.t.Helper()
	if err := w.p.Refresh(context.Background(), w.d.fetch); err != nil {
		w.t.Fatalf("Refresh: %v", err)
	}
}

// level asks the table gate about i, so that an unknown peer gets queued,
// and returns its level.
func (w *web) level(i *peer.Identity) int {
	_ = w.p.AcceptPeer(record(w.t, w.h, i))
	return w.p.Level(w.id(i))
}

func (w *web) wantLevel(i *peer.Identity, name string, want int) {
	w.t.Helper()
	if got := w.p.Level(w.id(i)); got != want {
		w.t.Errorf("%s is at level %d, want %d", name, got, want)
	}
}
