package conformance

import (
	"fmt"
	"slices"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
)

// tableAdmission: a table that implements route.Admission wants every
// peer it holds, and a peer it does not want leaves its peers as they are
// when it is updated. The node answers such a peer without verifying it,
// so a Wants that says false where Update would keep the peer would let an
// unverified record into the table.
func tableAdmission(e *env, s tableSuite) error {
	f, err := tableNew(e, s, peer.SHA256())
	if err != nil {
		return err
	}
	a, ok := f.tbl.(route.Admission)
	if !ok {
		return skip("the table does not implement route.Admission (the node verifies every sender)")
	}
	recs, _, err := f.fill(e, 300)
	if err != nil {
		return err
	}
	for _, r := range f.held(recs) {
		if !a.Wants(r.ID) {
			return fmt.Errorf("Wants(%s) = false for a peer the table holds", r.ID.Short())
		}
	}
	fresh, err := f.peers(e, 300)
	if err != nil {
		return err
	}
	unwanted := 0
	for _, r := range fresh {
		if a.Wants(r.ID) {
			f.tbl.Update(r, tableT0)
			continue
		}
		unwanted++
		before := tableIDs(f.tbl.Closest(f.tbl.Self(), f.tbl.Len()+1))
		res := f.tbl.Update(r, tableT0)
		after := tableIDs(f.tbl.Closest(f.tbl.Self(), f.tbl.Len()+1))
		if _, held := f.tbl.Get(r.ID); held || res.Status == route.Added {
			return fmt.Errorf("Wants(%s) = false, but Update added it (status %v)", r.ID.Short(), res.Status)
		}
		slices.SortFunc(before, peer.Compare)
		slices.SortFunc(after, peer.Compare)
		if !slices.Equal(before, after) {
			return fmt.Errorf("Wants(%s) = false, but its Update changed the peers held: %d before, %d after", r.ID.Short(), len(before), len(after))
		}
	}
	if unwanted == 0 {
		return skip("Wants said true for each of 300 new peers after 300 were added, so a false was never put to the test")
	}
	return nil
}
