// Package multihost holds a test that runs dhtnode on a real network of
// hosts, each a Linux network namespace with an address of its own, joined
// by a switch whose links have a delay and lose frames: 12 hosts, 20 ms ±
// 5 ms on each host's link (40 ms round trips) and 1% loss. It runs
// `dhtnode serve --listen /ip4/0.0.0.0/udp/4001` on every host and, from
// clients on other hosts, puts and gets values in every query mode; kills a
// third of the hosts (SIGKILL to the server, the host unplugged) and gets
// every value again; cuts the survivors into two groups and puts and gets
// on each side; heals the partition and gets each side's values from the
// other. Every get before the faults, after the kills and within a side of
// the partition must succeed, the median in under 0.5 s and none over 3 s,
// as must every get once the partition heals. It logs the figures of each
// phase.
//
// It needs root and `ip netns`, and runs only when asked:
//
//	sudo DHTKIT_MULTIHOST=1 go test -count=1 -v -run TestMultiHost -timeout 6m ./examples/dhtnode/multihost
//
// .ci/run does that where it can, and says why when it cannot.
//
// # The network
//
// Namespaces are named dhtmh<PID>-sw (the switch) and dhtmh<PID>-hNN (the
// hosts). Each host has a veth whose end eth0 holds 10.77.0.(NN+1)/24 and
// whose other end, pNN, sits unbridged in the switch namespace. No
// namespace has a route anywhere else, the root namespace gets no address
// and no interface, and hosts know each other's MAC addresses (permanent
// neighbour entries), so no traffic leaves the namespaces and none is spent
// on ARP, whose one-second retry under loss would measure the kernel, not
// the DHT.
//
// The switch is linkemu (internal/linkemu), a user-space Ethernet switch
// that reads every port through an AF_PACKET socket and forwards frames by
// learned MAC address; it cuts and heals partitions. Where the kernel has
// the netem qdisc, each host's eth0 gets `netem delay 20ms 5ms loss 1%` and
// linkemu only switches; where it has not (as on the machine this was
// written on), linkemu delays and drops the frames itself, once per frame
// on the sender's link, as netem on the sender's egress would.
// DHTKIT_MULTIHOST_LINK=linkemu makes it do so even where netem exists.
//
// The namespaces and every process are removed when the test ends, failed
// or not; a run killed before its cleanup leaves namespaces that the next
// run removes (those of a PID no longer running), with the processes in
// them.
package multihost
