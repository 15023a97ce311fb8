// Package mem is an in-process simulated network for dhtkit: thousands of
// endpoints in one process, with loss, latency, partitions and crashes under
// the test's control.
//
// # Model
//
// A Network owns endpoints addressed /memory/N (go-multiaddr's "memory"
// protocol, a uint64). Each Endpoint implements transport.Transport. Send
// copies the frame and, after the link's checks, puts it straight into the
// destination's bounded inbox (zero latency) or schedules it for later
// (latency). The checks, in order, are:
//
//   - no endpoint listens on the address: Send returns an error matching
//     transport.ErrUnreachable, as a closed port would;
//   - the sender and the destination are in different partition groups: the
//     frame is lost;
//   - the link's loss rate draws a loss: the frame is lost;
//   - at delivery time the destination has crashed or closed, or its inbox is
//     full: the frame is lost.
//
// Lost frames make Send return nil, as on a real datagram network, and are
// counted in Stats by cause. A partition is checked when a frame is sent;
// frames already in flight still arrive.
//
// Every link (an ordered pair of addresses) uses the network's default
// Latency and Loss unless SetLink gave it its own LinkConfig. Loss draws come
// from a counter-based generator seeded by Options.Seed: the same sequence of
// lossy sends loses the same frames in every run.
//
// # Time
//
// Latency uses the runtime's clock through one time.AfterFunc timer per
// network over a queue of pending frames ordered by due time (frames due at
// the same instant keep their send order). No goroutine runs per frame or per
// endpoint. Tests drive time with testing/synctest: create the network inside
// the bubble and fake time advances exactly to each frame's due time.
//
// # Cost
//
// An idle endpoint is one struct (its address, a mutex, an empty inbox) and
// one map entry: about 160 bytes on amd64, as BenchmarkIdleEndpoints10k
// measures. The inbox grows on demand up to Options.QueueLen frames and is
// released once drained after a burst; the wake-up channel is made by the
// first Receive that waits. A frame in an inbox costs its copy plus about 80
// bytes. Frames may be up to Options.MaxFrameSize, 1 MiB by default so that
// every frame a dhtkit codec accepts (msgenc.MaxFrameSize) fits. Link
// configuration is stored only for links that differ from the default.
//
// # Faults
//
// Crash makes an endpoint silent: its inbox is emptied, frames to it are lost
// (Send to it returns nil), its own Send fails with ErrCrashed and Receive
// waits. Restart brings it back at the same address. Partition splits the
// endpoints into groups that cannot reach each other; Heal removes it.
//
// Closing an endpoint frees its address: a later Listen may take it again
// explicitly, but automatic allocation never hands out an address twice.
package mem
