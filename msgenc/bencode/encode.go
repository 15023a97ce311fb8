package bencode

import (
	"bytes"
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
	bencodego "github.com/jackpal/bencode-go"
)

// The mirror structs bencode-go encodes. Keys are the json codec's; empty
// fields are left out. bencode-go cannot encode pointers, so optional
// dictionaries are held in interface fields, which it skips when nil.
type (
	wirePeer struct {
		ID        []byte   `bencode:"i,omitempty"`
		PublicKey []byte   `bencode:"k,omitempty"`
		Addrs     [][]byte `bencode:"a,omitempty"`
		Seq       int64    `bencode:"q,omitempty"`
		Signature []byte   `bencode:"g,omitempty"`
	}
	wireRecord struct {
		Key       []byte `bencode:"k,omitempty"`
		Value     []byte `bencode:"v,omitempty"`
		Publisher []byte `bencode:"p,omitempty"`
		Salt      []byte `bencode:"a,omitempty"`
		Seq       int64  `bencode:"q,omitempty"`
		Signature []byte `bencode:"g,omitempty"`
		TTL       int64  `bencode:"l,omitempty"`
	}
	wirePeers struct {
		Peers []wirePeer `bencode:"p,omitempty"`
	}
	wireValue struct {
		Records []wireRecord `bencode:"r,omitempty"`
		Peers   []wirePeer   `bencode:"p,omitempty"`
	}
	wireStore struct {
		Record    wireRecord `bencode:"r"`
		CAS       int64      `bencode:"c,omitempty"`
		ExpectSeq int64      `bencode:"e,omitempty"`
	}
	wireError struct {
		Code    int64  `bencode:"c,omitempty"`
		Message string `bencode:"m,omitempty"`
		Seq     int64  `bencode:"q,omitempty"`
	}
	wireForward struct {
		QueryID   []byte   `bencode:"i,omitempty"`
		Mode      int64    `bencode:"m,omitempty"`
		HopBudget int64    `bencode:"h,omitempty"`
		ProxyHops int64    `bencode:"x,omitempty"`
		Visited   [][]byte `bencode:"v,omitempty"`
		ReplyTo   [][]byte `bencode:"r,omitempty"`
		Op        int64    `bencode:"o,omitempty"`
		Target    []byte   `bencode:"t,omitempty"`
		Record    any      `bencode:"d,omitempty"`
		CAS       int64    `bencode:"c,omitempty"`
		ExpectSeq int64    `bencode:"e,omitempty"`
		Salt      []byte   `bencode:"s,omitempty"`
		Fanout    int64    `bencode:"f,omitempty"`
	}
	wireForwardReply struct {
		QueryID []byte       `bencode:"i,omitempty"`
		Hops    int64        `bencode:"h,omitempty"`
		Records []wireRecord `bencode:"d,omitempty"`
		Peers   []wirePeer   `bencode:"p,omitempty"`
		Stored  int64        `bencode:"n,omitempty"`
		Error   any          `bencode:"e,omitempty"`
	}
	// bytesBody is every body with one byte field, under key.
	bytesBody map[string][]byte
)

// encode returns the frame for a valid m.
func encode(m *msgenc.Message) ([]byte, error) {
	top := head(m)
	top[m.Kind.String()] = body(m)
	return marshal(top)
}

// head returns the frame's dictionary without its body.
func head(m *msgenc.Message) map[string]any {
	top := make(map[string]any, 4)
	top["k"] = int64(m.Kind)
	top["t"] = int64(m.TxID) // the uint64's bits; see the package doc
	if m.Sender != nil {
		top["s"] = fromPeer(m.Sender)
	}
	if len(m.Token) > 0 {
		top["a"] = m.Token
	}
	if len(m.Pad) > 0 {
		top["z"] = m.Pad
	}
	return top
}

