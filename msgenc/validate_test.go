package msgenc_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
)

// validBody returns a minimal valid message of kind k.
func validBody(k msgenc.Kind) *msgenc.Message {
	m := &msgenc.Message{Kind: k, TxID: 42}
	switch k {
	case msgenc.KindPing:
		m.Ping = &msgenc.Ping{}
	case msgenc.KindPong:
		m.Pong = &msgenc.Pong{Observed: []byte{4, 127, 0, 0, 1}}
	case msgenc.KindFindNode:
		m.FindNode = &msgenc.FindNode{Target: make([]byte, 32)}
	case msgenc.KindPeers:
		m.Peers = &msgenc.Peers{Peers: []msgenc.PeerRecord{validPeer()}}
	case msgenc.KindFindValue:
		m.FindValue = &msgenc.FindValue{Key: []byte("key")}
	case msgenc.KindValue:
		m.Value = &msgenc.Value{Records: []msgenc.ValueRecord{{Key: []byte("key"), Value: []byte("v"), TTL: 60}}}
	case msgenc.KindStore:
		m.Store = &msgenc.Store{Record: msgenc.ValueRecord{Key: []byte("key"), Value: []byte("v")}}
	case msgenc.KindStoreAck:
		m.StoreAck = &msgenc.StoreAck{Seq: 3}
	case msgenc.KindError:
		m.Error = &msgenc.Error{Code: msgenc.CodeNotFound, Message: "not found"}
	case msgenc.KindForward:
		m.Forward = &msgenc.Forward{QueryID: []byte("q"), Mode: msgenc.ModeProxied, HopBudget: 3, Op: msgenc.KindFindNode, Target: make([]byte, 32)}
	case msgenc.KindForwardReply:
		m.ForwardReply = &msgenc.ForwardReply{QueryID: []byte("q"), Hops: 2, Peers: []msgenc.PeerRecord{validPeer()}}
	}
	return m
}

func validPeer() msgenc.PeerRecord {
	return msgenc.PeerRecord{
		ID:        make([]byte, 32),
		PublicKey: make([]byte, 32),
		Addrs:     [][]byte{{4, 127, 0, 0, 1, 0x91, 0x02, 0x0f, 0xa1}},
		Seq:       1,
		Signature: make([]byte, 64),
	}
}

var allKinds = []msgenc.Kind{
	msgenc.KindPing, msgenc.KindPong, msgenc.KindFindNode, msgenc.KindPeers, msgenc.KindFindValue,
	msgenc.KindValue, msgenc.KindStore, msgenc.KindStoreAck, msgenc.KindError, msgenc.KindForward,
	msgenc.KindForwardReply,
}

// otherBody sets on m the body of a kind other than m.Kind.
func otherBody(m *msgenc.Message) {
	if m.Kind == msgenc.KindPing {
		m.Pong = &msgenc.Pong{}
	} else {
		m.Ping = &msgenc.Ping{}
	}
}

func repeat(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }

func list(n, size int) [][]byte {
	l := make([][]byte, n)
	for i := range l {
		l[i] = repeat(size)
	}
	return l
}

func peers(n int) []msgenc.PeerRecord {
	ps := make([]msgenc.PeerRecord, n)
	for i := range ps {
		ps[i] = validPeer()
	}
	return ps
}

type validateCase struct {
	name    string
	msg     func() *msgenc.Message
	valid   bool
	mention string // a word the error must contain, when not valid
}

// limitCases gives two cases for a limit: at max the message is valid, at
// max+1 it is not.
func limitCases(name string, max int, mention string, mk func(n int) *msgenc.Message) []validateCase {
	return []validateCase{
		{name: name + "/at-limit", msg: func() *msgenc.Message { return mk(max) }, valid: true},
		{name: name + "/over-limit", msg: func() *msgenc.Message { return mk(max + 1) }, mention: mention},
	}
}

