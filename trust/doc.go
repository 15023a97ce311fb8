// Package trust decides whom and what a node accepts.
//
// A Policy is consulted by the node at three points: before a verified peer
// record enters the routing table, before a query is relayed for another
// peer, and before a value is stored. Open accepts everything that passed
// signature checks; custom policies (allow lists, web of trust) wrap or
// replace it.
package trust
