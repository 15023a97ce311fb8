package msgenc

import (
	"fmt"
	"unicode/utf8"
)

// Validate checks that m has exactly the body its Kind names and that every
// field is within the protocol limits. Codecs call it on both sides.
func (m *Message) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrInvalid)
	}
	if !m.Kind.Valid() {
		return fmt.Errorf("%w: unknown kind %d", ErrInvalid, m.Kind)
	}
	if n := m.bodies(); n != 1 {
		return fmt.Errorf("%w: %s message has %d bodies, want 1", ErrInvalid, m.Kind, n)
	}
	if m.body() == nil {
		return fmt.Errorf("%w: %s message carries another kind's body", ErrInvalid, m.Kind)
	}
	if m.Sender != nil {
		if err := m.Sender.validate("sender"); err != nil {
			return err
		}
	}
	switch m.Kind {
	case KindPong:
		return checkLen("pong.observed", m.Pong.Observed, MaxAddrSize)
	case KindFindNode:
		return checkLen("find-node.target", m.FindNode.Target, MaxKeySize)
	case KindPeers:
		return validatePeers("peers", m.Peers.Peers)
	case KindFindValue:
		return checkLen("find-value.key", m.FindValue.Key, MaxKeySize)
	case KindValue:
		if err := validateRecords("value.records", m.Value.Records); err != nil {
			return err
		}
		return validatePeers("value.peers", m.Value.Peers)
	case KindStore:
		return m.Store.Record.validate("store.record")
	case KindError:
		return m.Error.validate("error")
	case KindForward:
		return m.Forward.validate()
	case KindForwardReply:
		return m.ForwardReply.validate()
	}
	return nil
}

func (m *Message) bodies() int {
	n := 0
	for _, set := range [...]bool{
		m.Ping != nil, m.Pong != nil, m.FindNode != nil, m.Peers != nil, m.FindValue != nil,
		m.Value != nil, m.Store != nil, m.StoreAck != nil, m.Error != nil, m.Forward != nil,
		m.ForwardReply != nil,
	} {
		if set {
			n++
		}
	}
	return n
}

// body returns the body matching Kind, or nil when that one is unset.
func (m *Message) body() any {
	switch m.Kind {
	case KindPing:
		return nilIf(m.Ping)
	case KindPong:
		return nilIf(m.Pong)
	case KindFindNode:
		return nilIf(m.FindNode)
	case KindPeers:
		return nilIf(m.Peers)
	case KindFindValue:
		return nilIf(m.FindValue)
	case KindValue:
		return nilIf(m.Value)
	case KindStore:
		return nilIf(m.Store)
	case KindStoreAck:
		return nilIf(m.StoreAck)
	case KindError:
		return nilIf(m.Error)
	case KindForward:
		return nilIf(m.Forward)
	case KindForwardReply:
		return nilIf(m.ForwardReply)
	}
	return nil
}