func validateCases() []validateCase {
	var cs []validateCase
	for _, k := range allKinds {
		cs = append(cs,
			validateCase{name: k.String() + "/valid", msg: func() *msgenc.Message { return validBody(k) }, valid: true},
			validateCase{name: k.String() + "/valid-with-sender", msg: func() *msgenc.Message {
				m := validBody(k)
				p := validPeer()
				m.Sender = &p
				return m
			}, valid: true},
			validateCase{name: k.String() + "/missing-body", msg: func() *msgenc.Message {
				return &msgenc.Message{Kind: k, TxID: 1}
			}, mention: "0 bodies"},
			validateCase{name: k.String() + "/two-bodies", msg: func() *msgenc.Message {
				m := validBody(k)
				otherBody(m)
				return m
			}, mention: "2 bodies"},
			validateCase{name: k.String() + "/wrong-body", msg: func() *msgenc.Message {
				// Exactly one body, the next kind's.
				m := validBody(allKinds[(int(k))%len(allKinds)])
				m.Kind = k
				return m
			}, mention: "another kind's body"},
		)
	}
	cs = append(cs,
		validateCase{name: "nil-message", msg: func() *msgenc.Message { return nil }, mention: "nil"},
		validateCase{name: "kind-zero", msg: func() *msgenc.Message {
			return &msgenc.Message{Ping: &msgenc.Ping{}}
		}, mention: "unknown kind"},
		validateCase{name: "kind-past-last", msg: func() *msgenc.Message {
			return &msgenc.Message{Kind: msgenc.KindForwardReply + 1, Ping: &msgenc.Ping{}}
		}, mention: "unknown kind"},
		validateCase{name: "all-bodies", msg: func() *msgenc.Message {
			m := validBody(msgenc.KindPing)
			for _, k := range allKinds {
				b := validBody(k)
				m.Pong, m.FindNode, m.Peers = orP(m.Pong, b.Pong), orP(m.FindNode, b.FindNode), orP(m.Peers, b.Peers)
				m.FindValue, m.Value, m.Store = orP(m.FindValue, b.FindValue), orP(m.Value, b.Value), orP(m.Store, b.Store)
				m.StoreAck, m.Error, m.Forward = orP(m.StoreAck, b.StoreAck), orP(m.Error, b.Error), orP(m.Forward, b.Forward)
				m.ForwardReply = orP(m.ForwardReply, b.ForwardReply)
			}
			return m
		}, mention: "11 bodies"},
	)

	// Lists of peers.
	cs = append(cs, limitCases("peers.count", msgenc.MaxPeers, "peers", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindPeers)
		m.Peers.Peers = peers(n)
		return m
	})...)
	cs = append(cs, limitCases("value.peers.count", msgenc.MaxPeers, "value.peers", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindValue)
		m.Value.Peers = peers(n)
		return m
	})...)
	cs = append(cs, limitCases("forward-reply.peers.count", msgenc.MaxPeers, "forward-reply.peers", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindForwardReply)
		m.ForwardReply.Peers = peers(n)
		return m
	})...)

	// Value records.
	cs = append(cs, limitCases("store.value-size", msgenc.MaxValueSize, "store.record.value", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindStore)
		m.Store.Record.Value = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("value.value-size", msgenc.MaxValueSize, "value.records.value", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindValue)
		m.Value.Records[0].Value = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("forward-reply.value-size", msgenc.MaxValueSize, "forward-reply.records.value", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindForwardReply)
		m.ForwardReply.Records = []msgenc.ValueRecord{{Key: []byte("k"), Value: repeat(n)}}
		return m
	})...)
	cs = append(cs, limitCases("value.records", msgenc.MaxRecords, "value.records has", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindValue)
		m.Value.Records = make([]msgenc.ValueRecord, n)
		return m
	})...)
	cs = append(cs, limitCases("store.key-size", msgenc.MaxKeySize, "store.record.key", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindStore)
		m.Store.Record.Key = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("store.publisher-size", msgenc.MaxSmallField, "store.record.publisher", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindStore)
		m.Store.Record.Publisher = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("store.salt-size", msgenc.MaxSmallField, "store.record.salt", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindStore)
		m.Store.Record.Salt = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("store.signature-size", msgenc.MaxSmallField, "store.record.signature", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindStore)
		m.Store.Record.Signature = repeat(n)
		return m
	})...)

	// Keys and targets.
	cs = append(cs, limitCases("find-node.target-size", msgenc.MaxKeySize, "find-node.target", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindFindNode)
		m.FindNode.Target = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("find-value.key-size", msgenc.MaxKeySize, "find-value.key", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindFindValue)
		m.FindValue.Key = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("pong.observed-size", msgenc.MaxAddrSize, "pong.observed", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindPong)
		m.Pong.Observed = repeat(n)
		return m
	})...)

	// Peer records, as the sender and inside a list.
	sender := func(f func(p *msgenc.PeerRecord, n int)) func(n int) *msgenc.Message {
		return func(n int) *msgenc.Message {
			m := validBody(msgenc.KindPing)
			p := validPeer()
			f(&p, n)
			m.Sender = &p
			return m
		}
	}
	cs = append(cs, limitCases("sender.id-size", msgenc.MaxKeySize, "sender.id", sender(func(p *msgenc.PeerRecord, n int) { p.ID = repeat(n) }))...)
	cs = append(cs, limitCases("sender.public-key-size", msgenc.MaxSmallField, "sender.public-key", sender(func(p *msgenc.PeerRecord, n int) { p.PublicKey = repeat(n) }))...)
	cs = append(cs, limitCases("sender.signature-size", msgenc.MaxSmallField, "sender.signature", sender(func(p *msgenc.PeerRecord, n int) { p.Signature = repeat(n) }))...)
	cs = append(cs, limitCases("sender.addrs-count", msgenc.MaxAddrs, "sender.addrs", sender(func(p *msgenc.PeerRecord, n int) { p.Addrs = list(n, 8) }))...)
	cs = append(cs, limitCases("sender.addr-size", msgenc.MaxAddrSize, "sender.addrs", sender(func(p *msgenc.PeerRecord, n int) { p.Addrs = [][]byte{{1}, repeat(n)} }))...)
	cs = append(cs, limitCases("peers.entry.addrs-count", msgenc.MaxAddrs, "peers.addrs", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindPeers)
		m.Peers.Peers = peers(3)
		m.Peers.Peers[2].Addrs = list(n, 8)
		return m
	})...)

	// Error text.
	cs = append(cs, limitCases("error.text-size", msgenc.MaxErrorText, "error text", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindError)
		m.Error.Message = strings.Repeat("e", n)
		return m
	})...)
	cs = append(cs, limitCases("forward-reply.error-text-size", msgenc.MaxErrorText, "error text", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindForwardReply)
		m.ForwardReply.Error = &msgenc.Error{Code: msgenc.CodeHopLimit, Message: strings.Repeat("e", n)}
		return m
	})...)

	// Forward.
	fwd := func(f func(fw *msgenc.Forward, n int)) msgFunc {
		return func(n int) *msgenc.Message {
			m := validBody(msgenc.KindForward)
			f(m.Forward, n)
			return m
		}
	}
	cs = append(cs, limitCases("forward.visited-count", msgenc.MaxVisited, "forward.visited", fwd(func(f *msgenc.Forward, n int) { f.Visited = list(n, 32) }))...)
	cs = append(cs, limitCases("forward.fanout", msgenc.MaxFanout, "forward.fanout", fwd(func(f *msgenc.Forward, n int) { f.Fanout = uint8(n) }))...)
	cs = append(cs, limitCases("forward.salt-size", msgenc.MaxQuerySalt, "forward.salt", fwd(func(f *msgenc.Forward, n int) { f.Salt = repeat(n) }))...)
	cs = append(cs, limitCases("forward.visited-entry-size", msgenc.MaxKeySize, "forward.visited", fwd(func(f *msgenc.Forward, n int) { f.Visited = [][]byte{repeat(32), repeat(n)} }))...)
	cs = append(cs, limitCases("forward.reply-to-count", msgenc.MaxAddrs, "forward.reply-to", fwd(func(f *msgenc.Forward, n int) {
		f.Mode = msgenc.ModeDirectReply
		f.ReplyTo = list(n, 8)
	}))...)
	cs = append(cs, limitCases("forward.reply-to-entry-size", msgenc.MaxAddrSize, "forward.reply-to", fwd(func(f *msgenc.Forward, n int) {
		f.Mode = msgenc.ModeDirectReply
		f.ReplyTo = [][]byte{repeat(n)}
	}))...)
	cs = append(cs, limitCases("forward.query-id-size", msgenc.MaxKeySize, "forward.query-id", fwd(func(f *msgenc.Forward, n int) { f.QueryID = repeat(n) }))...)
	cs = append(cs, limitCases("forward.target-size", msgenc.MaxKeySize, "forward.target", fwd(func(f *msgenc.Forward, n int) { f.Target = repeat(n) }))...)
	cs = append(cs, limitCases("forward-reply.query-id-size", msgenc.MaxKeySize, "forward-reply.query-id", func(n int) *msgenc.Message {
		m := validBody(msgenc.KindForwardReply)
		m.ForwardReply.QueryID = repeat(n)
		return m
	})...)
	cs = append(cs, limitCases("forward.store-record-value-size", msgenc.MaxValueSize, "forward.record.value", fwd(func(f *msgenc.Forward, n int) {
		f.Op = msgenc.KindStore
		f.Record = &msgenc.ValueRecord{Key: []byte("k"), Value: repeat(n)}
	}))...)

	for _, mode := range []msgenc.Mode{msgenc.ModeProxied, msgenc.ModeDirectReply, msgenc.ModeMixed} {
		cs = append(cs, validateCase{name: "forward.mode-" + strconv.Itoa(int(mode)), valid: true, msg: fwd(func(f *msgenc.Forward, _ int) { f.Mode = mode }).bind()})
	}
	for _, mode := range []msgenc.Mode{0, msgenc.ModeMixed + 1, 255} {
		cs = append(cs, validateCase{name: "forward.mode-unknown-" + strconv.Itoa(int(mode)), mention: "forward.mode", msg: fwd(func(f *msgenc.Forward, _ int) { f.Mode = mode }).bind()})
	}
	for _, op := range []msgenc.Kind{msgenc.KindFindNode, msgenc.KindFindValue} {
		cs = append(cs,
			validateCase{name: "forward.op-" + op.String(), valid: true, msg: fwd(func(f *msgenc.Forward, _ int) { f.Op = op }).bind()},
			validateCase{name: "forward.op-" + op.String() + "-with-record", mention: "carries a record", msg: fwd(func(f *msgenc.Forward, _ int) {
				f.Op = op
				f.Record = &msgenc.ValueRecord{Key: []byte("k")}
			}).bind()},
		)
	}
	cs = append(cs,
		validateCase{name: "forward.op-store", valid: true, msg: fwd(func(f *msgenc.Forward, _ int) {
			f.Op = msgenc.KindStore
			f.Record = &msgenc.ValueRecord{Key: []byte("k"), Value: []byte("v")}
		}).bind()},
		validateCase{name: "forward.op-store-without-record", mention: "no record", msg: fwd(func(f *msgenc.Forward, _ int) {
			f.Op = msgenc.KindStore
		}).bind()},
	)
	for _, op := range []msgenc.Kind{0, msgenc.KindPing, msgenc.KindPeers, msgenc.KindStoreAck, msgenc.KindForward, msgenc.KindForwardReply, 200} {
		cs = append(cs, validateCase{name: "forward.op-" + op.String() + "-" + strconv.Itoa(int(op)), mention: "forward.op", msg: fwd(func(f *msgenc.Forward, _ int) { f.Op = op }).bind()})
	}
	return cs
}

