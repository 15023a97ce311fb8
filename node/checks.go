package node

import (
	"sync/atomic"

	"github.com/dhtkit/dhtkit/msgenc"
)

// checkReason says why a peer record's signature was checked: what the
// node was about to do with the peer. Counted per node (Node.checks) so
// that a benchmark can tell which checks a lookup or a join pays for.
type checkReason uint8

const (
	checkSender      checkReason = iota // a request's sender, before its answer
	checkSenderAfter                    // a request's sender, after its answer, to offer it to the table
	checkReply                          // a reply's sender
	checkLearned                        // a peer learned from an answer, before it is asked
	checkPath                           // a peer a disjoint lookup path claims
	checkRelayed                        // a peer in a relayed (forwarded) answer
	checkNewcomer                       // a newcomer, after its bucket's eviction ping failed
	numCheckReasons
)

var checkNames = [numCheckReasons]string{
	"sender", "sender-after", "reply", "learned", "path", "relayed", "newcomer",
}

func (r checkReason) String() string {
	if r < numCheckReasons {
		return checkNames[r]
	}
	return "unknown"
}

// checkReasonOf is why the sender of a message of kind k is checked on
// receipt.
func checkReasonOf(k msgenc.Kind) checkReason {
	if isReply(k) {
		return checkReply
	}
	return checkSender
}

// checkCounts counts a node's signature checks by reason. The counters are
// made on the first check: inline they would move every Node, idle ones
// included, up a size class (by 256 bytes).
type checkCounts struct {
	p atomic.Pointer[[numCheckReasons]atomic.Uint64]
}

// add counts one check for why.
func (c *checkCounts) add(why checkReason) {
	a := c.p.Load()
	if a == nil {
		a = new([numCheckReasons]atomic.Uint64)
		if !c.p.CompareAndSwap(nil, a) {
			a = c.p.Load() // another check made them first
		}
	}
	a[why].Add(1)
}

// load returns the checks counted for why.
func (c *checkCounts) load(why checkReason) uint64 {
	if a := c.p.Load(); a != nil {
		return a[why].Load()
	}
	return 0
}
