package conformance

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

// storeCloseHold is how long an Update's fn, or a Range's, that runs when
// Close is called waits for Close to return before it returns itself: a
// store whose Close waits for it lets the wait run out; one that does not
// lets Close return first, and the operation then finishes on a closed
// store. Either is allowed; what the operation returns is checked.
const storeCloseHold = 100 * time.Millisecond

// storeCloseStartWait is how long the rule waits for an Update's fn to
// start while a Range's fn is held.
const storeCloseStartWait = time.Second

// storeCloseRaceWait bounds the whole close-during-use rule: an operation
// or a Close still running by then is reported as hung.
const storeCloseRaceWait = 10 * time.Second

// storeCloseRaceRules: Close against every operation in flight.
func storeCloseRaceRules() []rule[storeFactory] {
	return []rule[storeFactory]{{
		name: "close-during-use",
		doc:  "Close called while Get, Put, Delete, Update (its fn running), Range (its fn running), Sweep, Len and a second Close are in flight: each returns, none hangs or panics; Get returns a record, kvstore.ErrNotFound or kvstore.ErrClosed, the others nil or kvstore.ErrClosed (exactly one Close nil), and every call begun after Close returned gives kvstore.ErrClosed.",
		check: func(e *env, f storeFactory) error {
			s, _, err := storeOpen(e, f)
			if err != nil {
				return err
			}
			closed := false
			r := &storeCloseRace{closing: make(chan struct{}), closeReturned: make(chan struct{})}
			defer func() {
				r.startClosing()
				if !closed {
					s.Close()
				}
			}()
			keys := make([][]byte, 4)
			for i := range keys {
				keys[i] = storeKey(e.rng, i)
				if err := s.Put(e.ctx, keys[i], storeRecord(e.rng, time.Time{})); err != nil {
					return fmt.Errorf("Put = %w", err)
				}
			}
			rec := storeRecord(e.rng, time.Time{})
			r.errs = make(chan error, 16)
			var wg sync.WaitGroup

			// Range, then Update, with fn held inside while Close is
			// called. Range's fn first: a store may hold an Update back
			// while it runs, and the Update is then in flight all the
			// same.
			if ranger, ok := s.(kvstore.Ranger); ok {
				in := make(chan struct{})
				wg.Go(func() {
					defer catch(r.report)
					first := true
					err := ranger.Range(e.ctx, func([]byte, kvstore.Record) bool {
						if first {
							first = false
							close(in)
							r.hold()
						}
						return true
					})
					if first {
						close(in)
					}
					r.expect("Range with fn running", err, false)
				})
				if err := storeWaitChan(in, storeCloseRaceWait); err != nil {
					return fmt.Errorf("Range of %d records did not call fn: %w", len(keys), err)
				}
			}
			in := make(chan struct{})
			wg.Go(func() {
				defer catch(r.report)
				calls := 0
				err := s.Update(e.ctx, keys[0], func(cur *kvstore.Record) (*kvstore.Record, error) {
					calls++
					if calls == 1 {
						close(in)
						r.hold()
					}
					return &kvstore.Record{Value: []byte("updated at close")}, nil
				})
				if calls == 0 {
					close(in)
				}
				r.expect("Update with fn running", err, false)
			})
			_ = storeWaitChan(in, storeCloseStartWait) // or held back: in flight too

			// Every other method, called again and again until it
			// returns kvstore.ErrClosed.
			loops := []struct {
				name string
				call func(i int) error
				get  bool
			}{
				{"Get", func(i int) error { _, err := s.Get(e.ctx, keys[1+i%3]); return err }, true},
				{"Put", func(i int) error { return s.Put(e.ctx, keys[1+i%3], rec) }, false},
				{"Delete", func(i int) error { return s.Delete(e.ctx, keys[1+(i+1)%3]) }, false},
				{"Sweep", func(int) error { _, err := s.Sweep(e.ctx); return err }, false},
				{"Len", func(int) error { _, err := s.Len(e.ctx); return err }, false},
			}
			var entered sync.WaitGroup
			for _, l := range loops {
				entered.Add(1)
				wg.Go(func() {
					defer catch(r.report)
					for i := 0; ; i++ {
						after := r.isClosed()
						if i == 0 {
							entered.Done() // the first call may wait for the held fns
						}
						err := l.call(i)
						if errors.Is(err, kvstore.ErrClosed) {
							return
						}
						if after {
							r.report(fmt.Errorf("%s begun after Close returned = %v, want kvstore.ErrClosed", l.name, err))
							return
						}
						if !r.expect(l.name+" during Close", err, l.get) {
							return
						}
					}
				})
			}

			if err := storeWaitGroup(&entered, storeCloseRaceWait); err != nil {
				return fmt.Errorf("the other operations did not start: %w", err)
			}
			r.startClosing()
			closeErrs := make([]error, 2)
			var closers sync.WaitGroup
			for i := range closeErrs {
				closers.Go(func() {
					defer catch(r.report)
					closeErrs[i] = s.Close()
					if closeErrs[i] == nil {
						r.markClosed()
					}
				})
			}
			closed = true
			if err := storeWaitGroup(&closers, storeCloseRaceWait); err != nil {
				return fmt.Errorf("Close with operations in flight: %w", err)
			}
			r.markClosed() // a store whose Closes both fail is reported below
			if err := storeWaitGroup(&wg, storeCloseRaceWait); err != nil {
				return fmt.Errorf("operations in flight at Close: %w", err)
			}
			close(r.errs)
			if err := <-r.errs; err != nil {
				return err
			}
			nils := 0
			for _, err := range closeErrs {
				switch {
				case err == nil:
					nils++
				case !errors.Is(err, kvstore.ErrClosed):
					return fmt.Errorf("Close with operations in flight = %w, want nil or kvstore.ErrClosed", err)
				}
			}
			if nils != 1 {
				return fmt.Errorf("of two concurrent Closes with operations in flight %d returned nil (%v), want exactly one", nils, closeErrs)
			}
			return nil
		},
	}}
}

