package conformance

import (
	"errors"
	"fmt"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeExclusiveWait is how long an Update's fn waits, while it runs, for
// a Put or Delete of its key to return. A store that holds the key keeps
// the write waiting until fn is done, and the wait runs out; a store that
// does not lets it through, and the rule sees what that does.
const storeExclusiveWait = 100 * time.Millisecond

// storeExclusiveRules: Update excludes every other write to its key, not
// only other Updates.
func storeExclusiveRules() []rule[storeFactory] {
	return []rule[storeFactory]{{
		name: "update-excludes-put-and-delete",
		doc:  "A Put or Delete of a key made while an Update of it runs fn is ordered wholly before or after the Update: the key ends as the write left it, or as fn made it from what the write left.",
		check: func(e *env, f storeFactory) error {
			s, _, err := storeOpen(e, f)
			if err != nil {
				return err
			}
			defer s.Close()
			for _, op := range []string{"Put", "Delete"} {
				key := storeKey(e.rng, len(op))
				if err := s.Put(e.ctx, key, kvstore.Record{Value: []byte("old"), Seq: 10}); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
				written := kvstore.Record{Value: []byte("written"), Seq: 100}
				started, wrote := make(chan struct{}), make(chan error, 1)
				calls := 0
				go func() {
					defer catch(func(err error) { wrote <- err })
					<-started
					if op == "Put" {
						wrote <- s.Put(e.ctx, key, written)
					} else {
						wrote <- s.Delete(e.ctx, key)
					}
				}()
				var writeErr error
				writeDone := false
				err := s.Update(e.ctx, key, func(cur *kvstore.Record) (*kvstore.Record, error) {
					calls++
					next := kvstore.Record{Value: []byte("updated"), Seq: 1}
					if cur != nil {
						next.Seq = cur.Seq + 1
					}
					if calls == 1 {
						close(started)
						timer := time.NewTimer(storeExclusiveWait)
						select {
						case writeErr = <-wrote:
							writeDone = true
						case <-timer.C:
						}
						timer.Stop()
					}
					return &next, nil
				})
				if err != nil {
					return fmt.Errorf("Update = %w", err)
				}
				if !writeDone {
					writeErr = <-wrote
				}
				if writeErr != nil {
					return fmt.Errorf("%s during Update = %w", op, writeErr)
				}
				got, err := s.Get(e.ctx, key)
				if err != nil && !errors.Is(err, kvstore.ErrNotFound) {
					return fmt.Errorf("Get = %w", err)
				}
				// The two orders, and what each leaves.
				var after, before string
				if op == "Put" {
					after = storeFmt(written)                                             // Update, then Put
					before = storeFmt(kvstore.Record{Value: []byte("updated"), Seq: 101}) // Put, then Update
				} else {
					after = "nothing"                                                   // Update, then Delete
					before = storeFmt(kvstore.Record{Value: []byte("updated"), Seq: 1}) // Delete, then Update
				}
				have := "nothing"
				if err == nil {
					have = storeFmt(got)
				}
				if have != after && have != before {
					return fmt.Errorf("a %s made while Update ran fn left %s, want %s (%s after the Update) or %s (before it)", op, have, after, op, before)
				}
			}
			return nil
		},
	}}
}
