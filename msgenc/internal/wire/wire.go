package wire

import "github.com/dhtkit/dhtkit/msgenc"

// Message mirrors msgenc.Message. Exactly one body field is set; its CBOR key
// is 10 plus the Kind.
type Message struct {
	Kind   msgenc.Kind `json:"k" cbor:"1,keyasint"`
	TxID   uint64      `json:"t,string" cbor:"2,keyasint"`
	Sender *Peer       `json:"s,omitempty" cbor:"3,keyasint,omitempty"`
	Token  []byte      `json:"a,omitempty" cbor:"4,keyasint,omitempty"`
	Pad    []byte      `json:"z,omitempty" cbor:"5,keyasint,omitempty"`

	Ping         *Ping         `json:"ping,omitempty" cbor:"11,keyasint,omitempty"`
	Pong         *Pong         `json:"pong,omitempty" cbor:"12,keyasint,omitempty"`
	FindNode     *FindNode     `json:"find-node,omitempty" cbor:"13,keyasint,omitempty"`
	Peers        *Peers        `json:"peers,omitempty" cbor:"14,keyasint,omitempty"`
	FindValue    *FindValue    `json:"find-value,omitempty" cbor:"15,keyasint,omitempty"`
	Value        *Value        `json:"value,omitempty" cbor:"16,keyasint,omitempty"`
	Store        *Store        `json:"store,omitempty" cbor:"17,keyasint,omitempty"`
	StoreAck     *StoreAck     `json:"store-ack,omitempty" cbor:"18,keyasint,omitempty"`
	Error        *Error        `json:"error,omitempty" cbor:"19,keyasint,omitempty"`
	Forward      *Forward      `json:"forward,omitempty" cbor:"20,keyasint,omitempty"`
	ForwardReply *ForwardReply `json:"forward-reply,omitempty" cbor:"21,keyasint,omitempty"`
}

// PeerList is a list of peer records: a CBOR array of Peer, or null. Its
// own decoder (peer_cbor.go) allocates for the whole list at once.
type PeerList []Peer

// Peer mirrors msgenc.PeerRecord; a CBOR array [id, key, addrs, seq, sig].
type Peer struct {
	_         struct{} `cbor:",toarray"`
	ID        []byte   `json:"i,omitempty" cbor:"0"`
	PublicKey []byte   `json:"k,omitempty" cbor:"1"`
	Addrs     [][]byte `json:"a,omitempty" cbor:"2"`
	Seq       uint64   `json:"q,string,omitempty" cbor:"3"`
	Signature []byte   `json:"g,omitempty" cbor:"4"`
}

// Record mirrors msgenc.ValueRecord; a CBOR array
// [key, value, publisher, salt, seq, sig, ttl].
type Record struct {
	_         struct{} `cbor:",toarray"`
	Key       []byte   `json:"k,omitempty" cbor:"0"`
	Value     []byte   `json:"v,omitempty" cbor:"1"`
	Publisher []byte   `json:"p,omitempty" cbor:"2"`
	Salt      []byte   `json:"a,omitempty" cbor:"3"`
	Seq       uint64   `json:"q,string,omitempty" cbor:"4"`
	Signature []byte   `json:"g,omitempty" cbor:"5"`
	TTL       uint32   `json:"l,omitempty" cbor:"6"`
}

// Ping mirrors msgenc.Ping; a CBOR empty array.
type Ping struct {
	_ struct{} `cbor:",toarray"`
}

// Pong mirrors msgenc.Pong; a CBOR array [observed].
type Pong struct {
	_        struct{} `cbor:",toarray"`
	Observed []byte   `json:"o,omitempty" cbor:"0"`
}

// FindNode mirrors msgenc.FindNode; a CBOR array [target].
type FindNode struct {
	_      struct{} `cbor:",toarray"`
	Target []byte   `json:"t,omitempty" cbor:"0"`
}

// Peers mirrors msgenc.Peers; a CBOR array [peers].
type Peers struct {
	_     struct{} `cbor:",toarray"`
	Peers PeerList `json:"p,omitempty" cbor:"0"`
}

// FindValue mirrors msgenc.FindValue; a CBOR array [key].
type FindValue struct {
	_   struct{} `cbor:",toarray"`
	Key []byte   `json:"k,omitempty" cbor:"0"`
}

// Value mirrors msgenc.Value; a CBOR array [records, peers].
type Value struct {
	_       struct{} `cbor:",toarray"`
	Records []Record `json:"r,omitempty" cbor:"0"`
	Peers   PeerList `json:"p,omitempty" cbor:"1"`
}

