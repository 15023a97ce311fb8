package msgenc

import "bytes"

// Equal reports whether a and b carry the same message. Nil and empty byte
// fields and lists are equal, since codecs decode empty fields as nil; a nil
// and a non-nil pointer field (Sender, a record, a body) differ.
func Equal(a, b *Message) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || a.TxID != b.TxID || !eqPtr(a.Sender, b.Sender, eqPeer) {
		return false
	}
	return eqPtr(a.Ping, b.Ping, func(*Ping, *Ping) bool { return true }) &&
		eqPtr(a.Pong, b.Pong, func(x, y *Pong) bool { return bytes.Equal(x.Observed, y.Observed) }) &&
		eqPtr(a.FindNode, b.FindNode, func(x, y *FindNode) bool { return bytes.Equal(x.Target, y.Target) }) &&
		eqPtr(a.Peers, b.Peers, func(x, y *Peers) bool { return eqPeers(x.Peers, y.Peers) }) &&
		eqPtr(a.FindValue, b.FindValue, func(x, y *FindValue) bool { return bytes.Equal(x.Key, y.Key) }) &&
		eqPtr(a.Value, b.Value, func(x, y *Value) bool {
			return eqValues(x.Records, y.Records) && eqPeers(x.Peers, y.Peers)
		}) &&
		eqPtr(a.Store, b.Store, func(x, y *Store) bool {
			return eqValue(&x.Record, &y.Record) && x.CAS == y.CAS && x.ExpectSeq == y.ExpectSeq
		}) &&
		eqPtr(a.StoreAck, b.StoreAck, func(x, y *StoreAck) bool { return *x == *y }) &&
		eqPtr(a.Error, b.Error, func(x, y *Error) bool { return *x == *y }) &&
		eqPtr(a.Forward, b.Forward, eqForward) &&
		eqPtr(a.ForwardReply, b.ForwardReply, func(x, y *ForwardReply) bool {
			return bytes.Equal(x.QueryID, y.QueryID) && x.Hops == y.Hops && x.Stored == y.Stored &&
				eqValues(x.Records, y.Records) && eqPeers(x.Peers, y.Peers) &&
				eqPtr(x.Error, y.Error, func(x, y *Error) bool { return *x == *y })
		})
}

func eqPtr[T any](a, b *T, eq func(a, b *T) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return eq(a, b)
}

func eqList(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func eqPeer(a, b *PeerRecord) bool {
	return bytes.Equal(a.ID, b.ID) && bytes.Equal(a.PublicKey, b.PublicKey) && eqList(a.Addrs, b.Addrs) &&
		a.Seq == b.Seq && bytes.Equal(a.Signature, b.Signature)
}

func eqPeers(a, b []PeerRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eqPeer(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

func eqValue(a, b *ValueRecord) bool {
	return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) && bytes.Equal(a.Publisher, b.Publisher) &&
		bytes.Equal(a.Salt, b.Salt) && a.Seq == b.Seq && bytes.Equal(a.Signature, b.Signature) && a.TTL == b.TTL
}

func eqValues(a, b []ValueRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !eqValue(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

func eqForward(a, b *Forward) bool {
	return bytes.Equal(a.QueryID, b.QueryID) && a.Mode == b.Mode && a.HopBudget == b.HopBudget &&
		a.ProxyHops == b.ProxyHops && eqList(a.Visited, b.Visited) && eqList(a.ReplyTo, b.ReplyTo) &&
		a.Op == b.Op && bytes.Equal(a.Target, b.Target) && eqPtr(a.Record, b.Record, eqValue) &&
		a.CAS == b.CAS && a.ExpectSeq == b.ExpectSeq && bytes.Equal(a.Salt, b.Salt) && a.Fanout == b.Fanout
}
