package msgenc

import (
	"fmt"

	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// FromRecord returns the wire form of r.
func FromRecord(r *peer.Record) PeerRecord {
	p := PeerRecord{
		ID:        r.ID.Bytes(),
		PublicKey: append([]byte(nil), r.PublicKey...),
		Seq:       r.Seq,
		Signature: append([]byte(nil), r.Signature...),
	}
	if len(r.Addrs) > 0 {
		p.Addrs = make([][]byte, len(r.Addrs))
		for i, a := range r.Addrs {
			p.Addrs[i] = a.Bytes()
		}
	}
	return p
}

// Record parses the wire form into a peer.Record. It does not verify the
// signature: call Verify on the result before trusting it.
func (p *PeerRecord) Record() (*peer.Record, error) {
	id, err := peer.IDFromBytes(p.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: peer record: %w", ErrInvalid, err)
	}
	r := &peer.Record{
		ID:        id,
		PublicKey: append([]byte(nil), p.PublicKey...),
		Seq:       p.Seq,
		Signature: append([]byte(nil), p.Signature...),
	}
	if len(p.Addrs) > 0 {
		r.Addrs = make([]ma.Multiaddr, len(p.Addrs))
		for i, b := range p.Addrs {
			a, err := ma.NewMultiaddrBytes(b)
			if err != nil {
				return nil, fmt.Errorf("%w: peer record address %d: %w", ErrInvalid, i, err)
			}
			r.Addrs[i] = a
		}
	}
	return r, nil
}