// storeCloseRace is the shared state of a close-during-use run.
type storeCloseRace struct {
	closing       chan struct{} // closed just before Close is called
	closeReturned chan struct{} // closed once a Close has returned nil
	once          sync.Once
	closingOnce   sync.Once
	returned      atomic.Bool
	errs          chan error
}

func (r *storeCloseRace) report(err error) {
	select {
	case r.errs <- err:
	default: // one is enough
	}
}

func (r *storeCloseRace) markClosed() {
	r.once.Do(func() {
		r.returned.Store(true)
		close(r.closeReturned)
	})
}

// startClosing releases the held fns: Close is about to be called, or the
// rule is ending.
func (r *storeCloseRace) startClosing() {
	r.closingOnce.Do(func() { close(r.closing) })
}

func (r *storeCloseRace) isClosed() bool { return r.returned.Load() }

// hold waits, inside a fn, until Close is called, then until it returns
// or storeCloseHold has passed.
func (r *storeCloseRace) hold() {
	<-r.closing
	t := time.NewTimer(storeCloseHold)
	defer t.Stop()
	select {
	case <-r.closeReturned:
	case <-t.C:
	}
}

// expect reports err unless it is nil or kvstore.ErrClosed (or
// kvstore.ErrNotFound, for a Get); it returns whether err was allowed.
func (r *storeCloseRace) expect(what string, err error, get bool) bool {
	if err == nil || errors.Is(err, kvstore.ErrClosed) || get && errors.Is(err, kvstore.ErrNotFound) {
		return true
	}
	want := "nil or kvstore.ErrClosed"
	if get {
		want = "a record, kvstore.ErrNotFound or kvstore.ErrClosed"
	}
	r.report(fmt.Errorf("%s = %w, want %s", what, err, want))
	return false
}

// storeWaitGroup waits for wg, or returns an error after d.
func storeWaitGroup(wg *sync.WaitGroup, d time.Duration) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("still running after %v", d)
	}
}

// storeWaitChan waits for c to be closed, or returns an error after d.
func storeWaitChan(c <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return nil
	case <-t.C:
		return fmt.Errorf("still waiting after %v", d)
	}
}
