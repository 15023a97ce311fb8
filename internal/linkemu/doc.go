// Package linkemu is a user-space Ethernet switch that emulates the links
// of the hosts plugged into it: each frame a host sends is dropped with
// probability Loss, or delayed by Delay ± Jitter (uniform), once, on the
// sender's link, as a netem qdisc on the host's egress would do it; it is
// then delivered to the port where its destination MAC address was last
// seen, or to every other port when that is unknown or the frame is a
// broadcast or multicast. Partition cuts the switch into groups of ports
// that no frame crosses until Heal.
//
// It exists for kernels without the netem qdisc: the multi-host test of
// examples/dhtnode/multihost runs each host in a network namespace whose
// veth's other end sits, unbridged, in a switch namespace, where the
// linkemu command opens every port as an AF_PACKET socket
// (OpenPacketPort) and is the switch. Where the kernel has netem, the test
// still uses linkemu as the switch, for its partitions, with no delay and
// no loss of its own, and lets netem shape the links.
//
// A frame costs a map lookup, a copy and a timer; a few tens of thousands
// of frames a second, far more than the test sends, fit in one core.
// Frames may be reordered by jitter, as with netem.
package linkemu