// body returns the wire form of m's body, the first it carries.
func body(m *msgenc.Message) any {
	switch {
	case m.Ping != nil:
		return bytesBody{}
	case m.Pong != nil:
		return oneBytes("o", m.Pong.Observed)
	case m.FindNode != nil:
		return oneBytes("t", m.FindNode.Target)
	case m.Peers != nil:
		return wirePeers{Peers: fromPeers(m.Peers.Peers)}
	case m.FindValue != nil:
		return oneBytes("k", m.FindValue.Key)
	case m.Value != nil:
		return wireValue{Records: fromRecords(m.Value.Records), Peers: fromPeers(m.Value.Peers)}
	case m.Store != nil:
		s := wireStore{Record: fromRecord(&m.Store.Record), ExpectSeq: int64(m.Store.ExpectSeq)}
		if m.Store.CAS {
			s.CAS = 1
		}
		return s
	case m.StoreAck != nil:
		return map[string]int64{"q": int64(m.StoreAck.Seq)}
	case m.Error != nil:
		return fromError(m.Error)
	case m.Forward != nil:
		f := m.Forward
		w := wireForward{
			QueryID: f.QueryID, Mode: int64(f.Mode), HopBudget: int64(f.HopBudget), ProxyHops: int64(f.ProxyHops),
			Visited: f.Visited, ReplyTo: f.ReplyTo, Op: int64(f.Op), Target: f.Target, Record: fromRecordPtr(f.Record),
			ExpectSeq: int64(f.ExpectSeq), Salt: f.Salt, Fanout: int64(f.Fanout),
		}
		if f.CAS {
			w.CAS = 1
		}
		return w
	case m.ForwardReply != nil:
		r := m.ForwardReply
		w := wireForwardReply{
			QueryID: r.QueryID, Hops: int64(r.Hops), Records: fromRecords(r.Records), Peers: fromPeers(r.Peers),
			Stored: int64(r.Stored),
		}
		if r.Error != nil {
			w.Error = fromError(r.Error)
		}
		return w
	}
	return nil
}

// marshal writes top as a frame.
func marshal(top map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(256)
	if err := bencodego.Marshal(&buf, top); err != nil {
		return nil, fmt.Errorf("bencode: %w: %w", msgenc.ErrInvalid, err)
	}
	if buf.Len() > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("bencode: %w: the frame would be %d bytes, at most %d", msgenc.ErrInvalid, buf.Len(), msgenc.MaxFrameSize)
	}
	return buf.Bytes(), nil
}

func oneBytes(key string, b []byte) bytesBody {
	if len(b) == 0 {
		return bytesBody{}
	}
	return bytesBody{key: b}
}

func fromPeer(p *msgenc.PeerRecord) wirePeer {
	return wirePeer{ID: p.ID, PublicKey: p.PublicKey, Addrs: p.Addrs, Seq: int64(p.Seq), Signature: p.Signature}
}

func fromPeers(ps []msgenc.PeerRecord) []wirePeer {
	if len(ps) == 0 {
		return nil
	}
	out := make([]wirePeer, len(ps))
	for i := range ps {
		out[i] = fromPeer(&ps[i])
	}
	return out
}

func fromRecord(r *msgenc.ValueRecord) wireRecord {
	return wireRecord{
		Key: r.Key, Value: r.Value, Publisher: r.Publisher, Salt: r.Salt,
		Seq: int64(r.Seq), Signature: r.Signature, TTL: int64(r.TTL),
	}
}

func fromRecords(rs []msgenc.ValueRecord) []wireRecord {
	if len(rs) == 0 {
		return nil
	}
	out := make([]wireRecord, len(rs))
	for i := range rs {
		out[i] = fromRecord(&rs[i])
	}
	return out
}

// fromRecordPtr returns nil (not a typed nil) for a nil record, so that
// bencode-go leaves the key out.
func fromRecordPtr(r *msgenc.ValueRecord) any {
	if r == nil {
		return nil
	}
	return fromRecord(r)
}

func fromError(e *msgenc.Error) wireError {
	return wireError{Code: int64(e.Code), Message: e.Message, Seq: int64(e.Seq)}
}
