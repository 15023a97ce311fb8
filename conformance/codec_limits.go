package conformance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecLimit is one documented protocol limit: build returns a valid
// message with the limited field at n (bytes or entries), so that
// build(limit) is exactly at the limit and build(limit+1) just past it.
type codecLimit struct {
	what  string
	limit int
	build func(n int) *msgenc.Message
}

// codecLimits lists every limit of msgenc/limits.go that a field of a
// Message carries, each on an otherwise small message so that a failure
// names one limit.
func codecLimits() []codecLimit {
	ping := func(f func(m *msgenc.Message)) *msgenc.Message {
		m := &msgenc.Message{Kind: msgenc.KindPing, TxID: 1, Ping: &msgenc.Ping{}}
		f(m)
		return m
	}
	sender := func(f func(p *msgenc.PeerRecord)) *msgenc.Message {
		p := &msgenc.PeerRecord{ID: codecFill(32, 1), Seq: 7}
		f(p)
		return ping(func(m *msgenc.Message) { m.Sender = p })
	}
	list := func(n, size, seed int) [][]byte {
		l := make([][]byte, n)
		for i := range l {
			l[i] = codecFill(size, seed+i)
		}
		return l
	}
	peers := func(n int) []msgenc.PeerRecord {
		ps := make([]msgenc.PeerRecord, n)
		for i := range ps {
			ps[i] = msgenc.PeerRecord{ID: codecFill(32, i), Addrs: list(1, 8, i), Seq: uint64(i)}
		}
		return ps
	}
	records := func(n int) []msgenc.ValueRecord {
		rs := make([]msgenc.ValueRecord, n)
		for i := range rs {
			rs[i] = msgenc.ValueRecord{Key: codecFill(32, i), Value: codecFill(16, i), Seq: uint64(i)}
		}
		return rs
	}
	store := func(f func(r *msgenc.ValueRecord)) *msgenc.Message {
		r := msgenc.ValueRecord{Key: codecFill(32, 1), Value: codecFill(8, 2)}
		f(&r)
		return &msgenc.Message{Kind: msgenc.KindStore, TxID: 2, Store: &msgenc.Store{Record: r}}
	}
	fwd := func(f func(fw *msgenc.Forward)) *msgenc.Message {
		fw := &msgenc.Forward{QueryID: codecFill(16, 1), Mode: msgenc.ModeMixed, Op: msgenc.KindFindValue,
			Target: codecFill(32, 2)}
		f(fw)
		return &msgenc.Message{Kind: msgenc.KindForward, TxID: 3, Forward: fw}
	}
	reply := func(f func(r *msgenc.ForwardReply)) *msgenc.Message {
		r := &msgenc.ForwardReply{QueryID: codecFill(16, 1)}
		f(r)
		return &msgenc.Message{Kind: msgenc.KindForwardReply, TxID: 4, ForwardReply: r}
	}
	// text is n bytes of UTF-8 made of two-byte runes, with one ASCII byte
	// when n is odd, so the limit is counted in bytes, not runes.
	text := func(n int) string { return strings.Repeat("x", n%2) + strings.Repeat("é", n/2) }
	var ls []codecLimit
	add := func(what string, limit int, build func(n int) *msgenc.Message) {
		ls = append(ls, codecLimit{what, limit, build})
	}
	add("token (MaxTokenSize)", msgenc.MaxTokenSize, func(n int) *msgenc.Message {
		return ping(func(m *msgenc.Message) { m.Token = codecFill(n, 1) })
	})
	add("pad (MaxPadSize)", msgenc.MaxPadSize, func(n int) *msgenc.Message {
		return ping(func(m *msgenc.Message) { m.Pad = codecFill(n, 2) })
	})
	add("sender ID (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return sender(func(p *msgenc.PeerRecord) { p.ID = codecFill(n, 3) })
	})
	add("sender public key (MaxSmallField)", msgenc.MaxSmallField, func(n int) *msgenc.Message {
		return sender(func(p *msgenc.PeerRecord) { p.PublicKey = codecFill(n, 4) })
	})
	add("sender signature (MaxSmallField)", msgenc.MaxSmallField, func(n int) *msgenc.Message {
		return sender(func(p *msgenc.PeerRecord) { p.Signature = codecFill(n, 5) })
	})
	add("sender addrs (MaxAddrs)", msgenc.MaxAddrs, func(n int) *msgenc.Message {
		return sender(func(p *msgenc.PeerRecord) { p.Addrs = list(n, 8, 6) })
	})
	add("sender addr (MaxAddrSize)", msgenc.MaxAddrSize, func(n int) *msgenc.Message {
		return sender(func(p *msgenc.PeerRecord) { p.Addrs = [][]byte{codecFill(4, 7), codecFill(n, 8)} })
	})
	add("pong observed address (MaxAddrSize)", msgenc.MaxAddrSize, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindPong, Pong: &msgenc.Pong{Observed: codecFill(n, 9)}}
	})
	add("find-node target (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: codecFill(n, 10)}}
	})
	add("find-value key (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: codecFill(n, 11)}}
	})
	add("peers of a Peers reply (MaxPeers)", msgenc.MaxPeers, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: peers(n)}}
	})
	add("records of a Value reply (MaxRecords)", msgenc.MaxRecords, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindValue, Value: &msgenc.Value{Records: records(n)}}
	})
	add("peers of a Value reply (MaxPeers)", msgenc.MaxPeers, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindValue, Value: &msgenc.Value{Records: records(1), Peers: peers(n)}}
	})
	add("stored value (MaxValueSize)", msgenc.MaxValueSize, func(n int) *msgenc.Message {
		return store(func(r *msgenc.ValueRecord) { r.Value = codecFill(n, 12) })
	})
	add("stored key (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return store(func(r *msgenc.ValueRecord) { r.Key = codecFill(n, 13) })
	})
	add("stored publisher (MaxSmallField)", msgenc.MaxSmallField, func(n int) *msgenc.Message {
		return store(func(r *msgenc.ValueRecord) { r.Publisher = codecFill(n, 14) })
	})
	add("stored salt (MaxSmallField)", msgenc.MaxSmallField, func(n int) *msgenc.Message {
		return store(func(r *msgenc.ValueRecord) { r.Salt = codecFill(n, 15) })
	})
	add("stored signature (MaxSmallField)", msgenc.MaxSmallField, func(n int) *msgenc.Message {
		return store(func(r *msgenc.ValueRecord) { r.Signature = codecFill(n, 16) })
	})
	add("error text in bytes (MaxErrorText)", msgenc.MaxErrorText, func(n int) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindError, Error: &msgenc.Error{Code: msgenc.CodeNotFound, Message: text(n)}}
	})
	add("forward query ID (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.QueryID = codecFill(n, 17) })
	})
	add("forward visited (MaxVisited)", msgenc.MaxVisited, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.Visited = list(n, msgenc.VisitedTagSize, 18) })
	})
	add("forward visited entry (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.Visited = [][]byte{codecFill(16, 19), codecFill(n, 20)} })
	})
	add("forward reply-to (MaxAddrs)", msgenc.MaxAddrs, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.ReplyTo = list(n, 8, 21) })
	})
	add("forward reply-to address (MaxAddrSize)", msgenc.MaxAddrSize, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.ReplyTo = [][]byte{codecFill(n, 22)} })
	})
	add("forward salt (MaxQuerySalt)", msgenc.MaxQuerySalt, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.Salt = codecFill(n, 23) })
	})
	add("forward fan-out (MaxFanout)", msgenc.MaxFanout, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.Fanout = uint8(n) })
	})
	add("forward target (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) { f.Target = codecFill(n, 24) })
	})
	add("forwarded store's value (MaxValueSize)", msgenc.MaxValueSize, func(n int) *msgenc.Message {
		return fwd(func(f *msgenc.Forward) {
			f.Op, f.Record = msgenc.KindStore, &msgenc.ValueRecord{Key: codecFill(32, 25), Value: codecFill(n, 26)}
		})
	})
	add("forward-reply records (MaxRecords)", msgenc.MaxRecords, func(n int) *msgenc.Message {
		return reply(func(r *msgenc.ForwardReply) { r.Records = records(n) })
	})
	add("forward-reply peers (MaxPeers)", msgenc.MaxPeers, func(n int) *msgenc.Message {
		return reply(func(r *msgenc.ForwardReply) { r.Peers = peers(n) })
	})
	add("forward-reply error text in bytes (MaxErrorText)", msgenc.MaxErrorText, func(n int) *msgenc.Message {
		return reply(func(r *msgenc.ForwardReply) { r.Error = &msgenc.Error{Code: msgenc.CodeHopLimit, Message: text(n)} })
	})
	add("forward-reply query ID (MaxKeySize)", msgenc.MaxKeySize, func(n int) *msgenc.Message {
		return reply(func(r *msgenc.ForwardReply) { r.QueryID = codecFill(n, 27) })
	})
	return ls
}

