// Package tcp is a transport.Transport over TCP: length-prefixed frames over
// pooled connections.
//
// Wire format. The dialer opens every connection with a hello: the 4 bytes
// "DKT1", one byte L (1..64), then L bytes of its listen multiaddr in binary
// form. After the hello, both directions carry frames: a 4-byte big-endian
// length, then that many bytes. A length over MaxFrameSize cannot be skipped
// safely, so the receiver counts it (Stats.Oversize) and closes the
// connection without allocating the claimed size; a bad hello likewise
// (Stats.BadHello).
//
// Addresses. A frame's Packet.From is the sender's listen address, not the
// connection's ephemeral port: the IP of the connection with the port of
// the hello (the IP is taken from the connection so that a peer cannot
// direct replies at a third host). The accepted connection joins the pool
// under that address, so a reply travels back on the same connection; if
// the pool already has one for that address, the reply uses it.
//
// Connections. Send to an address with no connection dials it (bounded by
// ctx and Options.DialTimeout; a refusal is ErrUnreachable), and later Sends
// reuse it. Each connection has one reader and one writer goroutine.
// While Receive keeps up (a frame arrives to an empty queue), one
// connection is lent to it: Receive reads that connection's next frame
// itself when nothing is queued, so a request/reply exchange wakes the
// receiving goroutine once per frame, from the socket, not a second time
// through a hand-off from the reader goroutine. A frame queued from
// another connection, ctx's end or Close interrupts that read. The reader
// goroutine takes its connection back once Receive has left it alone, or
// it has carried no frame, for 10 ms, so frames, failures and idle
// timeouts on it are never left unread for long. When frames from other
// connections interrupt that read more often than it returns one (many
// busy peers), no connection is lent for 100 ms. Send
// writes the frame itself when nothing is queued before it and the socket
// takes it at once (on Unix; saving a hand-off to the writer per frame);
// otherwise, and for whatever part of the frame the socket did not take,
// it queues for the writer. Send never waits for the socket, so a slow or
// silent peer never blocks Send to another. A connection's queue is bounded
// (Options.SendQueueBytes): a frame that does not fit is dropped and counted
// (Stats.SendDropped), as is a write stuck for Options.WriteTimeout, which
// also closes the connection. Frames
// waiting for Receive are bounded too (Options.ReceiveQueueBytes), beyond
// which they are dropped (Stats.ReceiveDropped). A connection with no frame
// either way for Options.IdleTimeout closes; at most Options.MaxConns
// inbound connections are open at once, beyond which new ones are closed
// (Stats.Rejected).
package tcp
