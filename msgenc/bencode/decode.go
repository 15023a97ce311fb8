package bencode

import (
	"errors"
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
)

var errShape = errors.New("unexpected shape")

// decoder turns bencode-go's generic tree (map[string]any, []any, string,
// int64) into a Message. The first mismatch is kept in err and later calls
// do nothing, so the conversion reads straight through.
type decoder struct {
	err error
}

func (d *decoder) fail(key, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %q is not %s", errShape, key, want)
	}
}

// dict returns v[key] as a dictionary; ok is false when the key is absent.
func (d *decoder) dict(v map[string]any, key string) (map[string]any, bool) {
	x, ok := v[key]
	if !ok || d.err != nil {
		return nil, false
	}
	m, ok := x.(map[string]any)
	if !ok {
		d.fail(key, "a dictionary")
	}
	return m, ok
}

// bytes returns a copy of the string v[key], or nil when it is absent or
// empty.
func (d *decoder) bytes(v map[string]any, key string) []byte {
	x, ok := v[key]
	if !ok || d.err != nil {
		return nil
	}
	s, ok := x.(string)
	if !ok {
		d.fail(key, "a string")
		return nil
	}
	if s == "" {
		return nil
	}
	return []byte(s)
}

// list returns the list of strings v[key], or nil when it is absent or
// empty.
func (d *decoder) list(v map[string]any, key string) [][]byte {
	x, ok := v[key]
	if !ok || d.err != nil {
		return nil
	}
	l, ok := x.([]any)
	if !ok {
		d.fail(key, "a list")
		return nil
	}
	if len(l) == 0 {
		return nil
	}
	out := make([][]byte, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			d.fail(key, "a list of strings")
			return nil
		}
		if s != "" {
			out[i] = []byte(s)
		}
	}
	return out
}

// uint returns the integer v[key] as an unsigned number of bits bits; a
// 64-bit field takes the int64's bits unchanged.
func (d *decoder) uint(v map[string]any, key string, bits int) uint64 {
	x, ok := v[key]
	if !ok || d.err != nil {
		return 0
	}
	i, ok := x.(int64)
	switch {
	case !ok:
		d.fail(key, "an integer")
		return 0
	case bits == 64:
		return uint64(i)
	case i < 0 || uint64(i) >= 1<<bits:
		d.fail(key, fmt.Sprintf("a %d-bit unsigned integer", bits))
		return 0
	}
	return uint64(i)
}

func (d *decoder) peer(v map[string]any) msgenc.PeerRecord {
	return msgenc.PeerRecord{
		ID: d.bytes(v, "i"), PublicKey: d.bytes(v, "k"), Addrs: d.list(v, "a"),
		Seq: d.uint(v, "q", 64), Signature: d.bytes(v, "g"),
	}
}

func (d *decoder) peers(v map[string]any, key string) []msgenc.PeerRecord {
	return dictList(d, v, key, d.peer)
}

// dictList decodes v[key], a list of dictionaries, each with conv.
func dictList[T any](d *decoder, v map[string]any, key string, conv func(map[string]any) T) []T {
	x, ok := v[key]
	if !ok || d.err != nil {
		return nil
	}
	l, ok := x.([]any)
	if !ok {
		d.fail(key, "a list")
		return nil
	}
	if len(l) == 0 {
		return nil
	}
	out := make([]T, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			d.fail(key, "a list of dictionaries")
			return nil
		}
		out[i] = conv(m)
	}
	return out
}

func (d *decoder) record(v map[string]any) msgenc.ValueRecord {
	return msgenc.ValueRecord{
		Key: d.bytes(v, "k"), Value: d.bytes(v, "v"), Publisher: d.bytes(v, "p"), Salt: d.bytes(v, "a"),
		Seq: d.uint(v, "q", 64), Signature: d.bytes(v, "g"), TTL: uint32(d.uint(v, "l", 32)),
	}
}

func (d *decoder) records(v map[string]any, key string) []msgenc.ValueRecord {
	return dictList(d, v, key, d.record)
}

func (d *decoder) recordPtr(v map[string]any, key string) *msgenc.ValueRecord {
	r, ok := d.dict(v, key)
	if !ok {
		return nil
	}
	rec := d.record(r)
	return &rec
}

