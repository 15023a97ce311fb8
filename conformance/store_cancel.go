package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeCountdown is a context that ends at the n-th time the store looks
// at it (Err or Done), so that a rule can end it at every point of a write
// in turn, without racing the store.
type storeCountdown struct {
	context.Context
	mu   sync.Mutex
	left int
	done chan struct{}
	err  error
}

func newStoreCountdown(parent context.Context, n int) *storeCountdown {
	return &storeCountdown{Context: parent, left: n, done: make(chan struct{})}
}

func (c *storeCountdown) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left--; c.left <= 0 && c.err == nil {
		c.err = context.Canceled
		close(c.done)
	}
}

func (c *storeCountdown) Done() <-chan struct{} {
	c.tick()
	return c.done
}

func (c *storeCountdown) Err() error {
	c.tick()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// storeCancelLooks is how many looks at its context a write may take
// before the rule has ended it at every one.
const storeCancelLooks = 12

// storeCancelRules: writes under way when their context ends.
func storeCancelRules() []rule[storeFactory] {
	return []rule[storeFactory]{{
		name: "cancelled-write-whole-or-absent",
		doc:  "A write (Put, Update, Delete) whose context ends while it is under way is not abandoned half done: the key then holds its whole old record or the whole new one (or is gone, for Delete), and a write that returned nil took effect.",
		check: func(e *env, f storeFactory) error {
			s, _, err := storeOpen(e, f)
			if err != nil {
				return err
			}
			defer s.Close()
			for n := 1; n <= storeCancelLooks; n++ {
				for op, name := range []string{"Put", "Update", "Delete"} {
					key := storeKey(e.rng, n*10+op)
					old, rec := storeRecord(e.rng, time.Time{}), storeRecord(e.rng, time.Time{})
					hadOld := n%2 == 0 || name == "Delete"
					if hadOld {
						if err := s.Put(e.ctx, key, old); err != nil {
							return fmt.Errorf("Put = %w", err)
						}
					}
					ctx := newStoreCountdown(e.ctx, n)
					var err error
					switch name {
					case "Put":
						err = s.Put(ctx, key, rec)
					case "Update":
						err = s.Update(ctx, key, func(*kvstore.Record) (*kvstore.Record, error) { return &rec, nil })
					case "Delete":
						err = s.Delete(ctx, key)
					}
					if err != nil && !errors.Is(err, context.Canceled) {
						return fmt.Errorf("%s with a context ending at its look %d = %w, want nil or context.Canceled", name, n, err)
					}
					got, gerr := s.Get(e.ctx, key)
					what := fmt.Sprintf("%s with a context ending at its look %d returned %v, then Get", name, n, err)
					switch {
					case gerr != nil && !errors.Is(gerr, kvstore.ErrNotFound):
						return fmt.Errorf("%s = %w", what, gerr)
					case name == "Delete" && gerr == nil && (err == nil || !got.Equal(old)):
						return fmt.Errorf("%s = %s, want the key gone, or (the delete refused) its whole old record", what, storeFmt(got))
					case name == "Delete":
					case gerr != nil && (err == nil || hadOld):
						return fmt.Errorf("%s = %w, want the whole new record, or (the write refused) the whole old one", what, gerr)
					case gerr == nil && !got.Equal(rec) && (err == nil || !hadOld || !got.Equal(old)):
						return fmt.Errorf("%s = %s, want the whole new record %s, or (the write refused) the whole old one", what, storeFmt(got), storeFmt(rec))
					}
				}
			}
			return nil
		},
	}}
}