// codecCheckLimits checks both sides of every limit: the message exactly
// at it round-trips unchanged, and the one just past it is refused. The
// Codec contract has Marshal validate, so Marshal must refuse it with
// msgenc.ErrInvalid; when a codec encodes it anyway, its own decoder must at
// least refuse the frame, and the report says which side let it through.
func codecCheckLimits(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	for _, l := range codecLimits() {
		at, want := l.build(l.limit), l.build(l.limit)
		if err := at.Validate(); err != nil {
			return fmt.Errorf("suite bug: %s at its limit %d: %w", l.what, l.limit, err)
		}
		got, err := codecRoundTrip(c, at)
		if err != nil {
			return fmt.Errorf("%s exactly at its limit %d: %w", l.what, l.limit, err)
		}
		if !msgenc.Equal(got, want) {
			return fmt.Errorf("%s exactly at its limit %d decoded differently (at %s)", l.what, l.limit, codecDiff(got, want))
		}
		past := l.build(l.limit + 1)
		if past.Validate() == nil {
			return fmt.Errorf("suite bug: %s at %d passes Validate", l.what, l.limit+1)
		}
		frame, err := codecMarshal(c, past)
		if err == nil {
			_, uerr := codecUnmarshal(c, frame)
			side := "and Unmarshal accepts that frame"
			if codecDecodeError(uerr) {
				side = "(Unmarshal refuses it)"
			}
			return fmt.Errorf("Marshal of %s one past its limit (%d) returned a %d-byte frame, want an error wrapping msgenc.ErrInvalid %s", l.what, l.limit+1, len(frame), side)
		}
		if !errors.Is(err, msgenc.ErrInvalid) {
			return fmt.Errorf("Marshal of %s one past its limit (%d): %w, want an error wrapping msgenc.ErrInvalid", l.what, l.limit+1, err)
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// codecLargestFrame returns a valid message whose frame in c is exactly
// msgenc.MaxFrameSize bytes, or the largest it found no larger, and that
// frame. It grows a Value reply's last record and then tunes the frame a
// byte at a time through the transaction ID's width, which every built-in
// encoding writes in a size that depends on its value.
func codecLargestFrame(c msgenc.Codec) (*msgenc.Message, []byte, error) {
	build := func(records, last int, tx uint64) *msgenc.Message {
		rs := make([]msgenc.ValueRecord, records)
		for i := range rs {
			rs[i] = msgenc.ValueRecord{Key: codecFill(32, i), Value: codecFill(msgenc.MaxValueSize, i)}
		}
		rs[len(rs)-1].Value = rs[len(rs)-1].Value[:last]
		return &msgenc.Message{Kind: msgenc.KindValue, TxID: tx, Value: &msgenc.Value{Records: rs}}
	}
	// size is the frame's length, or MaxFrameSize+1 when Marshal refuses it
	// as too large to frame.
	size := func(m *msgenc.Message) (int, []byte, error) {
		b, err := codecMarshal(c, m)
		if errors.Is(err, msgenc.ErrInvalid) {
			return msgenc.MaxFrameSize + 1, nil, nil
		}
		return len(b), b, err
	}
	for records := 1; records <= msgenc.MaxRecords; records++ {
		n, _, err := size(build(records, msgenc.MaxValueSize, 0))
		if err != nil {
			return nil, nil, err
		}
		if n <= msgenc.MaxFrameSize {
			continue
		}
		lo, hi := 0, msgenc.MaxValueSize // size(lo) fits, size(hi) does not
		if n, _, err := size(build(records, 0, 0)); err != nil || n > msgenc.MaxFrameSize {
			return nil, nil, fmt.Errorf("a Value reply of %d records does not fit a frame: %v", records, err)
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			n, _, err := size(build(records, mid, 0))
			if err != nil {
				return nil, nil, err
			}
			if n <= msgenc.MaxFrameSize {
				lo = mid
			} else {
				hi = mid
			}
		}
		var best *msgenc.Message
		var bestFrame []byte
		for last := lo; last >= 0 && last > lo-8; last-- {
			for tx := uint64(0); ; tx = tx*10 + 9 {
				m := build(records, last, tx)
				n, b, err := size(m)
				if err != nil {
					return nil, nil, err
				}
				if n <= msgenc.MaxFrameSize && len(b) > len(bestFrame) {
					best, bestFrame = m, b
				}
				if n == msgenc.MaxFrameSize || tx > 1<<60 {
					break
				}
			}
			if len(bestFrame) == msgenc.MaxFrameSize {
				break
			}
		}
		return best, bestFrame, nil
	}
	return nil, nil, errors.New("no Value reply of MaxRecords maximal records fills a frame")
}

// codecCheckLargestFrame checks the exact edge of the frame size limit:
// the largest frame Marshal makes (exactly msgenc.MaxFrameSize bytes in
// every built-in codec) decodes to the message, and input of exactly
// MaxFrameSize bytes is not refused as too large.
func codecCheckLargestFrame(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	m, frame, err := codecLargestFrame(c)
	if err != nil {
		return fmt.Errorf("looking for the largest frame: %w", err)
	}
	got, err := codecUnmarshal(c, frame)
	if err != nil {
		return fmt.Errorf("Unmarshal of a valid %d-byte frame (MaxFrameSize is %d): %w", len(frame), msgenc.MaxFrameSize, err)
	}
	if !msgenc.Equal(got, m) {
		return fmt.Errorf("a %d-byte frame decoded differently (at %s)", len(frame), codecDiff(got, m))
	}
	_, err = codecUnmarshal(c, make([]byte, msgenc.MaxFrameSize))
	if errors.Is(err, msgenc.ErrTooLarge) {
		return fmt.Errorf("Unmarshal of exactly MaxFrameSize bytes: %w; only input over MaxFrameSize is too large", err)
	}
	return nil
}
