package conformance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// TestStore runs the store suite: every rule of the kvstore.Store contract
// as a subtest, plus the kvstore.Ranger rules when the store implements
// Ranger (as fstest.TestFS does for optional interfaces).
//
// newStore is called once per rule with the subtest's t and a clock the
// suite controls: the store must read time only through now, so that the
// suite can test expiry by advancing a fake clock instead of sleeping. The
// suite closes each store itself; a factory may also close it in
// t.Cleanup (the second Close returns kvstore.ErrClosed and does nothing
// else, as the close-once rule checks).
//
// Contexts: a store must return an error matching ctx.Err() (errors.Is)
// from any method called with a context that is already done, without doing
// the work. A store need not abandon work in progress when ctx ends, but must
// not hang.
//
// Update: fn may be called more than once; the suite's functions are pure
// and never call the store.
//
// opts is optional, at most one: a store that promises durability says so
// with StoreOptions.Durable, and the durable-* rules then close and reopen
// it; for other stores they are skipped. A durable store that keeps its
// records in files and detects damage to them sets StoreOptions.Files, and
// the damaged-* rules then damage its files between sessions.
func TestStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) kvstore.Store, opts ...StoreOptions) {
	t.Helper()
	runSuite(t, "store", storeRules(), storeSuiteOf(t, newStore, opts))
}

// CheckStore runs the same rules as TestStore and returns the violations,
// each a *Violation, instead of failing t.
func CheckStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) kvstore.Store, opts ...StoreOptions) []error {
	t.Helper()
	return checkSuite(t, "store", storeRules(), storeSuiteOf(t, newStore, opts))
}

// StoreOptions tell TestStore what a store's interface does not show.
type StoreOptions struct {
	// Durable is set for a store that promises durability (an
	// acknowledged write survives Close and reopening). Called once per
	// rule, it picks a place of the rule's own (a file in t.TempDir, say)
	// and returns open, which opens a store there, reading time through
	// now. The suite calls open, writes, closes the store and calls open
	// again, and expects every acknowledged write back. It closes every
	// store it opens.
	Durable func(t *testing.T, now func() time.Time) (open func() (kvstore.Store, error))
	// Files is set for a durable store that keeps its records in files of
	// one directory and detects damage to them. Called once per rule, it
	// picks a directory of the rule's own (t.TempDir, say) and returns it
	// with open, which opens a store there. The damaged-files-* rules
	// write, close, damage the files (a byte of each stored value flipped,
	// the files cut short, their bytes replaced by garbage) and open
	// again. They expect open to refuse the damaged files with an error,
	// or the store to return no damaged record: never a record that was
	// not written, never a panic, and for a damaged value an error that
	// is not kvstore.ErrNotFound, not silent loss.
	Files func(t *testing.T, now func() time.Time) (dir string, open func() (kvstore.Store, error))
	// MaxKeySize is the longest key, in bytes, a store with a key limit
	// accepts; zero means none the suite should test. The rule
	// longest-key-exact-edge then stores a key of exactly that length and
	// expects one byte more to be refused.
	MaxKeySize int
}

// storeFactory is what a store rule receives: the caller's factory and
// options.
type storeFactory = *storeSuite

type storeSuite struct {
	newStore func(t *testing.T, now func() time.Time) kvstore.Store
	durable  func(t *testing.T, now func() time.Time) (open func() (kvstore.Store, error))
	files    func(t *testing.T, now func() time.Time) (dir string, open func() (kvstore.Store, error))
	maxKey   int
}

func storeSuiteOf(t *testing.T, newStore func(t *testing.T, now func() time.Time) kvstore.Store, opts []StoreOptions) *storeSuite {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("conformance: TestStore takes at most one StoreOptions, got %d", len(opts))
	}
	s := &storeSuite{newStore: newStore}
	if len(opts) == 1 {
		s.durable = opts[0].Durable
		s.files = opts[0].Files
		s.maxKey = opts[0].MaxKeySize
	}
	return s
}

// storeClock is the fake clock a rule hands to the factory.
type storeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *storeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *storeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// storeOpen builds the store under test. The caller must defer s.Close().
func storeOpen(e *env, f storeFactory) (kvstore.Store, *storeClock, error) {
	clk := &storeClock{now: time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)}
	s := f.newStore(e.t, clk.Now)
	if s == nil {
		return nil, nil, errors.New("factory returned a nil store")
	}
	return s, clk, nil
}

// storeKey returns a random key of 1 to 32 bytes, prefixed with i so keys
// made with different i never collide.
func storeKey(rng *rand.Rand, i int) []byte {
	k := fmt.Appendf(nil, "k%d/", i)
	return append(k, storeBytes(rng, 1+rng.IntN(28))...)
}

func storeBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// storeRecord returns a record with every field set, expiring at exp.
func storeRecord(rng *rand.Rand, exp time.Time) kvstore.Record {
	return kvstore.Record{
		Value:     storeBytes(rng, 1+rng.IntN(200)),
		Expires:   exp,
		Publisher: storeBytes(rng, 32),
		Salt:      storeBytes(rng, 1+rng.IntN(8)),
		Seq:       rng.Uint64(),
		Signature: storeBytes(rng, 64),
	}
}

