package conformance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/dhtkit/dhtkit/msgenc"
	ma "github.com/multiformats/go-multiaddr"
)

// SampleMessages returns a corpus of valid messages for codec tests: the
// smallest message of every kind, the largest at every limit, uint64
// extremes, present-but-empty records, Unicode error text, and random
// messages drawn from rng. Equal seeds give equal corpora, and every call
// returns fresh values that share no memory.
//
// Every message in the corpus encodes within msgenc.MaxFrameSize in each
// built-in codec; a message can pass Validate and still be too large for a
// frame (a maximal value record beside a maximal peer list), and the
// codec suite checks that case separately.
func SampleMessages(rng *rand.Rand) []*msgenc.Message {
	var ms []*msgenc.Message
	for k := msgenc.KindPing; k <= msgenc.KindForwardReply; k++ {
		ms = append(ms, codecMinimal(k))
	}
	for k := msgenc.KindPing; k <= msgenc.KindForwardReply; k++ {
		ms = append(ms, codecMaximal(k))
	}
	ms = append(ms, codecEdgeMessages()...)
	for range 40 {
		ms = append(ms, codecRandom(rng))
	}
	return ms
}

// SamplePeersReply returns a realistic Peers reply with n peer records:
// 32-byte IDs and ed25519 keys, 64-byte signatures and two UDP multiaddrs
// each. It is the hot path of every lookup, for benchmarks.
func SamplePeersReply(n int) *msgenc.Message {
	fill := func(size int, seed int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(seed*31 + i*7 + 1)
		}
		return b
	}
	peers := make([]msgenc.PeerRecord, n)
	for i := range peers {
		peers[i] = msgenc.PeerRecord{
			ID:        fill(32, i),
			PublicKey: fill(32, i+1000),
			Addrs: [][]byte{
				ma.StringCast(fmt.Sprintf("/ip4/127.0.0.%d/udp/%d", 1+i%250, 4001+i)).Bytes(),
				ma.StringCast(fmt.Sprintf("/ip6/::1/udp/%d", 4001+i)).Bytes(),
			},
			Seq:       uint64(1_700_000_000 + i),
			Signature: fill(64, i+2000),
		}
	}
	sender := peers[0]
	sender.ID = fill(32, 9999)
	return &msgenc.Message{Kind: msgenc.KindPeers, TxID: 0x1234_5678_9abc_def0, Sender: &sender,
		Peers: &msgenc.Peers{Peers: peers}}
}

// codecMinimal returns the smallest valid message of kind k: no sender, no
// optional field.
func codecMinimal(k msgenc.Kind) *msgenc.Message {
	m := &msgenc.Message{Kind: k}
	switch k {
	case msgenc.KindPing:
		m.Ping = &msgenc.Ping{}
	case msgenc.KindPong:
		m.Pong = &msgenc.Pong{}
	case msgenc.KindFindNode:
		m.FindNode = &msgenc.FindNode{}
	case msgenc.KindPeers:
		m.Peers = &msgenc.Peers{}
	case msgenc.KindFindValue:
		m.FindValue = &msgenc.FindValue{}
	case msgenc.KindValue:
		m.Value = &msgenc.Value{}
	case msgenc.KindStore:
		m.Store = &msgenc.Store{}
	case msgenc.KindStoreAck:
		m.StoreAck = &msgenc.StoreAck{}
	case msgenc.KindError:
		m.Error = &msgenc.Error{}
	case msgenc.KindForward:
		m.Forward = &msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode}
	case msgenc.KindForwardReply:
		m.ForwardReply = &msgenc.ForwardReply{}
	}
	return m
}

