// Package udp is a transport.Transport over UDP: one datagram carries one
// frame.
//
// The frame limit is what one datagram can carry: 65507 bytes over IPv4
// (65535 less the 20-byte IP and 8-byte UDP headers) and 65527 over IPv6;
// Options.MaxFrameSize may lower it. A datagram over the limit is dropped on
// receipt and counted in Stats.Dropped. Large frames are fragmented by IP, so
// on a lossy path they are lost more often than small ones.
//
// Receive reads the socket itself, one caller at a time: the kernel's
// receive buffer (Options.ReadBuffer) is the only queue, so memory stays
// bounded and a slow receiver only makes the kernel drop datagrams; senders
// never wait for it. Addresses are /ip4/HOST/udp/PORT or /ip6/HOST/udp/PORT.
package udp