func (d *decoder) errorBody(v map[string]any) *msgenc.Error {
	e := &msgenc.Error{Code: msgenc.ErrorCode(d.uint(v, "c", 16)), Seq: d.uint(v, "q", 64)}
	if x, ok := v["m"]; ok {
		s, ok := x.(string)
		if !ok {
			d.fail("m", "a string")
		}
		e.Message = s
	}
	return e
}

// message converts the top-level value. Every body key present is decoded,
// so that Validate can refuse a frame with more than one.
func (d *decoder) message(tree any) *msgenc.Message {
	top, ok := tree.(map[string]any)
	if !ok {
		d.fail("frame", "a dictionary")
		return nil
	}
	m := &msgenc.Message{Kind: msgenc.Kind(d.uint(top, "k", 8)), TxID: d.uint(top, "t", 64)}
	if s, ok := d.dict(top, "s"); ok {
		p := d.peer(s)
		m.Sender = &p
	}
	if _, ok := d.dict(top, msgenc.KindPing.String()); ok {
		m.Ping = &msgenc.Ping{}
	}
	if b, ok := d.dict(top, msgenc.KindPong.String()); ok {
		m.Pong = &msgenc.Pong{Observed: d.bytes(b, "o")}
	}
	if b, ok := d.dict(top, msgenc.KindFindNode.String()); ok {
		m.FindNode = &msgenc.FindNode{Target: d.bytes(b, "t")}
	}
	if b, ok := d.dict(top, msgenc.KindPeers.String()); ok {
		m.Peers = &msgenc.Peers{Peers: d.peers(b, "p")}
	}
	if b, ok := d.dict(top, msgenc.KindFindValue.String()); ok {
		m.FindValue = &msgenc.FindValue{Key: d.bytes(b, "k")}
	}
	if b, ok := d.dict(top, msgenc.KindValue.String()); ok {
		m.Value = &msgenc.Value{Records: d.records(b, "r"), Peers: d.peers(b, "p")}
	}
	if b, ok := d.dict(top, msgenc.KindStore.String()); ok {
		r, ok := d.dict(b, "r")
		if !ok {
			d.fail("r", "present")
		}
		m.Store = &msgenc.Store{Record: d.record(r), ExpectSeq: d.uint(b, "e", 64)}
		switch d.uint(b, "c", 8) {
		case 0:
		case 1:
			m.Store.CAS = true
		default:
			d.fail("c", "0 or 1")
		}
	}
	if b, ok := d.dict(top, msgenc.KindStoreAck.String()); ok {
		m.StoreAck = &msgenc.StoreAck{Seq: d.uint(b, "q", 64)}
	}
	if b, ok := d.dict(top, msgenc.KindError.String()); ok {
		m.Error = d.errorBody(b)
	}
	if b, ok := d.dict(top, msgenc.KindForward.String()); ok {
		m.Forward = &msgenc.Forward{
			QueryID: d.bytes(b, "i"), Mode: msgenc.Mode(d.uint(b, "m", 8)), HopBudget: uint8(d.uint(b, "h", 8)),
			ProxyHops: uint8(d.uint(b, "x", 8)), Visited: d.list(b, "v"), ReplyTo: d.list(b, "r"),
			Op: msgenc.Kind(d.uint(b, "o", 8)), Target: d.bytes(b, "t"), Record: d.recordPtr(b, "d"),
			ExpectSeq: d.uint(b, "e", 64), Salt: d.bytes(b, "s"), Fanout: uint8(d.uint(b, "f", 8)),
		}
		switch d.uint(b, "c", 8) {
		case 0:
		case 1:
			m.Forward.CAS = true
		default:
			d.fail("c", "0 or 1")
		}
	}
	if b, ok := d.dict(top, msgenc.KindForwardReply.String()); ok {
		r := &msgenc.ForwardReply{
			QueryID: d.bytes(b, "i"), Hops: uint8(d.uint(b, "h", 8)), Records: d.records(b, "d"),
			Peers: d.peers(b, "p"), Stored: uint16(d.uint(b, "n", 16)),
		}
		if e, ok := d.dict(b, "e"); ok {
			r.Error = d.errorBody(e)
		}
		m.ForwardReply = r
	}
	return m
}