// Store mirrors msgenc.Store; a CBOR array [record, cas, expect-seq].
type Store struct {
	_         struct{} `cbor:",toarray"`
	Record    Record   `json:"r" cbor:"0"`
	CAS       bool     `json:"c,omitempty" cbor:"1"`
	ExpectSeq uint64   `json:"e,string,omitempty" cbor:"2"`
}

// StoreAck mirrors msgenc.StoreAck; a CBOR array [seq].
type StoreAck struct {
	_   struct{} `cbor:",toarray"`
	Seq uint64   `json:"q,string,omitempty" cbor:"0"`
}

// Error mirrors msgenc.Error; a CBOR array [code, text, seq].
type Error struct {
	_       struct{}         `cbor:",toarray"`
	Code    msgenc.ErrorCode `json:"c,omitempty" cbor:"0"`
	Message string           `json:"m,omitempty" cbor:"1"`
	Seq     uint64           `json:"q,string,omitempty" cbor:"2"`
}

// Forward mirrors msgenc.Forward; a CBOR array
// [query-id, mode, hop-budget, proxy-hops, visited, reply-to, op, target, record, cas, expect-seq,
// salt, fanout].
type Forward struct {
	_         struct{}    `cbor:",toarray"`
	QueryID   []byte      `json:"i,omitempty" cbor:"0"`
	Mode      msgenc.Mode `json:"m" cbor:"1"`
	HopBudget uint8       `json:"h,omitempty" cbor:"2"`
	ProxyHops uint8       `json:"x,omitempty" cbor:"3"`
	Visited   [][]byte    `json:"v,omitempty" cbor:"4"`
	ReplyTo   [][]byte    `json:"r,omitempty" cbor:"5"`
	Op        msgenc.Kind `json:"o" cbor:"6"`
	Target    []byte      `json:"t,omitempty" cbor:"7"`
	Record    *Record     `json:"d,omitempty" cbor:"8"`
	CAS       bool        `json:"c,omitempty" cbor:"9"`
	ExpectSeq uint64      `json:"e,string,omitempty" cbor:"10"`
	Salt      []byte      `json:"s,omitempty" cbor:"11"`
	Fanout    uint8       `json:"f,omitempty" cbor:"12"`
}

// ForwardReply mirrors msgenc.ForwardReply; a CBOR array
// [query-id, hops, records, peers, stored, error].
type ForwardReply struct {
	_       struct{} `cbor:",toarray"`
	QueryID []byte   `json:"i,omitempty" cbor:"0"`
	Hops    uint8    `json:"h,omitempty" cbor:"1"`
	Records []Record `json:"d,omitempty" cbor:"2"`
	Peers   PeerList `json:"p,omitempty" cbor:"3"`
	Stored  uint16   `json:"n,omitempty" cbor:"4"`
	Error   *Error   `json:"e,omitempty" cbor:"5"`
}

// From fills w from m, sharing m's byte slices (the encoder only reads
// them). It returns an error wrapping msgenc.ErrInvalid when m does not
// pass Validate, which also refuses error text that is not UTF-8: neither
// JSON nor CBOR text strings can hold it exactly.
func (w *Message) From(m *msgenc.Message) error {
	return w.FromScratch(m, nil)
}

// FromScratch is From, taking the wire forms of m's sender, find-node body
// and peer lists from s when s is not nil, instead of allocating them: an
// encoder that keeps s between messages encodes a reply without an
// allocation for them. w refers to s until s.Reset.
func (w *Message) FromScratch(m *msgenc.Message, s *Scratch) error {
	if err := m.Validate(); err != nil {
		return err
	}
	w.fill(m, s)
	return nil
}

// Scratch holds the parts of a Message that FromScratch fills, for reuse.
type Scratch struct {
	sender   Peer
	findNode FindNode
	peers    Peers
	list     []Peer
}

// Reset drops every reference s holds to a message's byte slices, so that
// a pooled encoder keeps nothing of its callers', and keeps its buffer.
func (s *Scratch) Reset() {
	s.sender, s.findNode, s.peers = Peer{}, FindNode{}, Peers{}
	clear(s.list[:cap(s.list)])
	s.list = s.list[:0]
}

// maxScratchPeers bounds the peer list a Scratch keeps between messages.
const maxScratchPeers = 64

// Fill fills w from m as From does, but checks nothing: every body m
// carries is copied, whatever its Kind, and no limit is applied. Codecs
// call From; Fill lets a test encode a message no peer should send, as a
// hostile peer would, to prove that the decoder refuses it.
func (w *Message) Fill(m *msgenc.Message) { w.fill(m, nil) }

