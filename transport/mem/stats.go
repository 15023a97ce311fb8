package mem

import "sync/atomic"

// Stats counts frames over a network's life. When nothing is in flight,
// Sent = Delivered + Pending + every Dropped counter.
type Stats struct {
	// Sent counts frames Send accepted for an existing endpoint.
	Sent uint64
	// Delivered counts frames placed in an inbox.
	Delivered uint64
	// Pending counts frames waiting out their latency.
	Pending uint64
	// DroppedLoss counts frames lost to a link's loss rate.
	DroppedLoss uint64
	// DroppedPartition counts frames sent across a partition.
	DroppedPartition uint64
	// DroppedCrash counts frames that reached a crashed endpoint.
	DroppedCrash uint64
	// DroppedQueueFull counts frames that reached a full inbox.
	DroppedQueueFull uint64
	// DroppedClosed counts frames whose destination or network closed
	// while they were in flight.
	DroppedClosed uint64
	// Discarded counts delivered frames thrown away unread from an inbox by
	// Crash or Close. They are also in Delivered.
	Discarded uint64
	// Unreachable counts sends to an address nobody listened on; Send
	// returned transport.ErrUnreachable and they are not in Sent.
	Unreachable uint64
}

// counters are the live values behind Stats.
type counters struct {
	sent, delivered, unreachable, discarded atomic.Uint64
	droppedLoss, droppedPartition           atomic.Uint64
	droppedCrash, droppedQueueFull          atomic.Uint64
	droppedClosed                           atomic.Uint64
}

// Stats returns the network's counters. Each is read atomically, the set
// is not: read it when traffic is quiet for exact sums.
func (n *Network) Stats() Stats {
	c := &n.stats
	return Stats{
		Sent:             c.sent.Load(),
		Delivered:        c.delivered.Load(),
		Pending:          uint64(n.sched.len()),
		DroppedLoss:      c.droppedLoss.Load(),
		DroppedPartition: c.droppedPartition.Load(),
		DroppedCrash:     c.droppedCrash.Load(),
		DroppedQueueFull: c.droppedQueueFull.Load(),
		DroppedClosed:    c.droppedClosed.Load(),
		Discarded:        c.discarded.Load(),
		Unreachable:      c.unreachable.Load(),
	}
}