func nilIf[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

func checkLen(field string, b []byte, max int) error { return checkSub(field, "", b, max) }

// checkSub checks a field named prefix+name; the name is only joined when
// reporting, so that valid messages validate without allocating.
func checkSub(prefix, name string, b []byte, max int) error {
	if len(b) > max {
		return fmt.Errorf("%w: %s%s is %d bytes, at most %d", ErrInvalid, prefix, name, len(b), max)
	}
	return nil
}

func checkList(field string, l [][]byte, maxItems, maxItem int) error {
	return checkSubList(field, "", l, maxItems, maxItem)
}

func checkSubList(prefix, name string, l [][]byte, maxItems, maxItem int) error {
	if len(l) > maxItems {
		return fmt.Errorf("%w: %s%s has %d entries, at most %d", ErrInvalid, prefix, name, len(l), maxItems)
	}
	for _, b := range l {
		if err := checkSub(prefix, name, b, maxItem); err != nil {
			return err
		}
	}
	return nil
}

func (p *PeerRecord) validate(field string) error {
	if err := checkSub(field, ".id", p.ID, MaxKeySize); err != nil {
		return err
	}
	if err := checkSub(field, ".public-key", p.PublicKey, MaxSmallField); err != nil {
		return err
	}
	if err := checkSub(field, ".signature", p.Signature, MaxSmallField); err != nil {
		return err
	}
	return checkSubList(field, ".addrs", p.Addrs, MaxAddrs, MaxAddrSize)
}

func validatePeers(field string, ps []PeerRecord) error {
	if len(ps) > MaxPeers {
		return fmt.Errorf("%w: %s has %d entries, at most %d", ErrInvalid, field, len(ps), MaxPeers)
	}
	for i := range ps {
		if err := ps[i].validate(field); err != nil {
			return err
		}
	}
	return nil
}

func validateRecords(field string, rs []ValueRecord) error {
	if len(rs) > MaxRecords {
		return fmt.Errorf("%w: %s has %d entries, at most %d", ErrInvalid, field, len(rs), MaxRecords)
	}
	for i := range rs {
		if err := rs[i].validate(field); err != nil {
			return err
		}
	}
	return nil
}

func (v *ValueRecord) validate(field string) error {
	if err := checkSub(field, ".key", v.Key, MaxKeySize); err != nil {
		return err
	}
	if err := checkSub(field, ".value", v.Value, MaxValueSize); err != nil {
		return err
	}
	if err := checkSub(field, ".publisher", v.Publisher, MaxSmallField); err != nil {
		return err
	}
	if err := checkSub(field, ".salt", v.Salt, MaxSmallField); err != nil {
		return err
	}
	return checkSub(field, ".signature", v.Signature, MaxSmallField)
}

func (f *Forward) validate() error {
	if err := checkLen("forward.query-id", f.QueryID, MaxKeySize); err != nil {
		return err
	}
	if f.Mode < ModeProxied || f.Mode > ModeMixed {
		return fmt.Errorf("%w: forward.mode %d unknown", ErrInvalid, f.Mode)
	}
	if err := checkList("forward.visited", f.Visited, MaxVisited, MaxKeySize); err != nil {
		return err
	}
	if err := checkList("forward.reply-to", f.ReplyTo, MaxAddrs, MaxAddrSize); err != nil {
		return err
	}
	if err := checkLen("forward.salt", f.Salt, MaxQuerySalt); err != nil {
		return err
	}
	if f.Fanout > MaxFanout {
		return fmt.Errorf("%w: forward.fanout %d over %d", ErrInvalid, f.Fanout, MaxFanout)
	}
	// A proxied query must not carry an address to reply to: hiding the
	// originator's address from far hops is the mode's promise.
	if f.Mode == ModeProxied && len(f.ReplyTo) > 0 {
		return fmt.Errorf("%w: proxied forward carries reply-to addresses", ErrInvalid)
	}
	switch f.Op {
	case KindFindNode, KindFindValue:
		if f.Record != nil {
			return fmt.Errorf("%w: forwarded %s carries a record", ErrInvalid, f.Op)
		}
		if f.CAS || f.ExpectSeq != 0 {
			return fmt.Errorf("%w: forwarded %s carries a compare-and-swap", ErrInvalid, f.Op)
		}
	case KindStore:
		if f.Record == nil {
			return fmt.Errorf("%w: forwarded store carries no record", ErrInvalid)
		}
		if err := f.Record.validate("forward.record"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: forward.op %s cannot be forwarded", ErrInvalid, f.Op)
	}
	return checkLen("forward.target", f.Target, MaxKeySize)
}

func (r *ForwardReply) validate() error {
	if err := checkLen("forward-reply.query-id", r.QueryID, MaxKeySize); err != nil {
		return err
	}
	if err := validateRecords("forward-reply.records", r.Records); err != nil {
		return err
	}
	if r.Error != nil {
		if err := r.Error.validate("forward-reply.error"); err != nil {
			return err
		}
	}
	return validatePeers("forward-reply.peers", r.Peers)
}

// validate bounds an error's text and requires UTF-8, which every text
// encoding (JSON, CBOR) can carry unchanged.
func (e *Error) validate(field string) error {
	if len(e.Message) > MaxErrorText {
		return fmt.Errorf("%w: %s text is %d bytes, at most %d", ErrInvalid, field, len(e.Message), MaxErrorText)
	}
	if !utf8.ValidString(e.Message) {
		return fmt.Errorf("%w: %s text is not UTF-8", ErrInvalid, field)
	}
	return nil
}
