package linkemu

import "encoding/binary"

// fillChecksum completes a checksum the sender left to the hardware: the
// field at start+offset holds the pseudo-header's sum; the Internet
// checksum of everything from start, that field included, goes there. It
// reports false for a frame too short to hold it.
func fillChecksum(frame []byte, start, offset int) bool {
	at := start + offset
	if start >= len(frame) || at+2 > len(frame) {
		return false
	}
	var sum uint32
	data := frame[start:]
	for len(data) >= 2 {
		sum += uint32(data[0])<<8 | uint32(data[1])
		data = data[2:]
	}
	if len(data) == 1 {
		sum += uint32(data[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff // a UDP checksum of 0 means none
	}
	binary.BigEndian.PutUint16(frame[at:], c)
	return true
}
