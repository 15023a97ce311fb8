package conformance

import (
	"testing"

	"github.com/dhtkit/dhtkit/node"
)

// NetworkHarness builds the nodes of one network under test. The suite asks
// a fresh harness for every rule, builds the nodes it needs with NewNode,
// bootstraps them itself and closes every node it was given, crashed ones
// included, before it closes the harness.
//
// A harness may offer more: NetworkLossInjector, NetworkPartitioner,
// NetworkObserver, NetworkProber (a raw peer that sends what no node
// would), NetworkHostile (nodes that forge their answers) and
// NetworkClockAdvancer (a clock the rules can move forward). Rules that need
// a capability the harness lacks are skipped (TestNetwork) or not reported
// (CheckNetwork), as fstest.TestFS does for optional interfaces. Exported
// helpers make each easy to add: NetworkRecorder, NetworkRawPeer,
// NewNetworkForger and NetworkClock.
type NetworkHarness interface {
	// NewNode builds and starts node i, joined to nothing. Every node of a
	// harness must reach every other by the addresses in its Addrs.
	NewNode(i int, o NetworkNodeOptions) (*node.Node, error)
	// Crash stops n abruptly, as a power cut would: from now on n answers
	// nobody and sends nothing, without any goodbye. Closing the node is
	// an acceptable crash where nothing more abrupt is possible (real
	// sockets); the suite still calls n.Close afterwards.
	Crash(n *node.Node) error
	// Close releases what the nodes shared (a simulated network, say). The
	// suite calls it once, after closing every node.
	Close() error
}

// NetworkNodeOptions is what the suite asks of one node.
type NetworkNodeOptions struct {
	// Client asks for a node built with Builder.Client(true): it queries
	// and stores but never enters other peers' tables.
	Client bool
}

// NetworkLossInjector is a harness that can lose frames.
type NetworkLossInjector interface {
	// SetLoss makes every link between the harness's nodes lose frames
	// with the given probability, from now on; 0 restores lossless links.
	SetLoss(rate float64) error
}

// NetworkPartitioner is a harness that can split its network.
type NetworkPartitioner interface {
	// Partition splits the nodes into groups that cannot reach each other,
	// from now on; nodes in no group form one more group.
	Partition(groups ...[]*node.Node) error
	// Heal removes the partition.
	Heal() error
}

// NetworkOptions sizes the suite.
type NetworkOptions struct {
	// Size is the number of nodes of each rule's network. Default 32.
	// Under 4 is raised to 4. The signed-value rules use at most 8. Rules
	// must finish within the suite's 30 s watchdog, so keep Size modest
	// over slow transports.
	Size int
	// Modes are the query modes the rules exercise. Default node.Modes().
	Modes []node.Mode
}

// DefaultNetworkSize is NetworkOptions.Size when left zero.
const DefaultNetworkSize = 32

func (o NetworkOptions) withDefaults() NetworkOptions {
	if o.Size == 0 {
		o.Size = DefaultNetworkSize
	}
	o.Size = max(o.Size, 4)
	if len(o.Modes) == 0 {
		o.Modes = node.Modes()
	}
	return o
}

// TestNetwork runs the whole-network suite: every rule builds a fresh
// network of opts.Size nodes through newHarness and checks one property of
// the network as a whole (bootstrap, lookups, put and get in every mode,
// crashes, loss, partitions, privacy of proxied routing, clean shutdown).
// The rules for signed values (round trips of every kind, sequence numbers,
// compare-and-swap, forged stores, forged answers, republishing) check
// what each replica and reader does, and use at most 8 nodes.
// Rules needing a capability the harness lacks are skipped with t.Skip.
//
// newHarness is called once per rule with the rule's subtest t; it may
// register t.Cleanup. Nodes should use a short RPC timeout (a few hundred
// milliseconds) so that rules with crashed or lossy peers fit the watchdog.
//
// The leak rule tells the network's goroutines from everyone else's by a
// pprof label they inherit from the rule, so TestNetwork may run in
// parallel with other tests.
func TestNetwork(t *testing.T, newHarness func(t *testing.T) NetworkHarness, opts NetworkOptions) {
	t.Helper()
	runSuite(t, "network", networkRules, networkSuite{newHarness: newHarness, opts: opts.withDefaults()})
}