type msgFunc func(n int) *msgenc.Message

func (f msgFunc) bind() func() *msgenc.Message { return func() *msgenc.Message { return f(0) } }

func orP[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func TestValidate(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range validateCases() {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg().Validate()
			if tc.valid {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, msgenc.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("Validate error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	want := map[msgenc.Kind]string{
		msgenc.KindPing: "ping", msgenc.KindPong: "pong", msgenc.KindFindNode: "find-node",
		msgenc.KindPeers: "peers", msgenc.KindFindValue: "find-value", msgenc.KindValue: "value",
		msgenc.KindStore: "store", msgenc.KindStoreAck: "store-ack", msgenc.KindError: "error",
		msgenc.KindForward: "forward", msgenc.KindForwardReply: "forward-reply",
	}
	if len(want) != len(allKinds) {
		t.Fatalf("test knows %d kinds, allKinds %d", len(want), len(allKinds))
	}
	for k, s := range want {
		if !k.Valid() || k.String() != s {
			t.Errorf("Kind(%d): Valid %v String %q, want true %q", k, k.Valid(), k.String(), s)
		}
	}
	for _, k := range []msgenc.Kind{0, 12, 100, 255} {
		if k.Valid() || k.String() != "unknown" {
			t.Errorf("Kind(%d): Valid %v String %q, want false \"unknown\"", k, k.Valid(), k.String())
		}
	}
}

// The kind numbers are part of the wire format.
func TestKindValuesAreStable(t *testing.T) {
	for i, k := range allKinds {
		if int(k) != i+1 {
			t.Errorf("%s = %d, want %d", k, k, i+1)
		}
	}
}

func TestValidateProxiedForwardCarriesNoReplyTo(t *testing.T) {
	m := &msgenc.Message{Kind: msgenc.KindForward, Forward: &msgenc.Forward{
		QueryID: []byte("q"), Mode: msgenc.ModeProxied, HopBudget: 3, Op: msgenc.KindFindNode,
		Target: make([]byte, 32), ReplyTo: [][]byte{{1, 2, 3}},
	}}
	err := m.Validate()
	if !errors.Is(err, msgenc.ErrInvalid) {
		t.Fatalf("proxied forward with reply-to: Validate = %v, want ErrInvalid: it would leak the originator's address", err)
	}
	m.Forward.ReplyTo = nil
	if err := m.Validate(); err != nil {
		t.Fatalf("proxied forward without reply-to: Validate = %v, want nil", err)
	}
}
