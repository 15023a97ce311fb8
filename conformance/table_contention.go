package conformance

import (
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

// tableContention: a table that implements route.Contention names, for a
// newcomer to a full bucket, exactly the held peer that Update's Pending
// result names, and says false for held, waiting and admissible peers. The
// node answers such a newcomer unverified and pings the peer named: a
// Contender that says true where Update would add the newcomer keeps a
// good peer out, and one that names another peer pings the wrong one.
func tableContention(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	c, ok := f.tbl.(route.Contention)
	if !ok {
		return skip("the table does not implement route.Contention (the node verifies every wanted sender before offering it)")
	}
	if r, ok := c.Contender(f.tbl.Self()); ok || r != nil {
		return fmt.Errorf("Contender(self) = %v, %v; want nil, false", r, ok)
	}
	recs, _, err := f.fill(e, 300)
	if err != nil {
		return err
	}
	for _, r := range f.held(recs) {
		if cand, ok := c.Contender(r.ID); ok || cand != nil {
			return fmt.Errorf("Contender(%s) = %v, %v for a peer the table holds; want nil, false", r.ID.Short(), cand, ok)
		}
	}
	fresh, err := f.peers(e, 300)
	if err != nil {
		return err
	}
	contended := 0
	for _, r := range fresh {
		cand, ok := c.Contender(r.ID)
		if ok {
			contended++
			if cand == nil {
				return fmt.Errorf("Contender(%s) = nil, true", r.ID.Short())
			}
			if _, held := f.tbl.Get(cand.ID); !held {
				return fmt.Errorf("Contender(%s) names %s, which the table does not hold", r.ID.Short(), cand.ID.Short())
			}
		} else if cand != nil {
			return fmt.Errorf("Contender(%s) = %s, false; a false answer names no peer", r.ID.Short(), cand.ID.Short())
		}
		res := f.tbl.Update(r, tableT0)
		switch {
		case ok && res.Status != route.Pending:
			return fmt.Errorf("Contender(%s) said its bucket was full (naming %s), but Update answered %v", r.ID.Short(), cand.ID.Short(), res.Status)
		case ok && (res.Candidate == nil || res.Candidate.ID != cand.ID):
			return fmt.Errorf("Contender(%s) named %s, but Update's Pending names %v", r.ID.Short(), cand.ID.Short(), resultCandidate(res))
		case !ok && res.Status == route.Pending:
			return fmt.Errorf("Contender(%s) said false for a newcomer that Update then left waiting for %v", r.ID.Short(), resultCandidate(res))
		}
		if res.Status == route.Pending {
			if again, ok := c.Contender(r.ID); ok {
				return fmt.Errorf("Contender(%s) = %s, true for a peer waiting already; want false", r.ID.Short(), again.ID.Short())
			}
		}
	}
	if contended == 0 {
		return skip("Contender said false for each of 300 new peers after 300 were added, so a true was never put to the test")
	}
	return nil
}

func resultCandidate(res route.Result) string {
	if res.Candidate == nil {
		return "no peer"
	}
	return res.Candidate.ID.Short()
}