// CheckNetwork runs the same rules as TestNetwork and returns the
// violations, each a *Violation, instead of failing t. Rules the harness
// cannot support are left out silently.
func CheckNetwork(t *testing.T, newHarness func(t *testing.T) NetworkHarness, opts NetworkOptions) []error {
	t.Helper()
	return checkSuite(t, "network", networkRules, networkSuite{newHarness: newHarness, opts: opts.withDefaults()})
}

// networkSuite is what each network rule receives.
type networkSuite struct {
	newHarness func(t *testing.T) NetworkHarness
	opts       NetworkOptions
}

// networkLacks is the error by which a rule says the harness lacks a
// capability it needs.
func networkLacks(capability string) error {
	return skip("the harness does not implement %s", capability)
}

var networkRules = []rule[networkSuite]{
	{"bootstrap-reaches-every-node", "after every node bootstraps from one seed, every routing table is non-empty, Ping of another node's address returns that node's record, and every node is found by a direct lookup from another", networkCheckBootstrap},
	{"every-node-finds-every-other", "FindPeer from any node returns the record of any other node, in every query mode", networkCheckFindPeer},
	{"put-get-every-mode", "a value put through one node is returned by Get through any other node, in every query mode; Put, Get and FindPeer in Mixed(n) with n out of 1..255 fail with node.ErrConfig", networkCheckPutGet},
	{"immutable-and-plain-round-trip", "in every query mode, an immutable value and plain values (the putter's own, put twice, and one signed elsewhere) put through one node are read through another, verified, signatures intact, the putter's as its later Put left it; PutValue refuses a value whose signature does not verify with node.ErrInvalidValue", networkCheckRoundTrips},
	{"sequence-only-grows", "in every query mode, once a mutable value is put at sequence 2, a put at sequence 1 (or at 2 with other bytes) fails with node.ErrConflict naming sequence 2, and every node reads sequence 2 with a quorum", networkCheckSequence},
	{"compare-and-swap", "in every query mode, a conditional put naming the sequence held succeeds and one naming another fails with node.ErrConflict naming the sequence held", networkCheckCAS},
	{"forged-writes-refused", "stores sent straight to a node of an unsigned value under a key not its hash, a value signed by another key than it names, a broken signature, bytes changed after signing, or immutable bytes not hashing to their key are refused by every node with the code invalid, and no node holds or returns them", networkCheckForgedWrites},
	{"forged-replies-discarded", "where half the nodes answer value queries with forgeries (a higher sequence under the genuine publisher with a bad signature, immutable bytes not hashing to their key), gets from honest clients in every query mode return the genuine values, and the forgeries are discarded", networkCheckForgedReplies},
	{"republish-keeps-signatures", "once the clock passes the republish interval, values reach the nodes that joined since, from their publisher and from replicas alone, with their original signature bytes, and a reader there verifies them", networkCheckRepublish},
	{"values-survive-crashes", "values stay retrievable by direct Get after their originator and a third of the other nodes crash", networkCheckCrashes},
	{"tolerates-10-percent-loss", "with 10% of frames lost on every link, Put, Get and FindPeer still succeed in every query mode", networkCheckLoss},
	{"partition-heals", "each side of a partition keeps working, and once healed and re-bootstrapped, values put during the partition are retrievable from both sides", networkCheckPartition},
	{"proxied-hides-originator", "in proxied and mixed modes, no node but the first hop receives a frame carrying the originator's address", networkCheckProxiedPrivacy},
	{"forwarded-no-hop-trace", "in proxied, direct-reply and mixed modes, no forwarded query received past the first hop carries the originator's ID or the first hop's ID", networkCheckNoHopTrace},
	{"direct-reply-answers-straight", "in direct-reply mode, answers reach the originator straight from nodes its queries reached, some past the first hop, and no other node receives an answer to them: none travels back along the path", networkCheckDirectReply},
	{"query-id-renewed-at-every-proxy", "in proxied mode, each try of the originator carries a salt of its own that stays the same along its path, and no two nodes on one path receive the same query ID: every proxy replaces it", networkCheckQueryID},
	{"hop-budget-hides-position", "the hop budgets the first hop receives from the originator take several values, one of which a hop further on also receives", networkCheckHopPosition},
	{"no-goroutine-outlives-close", "once every node and the harness are closed, no goroutine the network started is left running", networkCheckGoroutines},
}