func (w *Message) fill(m *msgenc.Message, s *Scratch) {
	*w = Message{Kind: m.Kind, TxID: m.TxID, Token: m.Token, Pad: m.Pad}
	if m.Sender != nil {
		if s != nil {
			s.sender = fromPeer(m.Sender)
			w.Sender = &s.sender
		} else {
			p := fromPeer(m.Sender)
			w.Sender = &p
		}
	}
	if m.Ping != nil {
		w.Ping = &Ping{}
	}
	if m.Pong != nil {
		w.Pong = &Pong{Observed: m.Pong.Observed}
	}
	if m.FindNode != nil {
		if s != nil {
			s.findNode = FindNode{Target: m.FindNode.Target}
			w.FindNode = &s.findNode
		} else {
			w.FindNode = &FindNode{Target: m.FindNode.Target}
		}
	}
	if m.Peers != nil {
		if s != nil && len(m.Peers.Peers) <= maxScratchPeers {
			s.list = s.list[:0]
			for i := range m.Peers.Peers {
				s.list = append(s.list, fromPeer(&m.Peers.Peers[i]))
			}
			if len(s.list) == 0 {
				s.peers = Peers{} // as fromPeers: an empty list is nil
			} else {
				s.peers = Peers{Peers: s.list}
			}
			w.Peers = &s.peers
		} else {
			w.Peers = &Peers{Peers: fromPeers(m.Peers.Peers)}
		}
	}
	if m.FindValue != nil {
		w.FindValue = &FindValue{Key: m.FindValue.Key}
	}
	if m.Value != nil {
		w.Value = &Value{Records: fromRecords(m.Value.Records), Peers: fromPeers(m.Value.Peers)}
	}
	if m.Store != nil {
		w.Store = &Store{Record: fromRecord(&m.Store.Record), CAS: m.Store.CAS, ExpectSeq: m.Store.ExpectSeq}
	}
	if m.StoreAck != nil {
		w.StoreAck = &StoreAck{Seq: m.StoreAck.Seq}
	}
	if m.Error != nil {
		w.Error = fromError(m.Error)
	}
	if f := m.Forward; f != nil {
		w.Forward = &Forward{
			QueryID: f.QueryID, Mode: f.Mode, HopBudget: f.HopBudget, ProxyHops: f.ProxyHops,
			Visited: f.Visited, ReplyTo: f.ReplyTo, Op: f.Op, Target: f.Target, Record: fromRecordPtr(f.Record),
			CAS: f.CAS, ExpectSeq: f.ExpectSeq, Salt: f.Salt, Fanout: f.Fanout,
		}
	}
	if r := m.ForwardReply; r != nil {
		w.ForwardReply = &ForwardReply{
			QueryID: r.QueryID, Hops: r.Hops, Records: fromRecords(r.Records), Peers: fromPeers(r.Peers), Stored: r.Stored,
		}
		if r.Error != nil {
			w.ForwardReply.Error = fromError(r.Error)
		}
	}
}

func fromPeer(p *msgenc.PeerRecord) Peer {
	return Peer{ID: p.ID, PublicKey: p.PublicKey, Addrs: p.Addrs, Seq: p.Seq, Signature: p.Signature}
}

func fromPeers(ps []msgenc.PeerRecord) []Peer {
	if len(ps) == 0 {
		return nil
	}
	out := make([]Peer, len(ps))
	for i := range ps {
		out[i] = fromPeer(&ps[i])
	}
	return out
}

func fromRecord(r *msgenc.ValueRecord) Record {
	return Record{
		Key: r.Key, Value: r.Value, Publisher: r.Publisher, Salt: r.Salt,
		Seq: r.Seq, Signature: r.Signature, TTL: r.TTL,
	}
}

func fromRecords(rs []msgenc.ValueRecord) []Record {
	if len(rs) == 0 {
		return nil
	}
	out := make([]Record, len(rs))
	for i := range rs {
		out[i] = fromRecord(&rs[i])
	}
	return out
}

func fromRecordPtr(r *msgenc.ValueRecord) *Record {
	if r == nil {
		return nil
	}
	w := fromRecord(r)
	return &w
}

func fromError(e *msgenc.Error) *Error {
	return &Error{Code: e.Code, Message: e.Message, Seq: e.Seq}
}

// To returns the message w mirrors, with empty byte fields and lists as nil.
// It shares w's byte slices, which the decoder allocated afresh. The caller
// still runs Validate.
func (w *Message) To() *msgenc.Message {
	d := &Decoded{Wire: *w}
	return d.Message()
}

