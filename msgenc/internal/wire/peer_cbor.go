package wire

import (
	"errors"
	"fmt"
)

var errPeerCBOR = errors.New("wire: malformed CBOR peer record")

// UnmarshalCBOR decodes a peer record, the array [id, key, addrs, seq, sig],
// with its byte fields in one allocation and its address list in a second,
// instead of one each. The cbor decoder has already checked that data is
// one well-formed item within its limits; this still checks every length
// against data. Empty and null byte fields and lists come out nil.
func (p *Peer) UnmarshalCBOR(data []byte) error {
	r := cborReader{data: data}
	var pr peerSpans
	if err := pr.read(&r); err != nil {
		return err
	}
	if r.off != len(r.data) {
		return fmt.Errorf("%w: trailing bytes", errPeerCBOR)
	}
	a := arena{data: data, buf: make([]byte, 0, pr.total)}
	if pr.naddrs > 0 {
		a.addrs = make([][]byte, 0, pr.naddrs)
	}
	pr.fill(p, &a)
	return nil
}

// UnmarshalCBOR decodes a list of peer records, an array of
// [id, key, addrs, seq, sig] or null, in three allocations whatever its
// length: the records, their byte fields and their address lists. Peer
// lists are the bulk of the frames a node decodes, and decoding each
// record on its own costs two allocations a record. It reads data twice:
// once to check it and measure what to allocate, once to fill.
func (l *PeerList) UnmarshalCBOR(data []byte) error {
	r := cborReader{data: data}
	if r.null() {
		if r.off != len(r.data) {
			return fmt.Errorf("%w: trailing bytes", errPeerCBOR)
		}
		*l = nil
		return nil
	}
	n, ok := r.head(cborArray)
	// Every record takes at least six bytes: a bound before allocating.
	if !ok || n > uint64(len(r.data)-r.off)/6 {
		return fmt.Errorf("%w: want an array of records", errPeerCBOR)
	}
	first := r.off
	total, naddrs := 0, 0
	var pr peerSpans
	for range n {
		if err := pr.read(&r); err != nil {
			return err
		}
		total, naddrs = total+pr.total, naddrs+pr.naddrs
	}
	if r.off != len(r.data) {
		return fmt.Errorf("%w: trailing bytes", errPeerCBOR)
	}
	out := make(PeerList, n)
	a := arena{data: data, buf: make([]byte, 0, total)}
	if naddrs > 0 {
		a.addrs = make([][]byte, 0, naddrs)
	}
	r.off = first
	for i := range out {
		_ = pr.read(&r) // read once already without error
		pr.fill(&out[i], &a)
	}
	*l = out
	return nil
}

// peerSpans is where one record's fields lie in the input.
type peerSpans struct {
	spans  [3 + maxPeerAddrs]span // id, key, then the addresses, then sig
	naddrs int
	seq    uint64
	total  int // bytes in the byte fields
}

// maxPeerAddrs bounds the addresses of a record this decoder takes.
const maxPeerAddrs = 64

// read reads one record from r and checks its shape.
func (p *peerSpans) read(r *cborReader) error {
	if n, ok := r.head(cborArray); !ok || n != 5 {
		return fmt.Errorf("%w: want an array of 5 items", errPeerCBOR)
	}
	nspans := 0
	p.total = 0
	add := func() bool {
		s, ok := r.bytes()
		if !ok || nspans == len(p.spans) {
			return false
		}
		p.spans[nspans] = s
		nspans++
		p.total += s.end - s.start
		return true
	}
	if !add() || !add() {
		return fmt.Errorf("%w: id or public key is not a byte string", errPeerCBOR)
	}
	p.naddrs = 0
	if r.null() {
		// no addresses
	} else if n, ok := r.head(cborArray); ok && n <= maxPeerAddrs {
		p.naddrs = int(n)
		for range p.naddrs {
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
	p.seq = seq
	if !add() {
		return fmt.Errorf("%w: signature is not a byte string", errPeerCBOR)
	}
	return nil
}

// fill sets dst from the record read last, copying its bytes into a.
func (p *peerSpans) fill(dst *Peer, a *arena) {
	*dst = Peer{ID: a.take(p.spans[0]), PublicKey: a.take(p.spans[1]), Seq: p.seq}
	if p.naddrs > 0 {
		start := len(a.addrs)
		for i := range p.naddrs {
			a.addrs = append(a.addrs, a.take(p.spans[2+i]))
		}
		dst.Addrs = a.addrs[start:len(a.addrs):len(a.addrs)]
	}
	dst.Signature = a.take(p.spans[2+p.naddrs])
}

// arena holds the copies of the byte fields of the records decoded from
// data, and their address lists, each sized beforehand so that it never
// grows (a grown buffer would leave earlier fields in the old one, which
// is harmless but wasteful).
type arena struct {
	data  []byte
	buf   []byte
	addrs [][]byte
}

// take copies s's contents into the arena; nil for an empty span.
func (a *arena) take(s span) []byte {
	if s.start == s.end {
		return nil
	}
	start := len(a.buf)
	a.buf = append(a.buf, a.data[s.start:s.end]...)
	return a.buf[start:len(a.buf):len(a.buf)] // capped: an append by the user cannot reach a neighbour
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
