package conformance_test

import (
	stdjson "encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecJSONRaw writes m in the json codec's format with no check, as a
// hostile peer would: every body m carries, every field as long as it is.
// The keys are the json codec's (msgenc/json/doc.go); its own tests use the
// codec's internal mirror instead, which this package cannot import.
func codecJSONRaw(m *msgenc.Message) ([]byte, error) {
	type obj = map[string]any
	put := func(o obj, k string, b []byte) {
		if len(b) > 0 {
			o[k] = b
		}
	}
	putList := func(o obj, k string, l [][]byte) {
		if len(l) > 0 {
			o[k] = l
		}
	}
	putNum := func(o obj, k string, n uint64, asText bool) {
		switch {
		case n == 0:
		case asText:
			o[k] = strconv.FormatUint(n, 10)
		default:
			o[k] = n
		}
	}
	peer := func(p *msgenc.PeerRecord) obj {
		o := obj{}
		put(o, "i", p.ID)
		put(o, "k", p.PublicKey)
		putList(o, "a", p.Addrs)
		putNum(o, "q", p.Seq, true)
		put(o, "g", p.Signature)
		return o
	}
	peers := func(o obj, k string, ps []msgenc.PeerRecord) {
		if len(ps) > 0 {
			l := make([]obj, len(ps))
			for i := range ps {
				l[i] = peer(&ps[i])
			}
			o[k] = l
		}
	}
	record := func(r *msgenc.ValueRecord) obj {
		o := obj{}
		put(o, "k", r.Key)
		put(o, "v", r.Value)
		put(o, "p", r.Publisher)
		put(o, "a", r.Salt)
		putNum(o, "q", r.Seq, true)
		put(o, "g", r.Signature)
		putNum(o, "l", uint64(r.TTL), false)
		return o
	}
	records := func(o obj, k string, rs []msgenc.ValueRecord) {
		if len(rs) > 0 {
			l := make([]obj, len(rs))
			for i := range rs {
				l[i] = record(&rs[i])
			}
			o[k] = l
		}
	}
	errBody := func(e *msgenc.Error) obj {
		o := obj{}
		putNum(o, "c", uint64(e.Code), false)
		if e.Message != "" {
			o["m"] = e.Message
		}
		putNum(o, "q", e.Seq, true)
		return o
	}
	top := obj{"k": m.Kind, "t": strconv.FormatUint(m.TxID, 10)}
	if m.Sender != nil {
		top["s"] = peer(m.Sender)
	}
	put(top, "a", m.Token)
	put(top, "z", m.Pad)
	if m.Ping != nil {
		top["ping"] = obj{}
	}
	if m.Pong != nil {
		o := obj{}
		put(o, "o", m.Pong.Observed)
		top["pong"] = o
	}
	if m.FindNode != nil {
		o := obj{}
		put(o, "t", m.FindNode.Target)
		top["find-node"] = o
	}
	if m.Peers != nil {
		o := obj{}
		peers(o, "p", m.Peers.Peers)
		top["peers"] = o
	}
	if m.FindValue != nil {
		o := obj{}
		put(o, "k", m.FindValue.Key)
		top["find-value"] = o
	}
	if m.Value != nil {
		o := obj{}
		records(o, "r", m.Value.Records)
		peers(o, "p", m.Value.Peers)
		top["value"] = o
	}
	if s := m.Store; s != nil {
		o := obj{"r": record(&s.Record)}
		if s.CAS {
			o["c"] = true
		}
		putNum(o, "e", s.ExpectSeq, true)
		top["store"] = o
	}
	if m.StoreAck != nil {
		o := obj{}
		putNum(o, "q", m.StoreAck.Seq, true)
		top["store-ack"] = o
	}
	if m.Error != nil {
		top["error"] = errBody(m.Error)
	}
	if f := m.Forward; f != nil {
		o := obj{"m": f.Mode, "o": f.Op}
		put(o, "i", f.QueryID)
		putNum(o, "h", uint64(f.HopBudget), false)
		putNum(o, "x", uint64(f.ProxyHops), false)
		putList(o, "v", f.Visited)
		putList(o, "r", f.ReplyTo)
		put(o, "t", f.Target)
		if f.Record != nil {
			o["d"] = record(f.Record)
		}
		if f.CAS {
			o["c"] = true
		}
		putNum(o, "e", f.ExpectSeq, true)
		put(o, "s", f.Salt)
		putNum(o, "f", uint64(f.Fanout), false)
		top["forward"] = o
	}
	if r := m.ForwardReply; r != nil {
		o := obj{}
		put(o, "i", r.QueryID)
		putNum(o, "h", uint64(r.Hops), false)
		records(o, "d", r.Records)
		peers(o, "p", r.Peers)
		putNum(o, "n", uint64(r.Stored), false)
		if r.Error != nil {
			o["e"] = errBody(r.Error)
		}
		top["forward-reply"] = o
	}
	return stdjson.Marshal(top)
}

// codecDropsBadFields is a tolerant reader: a frame that decodes but
// breaks a limit is not refused; it drops the first field (in key order,
// depth first) without which the rest is valid, and returns that. Marshal
// never makes such a frame, so only a hand-made one shows the flaw.
type codecDropsBadFields struct{ msgenc.Codec }

func (c codecDropsBadFields) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if err == nil || !errors.Is(err, msgenc.ErrInvalid) {
		return m, err
	}
	var tree map[string]any
	if stdjson.Unmarshal(data, &tree) != nil {
		return m, err
	}
	var try func(o map[string]any) *msgenc.Message
	try = func(o map[string]any) *msgenc.Message {
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := o[k]
			delete(o, k)
			if b, err := stdjson.Marshal(tree); err == nil {
				if got, err := c.Codec.Unmarshal(b); err == nil {
					return got
				}
			}
			o[k] = v
			if sub, ok := v.(map[string]any); ok {
				if got := try(sub); got != nil {
					return got
				}
			}
		}
		return nil
	}
	if got := try(tree); got != nil {
		return got, nil
	}
	return m, err
}