// Decoded holds a frame's wire form and the message made from it, with the
// bodies of the kinds a lookup sends and answers, in one allocation:
// decoding into a Decoded and calling Message costs one allocation where
// To on a decoded Message costs four (the wire form, which escapes to the
// decoder, the message, its sender and its body).
type Decoded struct {
	// Wire is what the decoder fills.
	Wire Message

	m        msgenc.Message
	sender   msgenc.PeerRecord
	pong     msgenc.Pong
	findNode msgenc.FindNode
	peers    msgenc.Peers
}

// Message converts Wire, as To does, into the message d holds. It shares
// Wire's slices, and the message keeps all of d alive.
func (d *Decoded) Message() *msgenc.Message {
	w, m := &d.Wire, &d.m
	*m = msgenc.Message{Kind: w.Kind, TxID: w.TxID, Token: nz(w.Token), Pad: nz(w.Pad)}
	if w.Sender != nil {
		d.sender = toPeer(w.Sender)
		m.Sender = &d.sender
	}
	if w.Ping != nil {
		m.Ping = &msgenc.Ping{}
	}
	if w.Pong != nil {
		d.pong = msgenc.Pong{Observed: nz(w.Pong.Observed)}
		m.Pong = &d.pong
	}
	if w.FindNode != nil {
		d.findNode = msgenc.FindNode{Target: nz(w.FindNode.Target)}
		m.FindNode = &d.findNode
	}
	if w.Peers != nil {
		d.peers = msgenc.Peers{Peers: toPeers(w.Peers.Peers)}
		m.Peers = &d.peers
	}
	if w.FindValue != nil {
		m.FindValue = &msgenc.FindValue{Key: nz(w.FindValue.Key)}
	}
	if w.Value != nil {
		m.Value = &msgenc.Value{Records: toRecords(w.Value.Records), Peers: toPeers(w.Value.Peers)}
	}
	if w.Store != nil {
		m.Store = &msgenc.Store{Record: toRecord(&w.Store.Record), CAS: w.Store.CAS, ExpectSeq: w.Store.ExpectSeq}
	}
	if w.StoreAck != nil {
		m.StoreAck = &msgenc.StoreAck{Seq: w.StoreAck.Seq}
	}
	if w.Error != nil {
		m.Error = &msgenc.Error{Code: w.Error.Code, Message: w.Error.Message, Seq: w.Error.Seq}
	}
	if f := w.Forward; f != nil {
		m.Forward = &msgenc.Forward{
			QueryID: nz(f.QueryID), Mode: f.Mode, HopBudget: f.HopBudget, ProxyHops: f.ProxyHops,
			Visited: nzList(f.Visited), ReplyTo: nzList(f.ReplyTo), Op: f.Op, Target: nz(f.Target),
			Record: toRecordPtr(f.Record), CAS: f.CAS, ExpectSeq: f.ExpectSeq, Salt: nz(f.Salt), Fanout: f.Fanout,
		}
	}
	if r := w.ForwardReply; r != nil {
		m.ForwardReply = &msgenc.ForwardReply{
			QueryID: nz(r.QueryID), Hops: r.Hops, Records: toRecords(r.Records), Peers: toPeers(r.Peers), Stored: r.Stored,
		}
		if r.Error != nil {
			m.ForwardReply.Error = &msgenc.Error{Code: r.Error.Code, Message: r.Error.Message, Seq: r.Error.Seq}
		}
	}
	return m
}

func nz(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nzList(l [][]byte) [][]byte {
	if len(l) == 0 {
		return nil
	}
	for i := range l {
		l[i] = nz(l[i])
	}
	return l
}

func toPeer(p *Peer) msgenc.PeerRecord {
	return msgenc.PeerRecord{
		ID: nz(p.ID), PublicKey: nz(p.PublicKey), Addrs: nzList(p.Addrs), Seq: p.Seq, Signature: nz(p.Signature),
	}
}

func toPeers(ps []Peer) []msgenc.PeerRecord {
	if len(ps) == 0 {
		return nil
	}
	out := make([]msgenc.PeerRecord, len(ps))
	for i := range ps {
		out[i] = toPeer(&ps[i])
	}
	return out
}

func toRecord(r *Record) msgenc.ValueRecord {
	return msgenc.ValueRecord{
		Key: nz(r.Key), Value: nz(r.Value), Publisher: nz(r.Publisher), Salt: nz(r.Salt),
		Seq: r.Seq, Signature: nz(r.Signature), TTL: r.TTL,
	}
}

func toRecords(rs []Record) []msgenc.ValueRecord {
	if len(rs) == 0 {
		return nil
	}
	out := make([]msgenc.ValueRecord, len(rs))
	for i := range rs {
		out[i] = toRecord(&rs[i])
	}
	return out
}

func toRecordPtr(r *Record) *msgenc.ValueRecord {
	if r == nil {
		return nil
	}
	v := toRecord(r)
	return &v
}