// codecMaximal returns a message of kind k with every field at its limit
// and every number at its largest.
func codecMaximal(k msgenc.Kind) *msgenc.Message {
	m := &msgenc.Message{Kind: k, TxID: math.MaxUint64, Sender: codecMaxPeer(0)}
	peers := func() []msgenc.PeerRecord {
		ps := make([]msgenc.PeerRecord, msgenc.MaxPeers)
		for i := range ps {
			ps[i] = *codecMaxPeer(i + 1)
		}
		return ps
	}
	text := strings.Repeat("é", msgenc.MaxErrorText/2) // two bytes a rune
	switch k {
	case msgenc.KindPing:
		m.Ping = &msgenc.Ping{}
	case msgenc.KindPong:
		m.Pong = &msgenc.Pong{Observed: codecFill(msgenc.MaxAddrSize, 1)}
	case msgenc.KindFindNode:
		m.FindNode = &msgenc.FindNode{Target: codecFill(msgenc.MaxKeySize, 2)}
	case msgenc.KindPeers:
		m.Peers = &msgenc.Peers{Peers: peers()}
	case msgenc.KindFindValue:
		m.FindValue = &msgenc.FindValue{Key: codecFill(msgenc.MaxKeySize, 3)}
	case msgenc.KindValue:
		m.Value = &msgenc.Value{Records: []msgenc.ValueRecord{*codecMaxRecord(msgenc.MaxValueSize)}}
	case msgenc.KindStore:
		m.Store = &msgenc.Store{Record: *codecMaxRecord(msgenc.MaxValueSize), CAS: true, ExpectSeq: math.MaxUint64}
	case msgenc.KindStoreAck:
		m.StoreAck = &msgenc.StoreAck{Seq: math.MaxUint64}
	case msgenc.KindError:
		m.Error = &msgenc.Error{Code: math.MaxUint16, Message: text, Seq: math.MaxUint64}
	case msgenc.KindForward:
		f := &msgenc.Forward{
			QueryID: codecFill(msgenc.MaxKeySize, 4), Mode: msgenc.ModeMixed, HopBudget: math.MaxUint8,
			ProxyHops: math.MaxUint8, Op: msgenc.KindStore, Target: codecFill(msgenc.MaxKeySize, 5),
			Record: codecMaxRecord(64 << 10), CAS: true, ExpectSeq: math.MaxUint64,
			Salt: codecFill(msgenc.MaxQuerySalt, 7), Fanout: msgenc.MaxFanout,
		}
		for i := range msgenc.MaxVisited {
			f.Visited = append(f.Visited, codecFill(msgenc.MaxKeySize, 100+i))
		}
		for i := range msgenc.MaxAddrs {
			f.ReplyTo = append(f.ReplyTo, codecFill(msgenc.MaxAddrSize, 200+i))
		}
		m.Forward = f
	case msgenc.KindForwardReply:
		m.ForwardReply = &msgenc.ForwardReply{
			QueryID: codecFill(msgenc.MaxKeySize, 6), Hops: math.MaxUint8,
			Peers: peers(), Stored: math.MaxUint16, Error: &msgenc.Error{Code: math.MaxUint16, Message: text, Seq: 1<<64 - 2},
		}
		for range msgenc.MaxRecords {
			m.ForwardReply.Records = append(m.ForwardReply.Records, *codecMaxRecord(16 << 10))
		}
	}
	return m
}

// codecEdgeMessages returns the cases a codec most often gets wrong.
func codecEdgeMessages() []*msgenc.Message {
	unicode := "ошибка: 値が見つかりません 🚫 \u0000\u2028\"\\</script>"
	return []*msgenc.Message{
		// Numbers around the limits of doubles and signed integers.
		{Kind: msgenc.KindStoreAck, TxID: 1<<53 + 1, StoreAck: &msgenc.StoreAck{Seq: 1 << 63}},
		{Kind: msgenc.KindStoreAck, TxID: 1<<63 - 1, StoreAck: &msgenc.StoreAck{Seq: 1<<64 - 2}},
		{Kind: msgenc.KindStore, TxID: 1 << 63, Store: &msgenc.Store{
			Record: msgenc.ValueRecord{Seq: math.MaxUint64, TTL: math.MaxUint32}, ExpectSeq: 1<<53 + 1}},
		// Present but empty records and errors must stay present.
		{Kind: msgenc.KindValue, Sender: &msgenc.PeerRecord{}, Value: &msgenc.Value{Records: make([]msgenc.ValueRecord, 2)}},
		{Kind: msgenc.KindForwardReply, ForwardReply: &msgenc.ForwardReply{Error: &msgenc.Error{}}},
		{Kind: msgenc.KindForward, Forward: &msgenc.Forward{Mode: msgenc.ModeDirectReply, Op: msgenc.KindStore,
			ReplyTo: [][]byte{{4}}, Record: &msgenc.ValueRecord{}}},
		// Empty entries inside lists keep their place.
		{Kind: msgenc.KindForward, Forward: &msgenc.Forward{Mode: msgenc.ModeMixed, Op: msgenc.KindFindValue,
			Visited: [][]byte{nil, {1}, nil}, ReplyTo: [][]byte{{}}}},
		{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: make([]msgenc.PeerRecord, 3)}},
		// Text.
		{Kind: msgenc.KindError, Error: &msgenc.Error{Code: msgenc.CodeNotFound, Message: unicode}},
		{Kind: msgenc.KindForwardReply, ForwardReply: &msgenc.ForwardReply{
			Error: &msgenc.Error{Code: msgenc.CodeHopLimit, Message: unicode}}},
		// Bytes that look like syntax in text formats.
		{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: []byte(`"}]e:0i-1e\x00`)}},
		SamplePeersReply(20),
	}
}

func codecFill(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*131 + i*17 + 3)
	}
	return b
}

func codecMaxPeer(seed int) *msgenc.PeerRecord {
	p := &msgenc.PeerRecord{
		ID:        codecFill(msgenc.MaxKeySize, seed),
		PublicKey: codecFill(msgenc.MaxSmallField, seed+1),
		Seq:       math.MaxUint64,
		Signature: codecFill(msgenc.MaxSmallField, seed+2),
	}
	for i := range msgenc.MaxAddrs {
		p.Addrs = append(p.Addrs, codecFill(msgenc.MaxAddrSize, seed+3+i))
	}
	return p
}

func codecMaxRecord(valueSize int) *msgenc.ValueRecord {
	return &msgenc.ValueRecord{
		Key: codecFill(msgenc.MaxKeySize, 7), Value: codecFill(valueSize, 8),
		Publisher: codecFill(msgenc.MaxSmallField, 9), Salt: codecFill(msgenc.MaxSmallField, 10),
		Seq: math.MaxUint64, Signature: codecFill(msgenc.MaxSmallField, 11), TTL: math.MaxUint32,
	}
}
