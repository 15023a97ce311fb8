package node

import (
	"bytes"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
)

// wireBuilder makes the wire forms of the records of one reply cheaply,
// instead of caching them per record (which would cost every idle node a
// copy of its table): the key and signature are shared with the record,
// which is immutable once verified, and the IDs and addresses of all the
// records are laid out in one buffer. What it returns is only for encoding
// the reply at hand: nobody may modify it.
type wireBuilder struct {
	buf   []byte
	addrs [][]byte
}

// addrSizeGuess is what grow reserves for an address: an IPv4 address
// with a UDP or TCP port takes 9 bytes, an IPv6 one 21. A longer one
// costs a reallocation, not a mistake.
const addrSizeGuess = 24

// grow makes room for recs at once, so that the buffer is allocated once
// per reply. Measuring each address exactly would cost more than it saves.
func (b *wireBuilder) grow(recs []*peer.Record) {
	size, addrs := 0, 0
	for _, r := range recs {
		size += r.ID.Len() + addrSizeGuess*len(r.Addrs)
		addrs += len(r.Addrs)
	}
	// A builder from wirePool keeps its buffers: reuse them when they are
	// large enough. What they held was encoded and sent long ago.
	if cap(b.buf) < size {
		b.buf = make([]byte, 0, size)
	}
	if cap(b.addrs) < addrs {
		b.addrs = make([][]byte, 0, addrs)
	}
	b.buf, b.addrs = b.buf[:0], b.addrs[:0]
}

// add returns r's wire form, sharing b's buffers.
func (b *wireBuilder) add(r *peer.Record) msgenc.PeerRecord {
	p := msgenc.PeerRecord{PublicKey: r.PublicKey, Seq: r.Seq, Signature: r.Signature}
	p.ID = b.take(r.ID.AppendBytes(b.buf))
	if len(r.Addrs) > 0 {
		start := len(b.addrs)
		for _, a := range r.Addrs {
			b.addrs = append(b.addrs, b.take(append(b.buf, a.Bytes()...)))
		}
		p.Addrs = b.addrs[start:len(b.addrs):len(b.addrs)]
	}
	return p
}

// take keeps what the last append added to the buffer and returns it,
// capped so that no later append can write over it.
func (b *wireBuilder) take(grown []byte) []byte {
	s := grown[len(b.buf):len(grown):len(grown)]
	b.buf = grown
	return s
}

// wirePeers is the wire form of a reply's peers (closestWire), with the
// buffers it lies in. Serving a find-node or find-value needs one only
// until the reply is encoded; release returns it to wirePool, so that
// serving costs no allocation for it.
type wirePeers struct {
	list []msgenc.PeerRecord
	wb   wireBuilder
}

var wirePool = sync.Pool{New: func() any { return new(wirePeers) }}

func getWirePeers() *wirePeers { return wirePool.Get().(*wirePeers) }

// release clears p, so that the pool keeps no table record alive, and
// returns it to the pool. Nothing of p may be used after.
func (p *wirePeers) release() {
	if p == nil {
		return
	}
	clear(p.list[:cap(p.list)])
	clear(p.wb.addrs[:cap(p.wb.addrs)])
	p.list, p.wb.buf, p.wb.addrs = p.list[:0], p.wb.buf[:0], p.wb.addrs[:0]
	if cap(p.list) > maxPooledPeers || cap(p.wb.addrs) > 4*maxPooledPeers {
		return // an unusually large answer: let it go
	}
	wirePool.Put(p)
}

// maxPooledPeers bounds the answers wirePool keeps buffers for.
const maxPooledPeers = 64

// cloneWire returns a deep copy of w, for keeping a record past the
// handling of the frame it came in, whose buffers may be reused.
func cloneWire(w *msgenc.PeerRecord) *msgenc.PeerRecord {
	c := &msgenc.PeerRecord{
		ID: bytes.Clone(w.ID), PublicKey: bytes.Clone(w.PublicKey), Seq: w.Seq,
		Signature: bytes.Clone(w.Signature), Addrs: make([][]byte, len(w.Addrs)),
	}
	for i, a := range w.Addrs {
		c.Addrs[i] = bytes.Clone(a)
	}
	return c
}
