package conformance

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecDiff names the first field where a and b differ, treating nil and
// empty slices as equal as msgenc.Equal does; "" when they are equal.
func codecDiff(a, b *msgenc.Message) string {
	return codecDiffValue("message", reflect.ValueOf(a), reflect.ValueOf(b))
}

func codecDiffValue(path string, a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s (nil %t vs %t)", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return codecDiffValue(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			name := a.Type().Field(i).Name
			if d := codecDiffValue(path+"."+name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s (length %d vs %d)", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := codecDiffValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if a.Interface() != b.Interface() {
			return fmt.Sprintf("%s (%v vs %v)", path, codecClipAny(a.Interface()), codecClipAny(b.Interface()))
		}
		return ""
	}
}

func codecClipAny(v any) any {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", codecClip(s))
	}
	return v
}

// codecNonNilEmpty names the first byte field or list in m that is empty
// but not nil; "" when there is none.
func codecNonNilEmpty(m *msgenc.Message) string {
	return codecFindNonNilEmpty("message", reflect.ValueOf(m))
}

func codecFindNonNilEmpty(path string, v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return codecFindNonNilEmpty(path, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if p := codecFindNonNilEmpty(path+"."+v.Type().Field(i).Name, v.Field(i)); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if !v.IsNil() && v.Len() == 0 {
			return path
		}
		for i := range v.Len() {
			if p := codecFindNonNilEmpty(fmt.Sprintf("%s[%d]", path, i), v.Index(i)); p != "" {
				return p
			}
		}
	}
	return ""
}

type codecInvalid struct {
	what string
	m    *msgenc.Message
}

// codecInvalidMessages returns messages that fail Validate, one rule each.
func codecInvalidMessages() []codecInvalid {
	big := func(n int) []byte { return make([]byte, n) }
	peers := func(n int) []msgenc.PeerRecord { return make([]msgenc.PeerRecord, n) }
	list := func(n, size int) [][]byte {
		l := make([][]byte, n)
		for i := range l {
			l[i] = big(size)
		}
		return l
	}
	fwd := func(f msgenc.Forward) *msgenc.Message {
		return &msgenc.Message{Kind: msgenc.KindForward, Forward: &f}
	}
	return []codecInvalid{
		{"nil message", nil},
		{"kind 0", &msgenc.Message{Ping: &msgenc.Ping{}}},
		{"unknown kind", &msgenc.Message{Kind: 99, Ping: &msgenc.Ping{}}},
		{"no body", &msgenc.Message{Kind: msgenc.KindPing}},
		{"another kind's body", &msgenc.Message{Kind: msgenc.KindPing, Pong: &msgenc.Pong{}}},
		{"two bodies", &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}, Pong: &msgenc.Pong{}}},
		{"sender ID over MaxKeySize", &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{},
			Sender: &msgenc.PeerRecord{ID: big(msgenc.MaxKeySize + 1)}}},
		{"sender with too many addrs", &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{},
			Sender: &msgenc.PeerRecord{Addrs: list(msgenc.MaxAddrs+1, 1)}}},
		{"sender addr over MaxAddrSize", &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{},
			Sender: &msgenc.PeerRecord{Addrs: list(1, msgenc.MaxAddrSize+1)}}},
		{"signature over MaxSmallField", &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{},
			Sender: &msgenc.PeerRecord{Signature: big(msgenc.MaxSmallField + 1)}}},
		{"observed over MaxAddrSize", &msgenc.Message{Kind: msgenc.KindPong,
			Pong: &msgenc.Pong{Observed: big(msgenc.MaxAddrSize + 1)}}},
		{"target over MaxKeySize", &msgenc.Message{Kind: msgenc.KindFindNode,
			FindNode: &msgenc.FindNode{Target: big(msgenc.MaxKeySize + 1)}}},
		{"too many peers", &msgenc.Message{Kind: msgenc.KindPeers,
			Peers: &msgenc.Peers{Peers: peers(msgenc.MaxPeers + 1)}}},
		{"value over MaxValueSize", &msgenc.Message{Kind: msgenc.KindStore,
			Store: &msgenc.Store{Record: msgenc.ValueRecord{Value: big(msgenc.MaxValueSize + 1)}}}},
		{"value record key over MaxKeySize", &msgenc.Message{Kind: msgenc.KindValue,
			Value: &msgenc.Value{Records: []msgenc.ValueRecord{{Key: big(msgenc.MaxKeySize + 1)}}}}},
		{"too many value records", &msgenc.Message{Kind: msgenc.KindValue,
			Value: &msgenc.Value{Records: make([]msgenc.ValueRecord, msgenc.MaxRecords+1)}}},
		{"error text over MaxErrorText", &msgenc.Message{Kind: msgenc.KindError,
			Error: &msgenc.Error{Message: strings.Repeat("x", msgenc.MaxErrorText+1)}}},
		{"error text not UTF-8", &msgenc.Message{Kind: msgenc.KindError,
			Error: &msgenc.Error{Message: "bad \xff\xfe text"}}},
		{"forward-reply error text not UTF-8", &msgenc.Message{Kind: msgenc.KindForwardReply,
			ForwardReply: &msgenc.ForwardReply{Error: &msgenc.Error{Message: "\xc3"}}}},
		{"proxied forward with reply-to", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode, ReplyTo: [][]byte{{1}}})},
		{"forward mode 0", fwd(msgenc.Forward{Op: msgenc.KindFindNode})},
		{"forward mode unknown", fwd(msgenc.Forward{Mode: math.MaxUint8, Op: msgenc.KindFindNode})},
		{"forward op ping", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindPing})},
		{"forwarded store without record", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindStore})},
		{"forwarded find-node with record", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode,
			Record: &msgenc.ValueRecord{}})},
		{"forward visiting too many", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode,
			Visited: list(msgenc.MaxVisited+1, 1)})},
		{"forward salt over MaxQuerySalt", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode,
			Salt: make([]byte, msgenc.MaxQuerySalt+1)})},
		{"forward fanout over MaxFanout", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode,
			Fanout: msgenc.MaxFanout + 1})},
		{"forward reply-to too many", fwd(msgenc.Forward{Mode: msgenc.ModeProxied, Op: msgenc.KindFindNode,
			ReplyTo: list(msgenc.MaxAddrs+1, 1)})},
		{"forward-reply error text over MaxErrorText", &msgenc.Message{Kind: msgenc.KindForwardReply,
			ForwardReply: &msgenc.ForwardReply{Error: &msgenc.Error{Message: strings.Repeat("x", msgenc.MaxErrorText+1)}}}},
		{"forward-reply too many peers", &msgenc.Message{Kind: msgenc.KindForwardReply,
			ForwardReply: &msgenc.ForwardReply{Peers: peers(msgenc.MaxPeers + 1)}}},
	}
}
