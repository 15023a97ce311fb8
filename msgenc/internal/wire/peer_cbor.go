package wire

import (
	"errors"
	"fmt"
)

var errPeerCBOR = errors.New("wire: malformed CBOR peer record")

// UnmarshalCBOR decodes a peer record, the array [id, key, addrs, seq, sig],
// with its byte fields in one allocation and its address list in a second,
// instead of one each: peer lists are the bulk of the frames a node decodes.
// The cbor decoder has already checked that data is one well-formed item
// within its limits; this still checks every length against data. Empty
// and null byte fields and lists come out nil.
func (p *Peer) UnmarshalCBOR(data []byte) error {
	r := cborReader{data: data}
	if n, ok := r.head(cborArray); !ok || n != 5 {
		return fmt.Errorf("%w: want an array of 5 items", errPeerCBOR)
	}
	var spans [3 + 64]span // id, key, sig, then the addresses
	nspans, total := 0, 0
	add := func() bool {
		s, ok := r.bytes()
		if !ok || nspans == len(spans) {
			return false
		}
		spans[nspans] = s
		nspans++
		total += s.end - s.start
		return true
	}
	if !add() || !add() {
		return fmt.Errorf("%w: id or public key is not a byte string", errPeerCBOR)
	}
	naddrs := 0
	if r.null() {
		// no addresses
	} else if n, ok := r.head(cborArray); ok && n <= uint64(len(spans)-3) {
		naddrs = int(n)
		for range naddrs {
			if !add() {
				return fmt.Errorf("%w: an address is not a byte string", errPeerCBOR)
			}
		}
	} else {
		return fmt.Errorf("%w: addresses are not a short array", errPeerCBOR)
	}
	seq, ok := r.head(cborUint)
	if !ok {
		return fmt.Errorf("%w: seq is not an unsigned integer", errPeerCBOR)
	}
	if !add() {
		return fmt.Errorf("%w: signature is not a byte string", errPeerCBOR)
	}
	if r.off != len(r.data) {
		return fmt.Errorf("%w: trailing bytes", errPeerCBOR)
	}

	arena := make([]byte, 0, total)
	take := func(s span) []byte {
		if s.start == s.end {
			return nil
		}
		start := len(arena)
		arena = append(arena, r.data[s.start:s.end]...)
		return arena[start:len(arena):len(arena)] // capped: an append by the user cannot reach a neighbour
	}
	*p = Peer{ID: take(spans[0]), PublicKey: take(spans[1]), Seq: seq}
	if naddrs > 0 {
		p.Addrs = make([][]byte, naddrs)
		for i := range naddrs {
			p.Addrs[i] = take(spans[2+i])
		}
	}
	p.Signature = take(spans[2+naddrs])
	return nil
}

// span is where a byte string's contents lie in the input.
type span struct{ start, end int }

const (
	cborUint  = 0
	cborBytes = 2
	cborArray = 4
	cborNull  = 0xf6
)

// cborReader reads the few definite-length CBOR items a peer record holds.
type cborReader struct {
	data []byte
	off  int
}

// head reads an item head of the given major type and returns its argument.
func (r *cborReader) head(major byte) (uint64, bool) {
	if r.off >= len(r.data) || r.data[r.off]>>5 != major {
		return 0, false
	}
	info := r.data[r.off] & 0x1f
	r.off++
	if info < 24 {
		return uint64(info), true
	}
	if info > 27 {
		return 0, false // indefinite lengths and reserved values
	}
	n := 1 << (info - 24) // 1, 2, 4 or 8 bytes
	if len(r.data)-r.off < n {
		return 0, false
	}
	var v uint64
	for _, b := range r.data[r.off : r.off+n] {
		v = v<<8 | uint64(b)
	}
	r.off += n
	return v, true
}

// null consumes a null if one comes next.
func (r *cborReader) null() bool {
	if r.off < len(r.data) && r.data[r.off] == cborNull {
		r.off++
		return true
	}
	return false
}

// bytes reads a byte string or null (an empty span).
func (r *cborReader) bytes() (span, bool) {
	if r.null() {
		return span{r.off, r.off}, true
	}
	n, ok := r.head(cborBytes)
	if !ok || n > uint64(len(r.data)-r.off) {
		return span{}, false
	}
	s := span{r.off, r.off + int(n)}
	r.off = s.end
	return s, true
}