// storeScribble overwrites every byte field of r in place, as a careless
// caller would.
func storeScribble(r *kvstore.Record) {
	for _, b := range [][]byte{r.Value, r.Publisher, r.Salt, r.Signature} {
		for i := range b {
			b[i] ^= 0xff
		}
	}
}

func storeFmt(r kvstore.Record) string {
	return fmt.Sprintf("{value %x, expires %v, publisher %x, salt %x, seq %d, signature %x}",
		storeShort(r.Value), r.Expires, storeShort(r.Publisher), storeShort(r.Salt), r.Seq, storeShort(r.Signature))
}

func storeShort(b []byte) []byte {
	if len(b) > 8 {
		return b[:8]
	}
	return b
}

// storeExpect gets key and compares the result with want.
func storeExpect(ctx context.Context, s kvstore.Store, key []byte, want kvstore.Record, what string) error {
	got, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("%s: Get(%q) = %w, want the record", what, key, err)
	}
	if !got.Equal(want) {
		return fmt.Errorf("%s: Get(%q) = %s, want %s", what, key, storeFmt(got), storeFmt(want))
	}
	return nil
}

// storeExpectMissing gets key and expects ErrNotFound.
func storeExpectMissing(ctx context.Context, s kvstore.Store, key []byte, what string) error {
	got, err := s.Get(ctx, key)
	if !errors.Is(err, kvstore.ErrNotFound) {
		if err == nil {
			return fmt.Errorf("%s: Get(%q) = %s, want kvstore.ErrNotFound", what, key, storeFmt(got))
		}
		return fmt.Errorf("%s: Get(%q) = %w, want kvstore.ErrNotFound", what, key, err)
	}
	return nil
}

func storeExpectLen(ctx context.Context, s kvstore.Store, want int, what string) error {
	n, err := s.Len(ctx)
	if err != nil {
		return fmt.Errorf("%s: Len = %w", what, err)
	}
	if n != want {
		return fmt.Errorf("%s: Len = %d, want %d", what, n, want)
	}
	return nil
}

// storeRange collects what Range visits. ok is false when s is not a
// kvstore.Ranger.
func storeRange(ctx context.Context, s kvstore.Store) (got map[string]kvstore.Record, ok bool, err error) {
	r, ok := s.(kvstore.Ranger)
	if !ok {
		return nil, false, nil
	}
	got = make(map[string]kvstore.Record)
	var dup error
	err = r.Range(ctx, func(key []byte, rec kvstore.Record) bool {
		if _, seen := got[string(key)]; seen {
			dup = fmt.Errorf("Range visited %q twice", key)
			return false
		}
		got[string(key)] = rec
		return true
	})
	if err != nil {
		return nil, true, fmt.Errorf("Range = %w", err)
	}
	return got, true, dup
}

// storeSameSet compares what Range visited with the live records expected.
func storeSameSet(got, want map[string]kvstore.Record) error {
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("Range did not visit live key %q", k)
		}
		if !g.Equal(w) {
			return fmt.Errorf("Range gave %q = %s, want %s", k, storeFmt(g), storeFmt(w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			return fmt.Errorf("Range visited %q = %s, which is not a live record", k, storeFmt(g))
		}
	}
	return nil
}

// storeErrStale is what storeHigherSeq returns for a record no newer than
// the stored one.
var storeErrStale = errors.New("conformance: stale sequence number")

// storeHigherSeq stores rec unless the live record has a sequence number at
// least as high: "higher sequence wins", built on Update. It is the pattern
// a node uses to accept a new version of a mutable value.
func storeHigherSeq(ctx context.Context, s kvstore.Store, key []byte, rec kvstore.Record) error {
	return s.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		if cur != nil && cur.Seq >= rec.Seq {
			return nil, fmt.Errorf("%w: have %d, offered %d", storeErrStale, cur.Seq, rec.Seq)
		}
		return &rec, nil
	})
}

// storeErrMismatch is what storeCAS returns when the live record is not the
// expected one.
var storeErrMismatch = errors.New("conformance: compare-and-swap mismatch")

// storeCAS stores rec only if the live record's sequence number is *old, or
// if there is no live record and old is nil: compare-and-swap built on
// Update.
func storeCAS(ctx context.Context, s kvstore.Store, key []byte, old *uint64, rec kvstore.Record) error {
	return s.Update(ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
		switch {
		case cur == nil && old == nil:
		case cur != nil && old != nil && cur.Seq == *old:
		default:
			return nil, storeErrMismatch
		}
		return &rec, nil
	})
}

// storeRules is the suite's table; the rules live in store_*.go by theme.
func storeRules() []rule[storeFactory] {
	var rules []rule[storeFactory]
	rules = append(rules, storeBasicRules()...)
	rules = append(rules, storeExpiryRules()...)
	rules = append(rules, storeLimitRules()...)
	rules = append(rules, storeKeyLimitRules()...)
	rules = append(rules, storeUpdateRules()...)
	rules = append(rules, storeExclusiveRules()...)
	rules = append(rules, storeLifecycleRules()...)
	rules = append(rules, storeCloseRaceRules()...)
	rules = append(rules, storeCancelRules()...)
	rules = append(rules, storeRangeRules()...)
	rules = append(rules, storeDurableRules()...)
	rules = append(rules, storeDamageRules()...)
	return rules
}
