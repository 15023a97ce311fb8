package conformance

import (
	"math/rand/v2"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecRandom returns a valid message of a random kind whose fields have
// random contents and lengths, mostly short, sometimes at their limit.
func codecRandom(rng *rand.Rand) *msgenc.Message {
	k := msgenc.Kind(1 + rng.IntN(int(msgenc.KindForwardReply)))
	m := &msgenc.Message{Kind: k, TxID: rng.Uint64()}
	if rng.IntN(4) > 0 {
		p := codecRandPeer(rng)
		m.Sender = &p
	}
	switch k {
	case msgenc.KindPing:
		m.Ping = &msgenc.Ping{}
	case msgenc.KindPong:
		m.Pong = &msgenc.Pong{Observed: codecRandBytes(rng, msgenc.MaxAddrSize)}
	case msgenc.KindFindNode:
		m.FindNode = &msgenc.FindNode{Target: codecRandBytes(rng, msgenc.MaxKeySize)}
	case msgenc.KindPeers:
		m.Peers = &msgenc.Peers{Peers: codecRandPeers(rng)}
	case msgenc.KindFindValue:
		m.FindValue = &msgenc.FindValue{Key: codecRandBytes(rng, msgenc.MaxKeySize)}
	case msgenc.KindValue:
		m.Value = &msgenc.Value{Peers: codecRandPeers(rng)}
		for range rng.IntN(3) {
			m.Value.Records = append(m.Value.Records, codecRandRecord(rng))
		}
	case msgenc.KindStore:
		m.Store = &msgenc.Store{Record: codecRandRecord(rng), CAS: rng.IntN(2) == 0, ExpectSeq: rng.Uint64()}
	case msgenc.KindStoreAck:
		m.StoreAck = &msgenc.StoreAck{Seq: rng.Uint64()}
	case msgenc.KindError:
		m.Error = codecRandError(rng)
	case msgenc.KindForward:
		f := &msgenc.Forward{
			QueryID: codecRandBytes(rng, msgenc.MaxKeySize), Mode: msgenc.Mode(1 + rng.IntN(3)),
			HopBudget: uint8(rng.Uint32()), ProxyHops: uint8(rng.Uint32()),
			Visited: codecRandList(rng, msgenc.MaxVisited, msgenc.MaxKeySize),
			ReplyTo: codecRandList(rng, msgenc.MaxAddrs, msgenc.MaxAddrSize),
			Op:      []msgenc.Kind{msgenc.KindFindNode, msgenc.KindFindValue, msgenc.KindStore}[rng.IntN(3)],
			Target:  codecRandBytes(rng, msgenc.MaxKeySize),
			Salt:    codecRandBytes(rng, msgenc.MaxQuerySalt),
			Fanout:  uint8(rng.IntN(msgenc.MaxFanout + 1)),
		}
		// Proxied queries hide the originator; direct replies need an address.
		switch {
		case f.Mode == msgenc.ModeProxied:
			f.ReplyTo = nil
		case f.Mode == msgenc.ModeDirectReply && len(f.ReplyTo) == 0:
			f.ReplyTo = [][]byte{codecRandBytes(rng, msgenc.MaxAddrSize)}
		}
		if f.Op == msgenc.KindStore {
			r := codecRandRecord(rng)
			f.Record = &r
			f.CAS, f.ExpectSeq = rng.IntN(2) == 0, rng.Uint64()
		}
		m.Forward = f
	case msgenc.KindForwardReply:
		r := &msgenc.ForwardReply{
			QueryID: codecRandBytes(rng, msgenc.MaxKeySize), Hops: uint8(rng.Uint32()),
			Peers: codecRandPeers(rng), Stored: uint16(rng.Uint32()),
		}
		for range rng.IntN(3) {
			r.Records = append(r.Records, codecRandRecord(rng))
		}
		if rng.IntN(2) == 0 {
			r.Error = codecRandError(rng)
		}
		m.ForwardReply = r
	}
	return m
}

// codecRandLen returns a length up to max: often 0 or max, usually small.
func codecRandLen(rng *rand.Rand, max int) int {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return max
	default:
		return rng.IntN(min(max, 40) + 1)
	}
}

// codecRandBytes returns nil for length 0, as a decoder would.
func codecRandBytes(rng *rand.Rand, max int) []byte {
	n := codecRandLen(rng, max)
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func codecRandList(rng *rand.Rand, maxItems, maxItem int) [][]byte {
	n := rng.IntN(min(maxItems, 5) + 1)
	if n == 0 {
		return nil
	}
	l := make([][]byte, n)
	for i := range l {
		l[i] = codecRandBytes(rng, maxItem)
	}
	return l
}

func codecRandPeer(rng *rand.Rand) msgenc.PeerRecord {
	return msgenc.PeerRecord{
		ID:        codecRandBytes(rng, msgenc.MaxKeySize),
		PublicKey: codecRandBytes(rng, msgenc.MaxSmallField),
		Addrs:     codecRandList(rng, msgenc.MaxAddrs, msgenc.MaxAddrSize),
		Seq:       rng.Uint64() >> rng.IntN(64),
		Signature: codecRandBytes(rng, msgenc.MaxSmallField),
	}
}

func codecRandPeers(rng *rand.Rand) []msgenc.PeerRecord {
	n := rng.IntN(9)
	if n == 0 {
		return nil
	}
	ps := make([]msgenc.PeerRecord, n)
	for i := range ps {
		ps[i] = codecRandPeer(rng)
	}
	return ps
}

func codecRandRecord(rng *rand.Rand) msgenc.ValueRecord {
	return msgenc.ValueRecord{
		Key:       codecRandBytes(rng, msgenc.MaxKeySize),
		Value:     codecRandBytes(rng, 4096),
		Publisher: codecRandBytes(rng, msgenc.MaxSmallField),
		Salt:      codecRandBytes(rng, msgenc.MaxSmallField),
		Seq:       rng.Uint64() >> rng.IntN(64),
		Signature: codecRandBytes(rng, msgenc.MaxSmallField),
		TTL:       rng.Uint32(),
	}
}

// codecRandError returns an error with random valid UTF-8 text from several
// scripts, at most MaxErrorText bytes.
func codecRandError(rng *rand.Rand) *msgenc.Error {
	alphabet := []rune("aZ09 _-\"\\/\n\t\u0000éßøЖж漢字🙂\u2028\ufffd")
	var text []rune
	size := 0
	for n := codecRandLen(rng, 200); len(text) < n; {
		r := alphabet[rng.IntN(len(alphabet))]
		if size+len(string(r)) > msgenc.MaxErrorText {
			break
		}
		size += len(string(r))
		text = append(text, r)
	}
	return &msgenc.Error{Code: msgenc.ErrorCode(rng.Uint32()), Message: string(text)}
}
