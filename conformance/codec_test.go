package conformance_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/msgenc/json"
)

// codecDropsSeq loses the sender's sequence number on the way in.
type codecDropsSeq struct{ msgenc.Codec }

func (c codecDropsSeq) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if m != nil && m.Sender != nil {
		m.Sender.Seq = 0
	}
	return m, err
}

// codecTruncatesPeers keeps at most 8 peers of a Peers reply.
type codecTruncatesPeers struct{ msgenc.Codec }

func (c codecTruncatesPeers) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if m != nil && m.Peers != nil && len(m.Peers.Peers) > 8 {
		m.Peers.Peers = m.Peers.Peers[:8]
	}
	return m, err
}

// codecAliases decodes correctly, then points the peer IDs and keys at
// their bytes inside the input, as a zero-copy decoder would.
type codecAliases struct{ msgenc.Codec }

func (c codecAliases) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if err != nil {
		return m, err
	}
	alias := func(b []byte) []byte {
		if i := bytes.Index(data, b); len(b) > 0 && i >= 0 {
			return data[i : i+len(b) : i+len(b)]
		}
		return b
	}
	records := []*msgenc.PeerRecord{m.Sender}
	if m.Peers != nil {
		for i := range m.Peers.Peers {
			records = append(records, &m.Peers.Peers[i])
		}
	}
	for _, r := range records {
		if r != nil {
			r.ID, r.PublicKey = alias(r.ID), alias(r.PublicKey)
		}
	}
	return m, nil
}

// codecPanicsOnEmpty panics on an empty frame instead of failing.
type codecPanicsOnEmpty struct{ msgenc.Codec }

func (c codecPanicsOnEmpty) Unmarshal(data []byte) (*msgenc.Message, error) {
	if len(data) == 0 {
		panic("no data")
	}
	return c.Codec.Unmarshal(data)
}

// codecPlainErrors fails without wrapping the msgenc sentinels (within the
// size limit, which it leaves to the codec it wraps).
type codecPlainErrors struct{ msgenc.Codec }

var codecErrPlain = errors.New("bad frame")

func (c codecPlainErrors) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if err != nil && len(data) <= msgenc.MaxFrameSize {
		return nil, codecErrPlain
	}
	return m, err
}

// codecNoSizeLimit skips the frame size check and, like a text decoder,
// ignores trailing white space.
type codecNoSizeLimit struct{ msgenc.Codec }

func (c codecNoSizeLimit) Unmarshal(data []byte) (*msgenc.Message, error) {
	if len(data) > msgenc.MaxFrameSize {
		data = bytes.TrimRight(data, " ")
	}
	return c.Codec.Unmarshal(data)
}

// codecSkipsValidate encodes whatever it is given, valid or not, as a
// made-up frame.
type codecSkipsValidate struct{ msgenc.Codec }

func (c codecSkipsValidate) Marshal(m *msgenc.Message) ([]byte, error) {
	if m.Validate() != nil {
		return []byte("frame"), nil
	}
	return c.Codec.Marshal(m)
}

// codecEmptyNotNil decodes a missing sender signature as an empty slice.
type codecEmptyNotNil struct{ msgenc.Codec }

func (c codecEmptyNotNil) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if m != nil && m.Sender != nil && m.Sender.Signature == nil {
		m.Sender.Signature = []byte{}
	}
	return m, err
}

// codecCachesFrames hands out the same frame for the same message, so a
// caller's change to one result shows up in the next.
type codecCachesFrames struct {
	msgenc.Codec
	mu     *sync.Mutex
	frames map[*msgenc.Message][]byte
}

func (c codecCachesFrames) Marshal(m *msgenc.Message) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.frames[m]; ok {
		return b, nil
	}
	b, err := c.Codec.Marshal(m)
	if err == nil {
		c.frames[m] = b
	}
	return b, err
}

// codecSharedResult parks each decoded message in one shared field and
// reads it back later: right when called one at a time, wrong when
// goroutines interleave. The mutex keeps it free of data races, so only the
// suite, not the race detector, can catch it.
type codecSharedResult struct {
	msgenc.Codec
	mu   *sync.Mutex
	last **msgenc.Message
}

func (c codecSharedResult) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	*c.last = m
	c.mu.Unlock()
	runtime.Gosched()
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.last, nil
}

// codecNoName has no name to show in logs.
type codecNoName struct{ msgenc.Codec }

func (codecNoName) Name() string { return "" }

// codecPadsLargeFrames pads frames over 700 KiB past MaxFrameSize, as a
// codec that never checks its output size would produce them.
type codecPadsLargeFrames struct{ msgenc.Codec }

func (c codecPadsLargeFrames) Marshal(m *msgenc.Message) ([]byte, error) {
	b, err := c.Codec.Marshal(m)
	if err == nil && len(b) > 700<<10 {
		b = append(b, make([]byte, 400<<10)...)
	}
	return b, err
}

// codecAcceptsPrefixes decodes a cut-short frame as the whole one, as a
// decoder that pads missing bytes would. It remembers its frames to know.
type codecAcceptsPrefixes struct {
	msgenc.Codec
	mu     *sync.Mutex
	frames *[][]byte
}

func (c codecAcceptsPrefixes) Marshal(m *msgenc.Message) ([]byte, error) {
	b, err := c.Codec.Marshal(m)
	if err == nil {
		c.mu.Lock()
		*c.frames = append(*c.frames, bytes.Clone(b))
		c.mu.Unlock()
	}
	return b, err
}

func (c codecAcceptsPrefixes) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if err == nil || len(data) == 0 {
		return m, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range *c.frames {
		if len(data) < len(f) && bytes.HasPrefix(f, data) {
			return c.Codec.Unmarshal(f)
		}
	}
	return m, err
}

// codecGivesUpDeep answers a ping for input that opens more nested lists
// than it cares to parse, instead of failing.
type codecGivesUpDeep struct{ msgenc.Codec }

func (c codecGivesUpDeep) Unmarshal(data []byte) (*msgenc.Message, error) {
	for _, open := range []byte{'[', 'l', 0x81} {
		if len(data) > msgenc.MaxNesting && bytes.Count(data[:msgenc.MaxNesting+1], []byte{open}) == msgenc.MaxNesting+1 {
			return &msgenc.Message{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}}, nil
		}
	}
	return c.Codec.Unmarshal(data)
}

// codecClipsToken encodes a token over MaxTokenSize cut down to the limit
// instead of refusing the message.
type codecClipsToken struct{ msgenc.Codec }

func (c codecClipsToken) Marshal(m *msgenc.Message) ([]byte, error) {
	if m != nil && len(m.Token) > msgenc.MaxTokenSize {
		clipped := *m
		clipped.Token = m.Token[:msgenc.MaxTokenSize]
		m = &clipped
	}
	return c.Codec.Marshal(m)
}

// codecTokenOffByOne refuses a token exactly at MaxTokenSize: a bound
// checked with >= where > was meant.
type codecTokenOffByOne struct{ msgenc.Codec }

func (c codecTokenOffByOne) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if m != nil && len(m.Token) >= msgenc.MaxTokenSize {
		return nil, fmt.Errorf("%w: token too long", msgenc.ErrInvalid)
	}
	return m, err
}

// codecFrameOffByOne refuses input of exactly MaxFrameSize bytes as too
// large.
type codecFrameOffByOne struct{ msgenc.Codec }

func (c codecFrameOffByOne) Unmarshal(data []byte) (*msgenc.Message, error) {
	if len(data) >= msgenc.MaxFrameSize {
		return nil, fmt.Errorf("%w: %w", msgenc.ErrDecode, msgenc.ErrTooLarge)
	}
	return c.Codec.Unmarshal(data)
}

// codecAppendDropsDst implements AppendMarshal by returning a fresh frame,
// losing what dst held.
type codecAppendDropsDst struct{ msgenc.Codec }

func (c codecAppendDropsDst) AppendMarshal(dst []byte, m *msgenc.Message) ([]byte, error) {
	return c.Codec.Marshal(m)
}

// codecAppendCountsDst appends correctly but applies the frame size limit
// to the whole buffer, dst's earlier bytes included, so the largest frame
// fails after a prefix.
type codecAppendCountsDst struct{ *cbor.Codec }

func (c codecAppendCountsDst) AppendMarshal(dst []byte, m *msgenc.Message) ([]byte, error) {
	b, err := c.Codec.AppendMarshal(dst, m)
	if err == nil && len(b) > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("%w: frame too large", msgenc.ErrInvalid)
	}
	return b, err
}

// codecKeepsLowBits decodes a number past its field's range by keeping
// the field's low bits, as a decoder that converts without a check would:
// a frame it cannot decode is retried with 256 and 65536 read as 0.
type codecKeepsLowBits struct{ msgenc.Codec }

func (c codecKeepsLowBits) Unmarshal(data []byte) (*msgenc.Message, error) {
	m, err := c.Codec.Unmarshal(data)
	if err == nil {
		return m, nil
	}
	wrapped := bytes.ReplaceAll(bytes.ReplaceAll(data, []byte(":65536"), []byte(":0")), []byte(":256"), []byte(":0"))
	if bytes.Equal(wrapped, data) {
		return m, err
	}
	return c.Codec.Unmarshal(wrapped)
}

// codecBroken is a broken codec and the rules its flaw breaks.
type codecBroken struct {
	name  string
	codec func() msgenc.Codec
	want  []string
}

// codecBrokenOpts are the options of the broken codecs that need any: Raw
// for the one in the json codec's format whose flaw only a hand-made frame
// shows.
var codecBrokenOpts = map[string][]conformance.CodecOptions{
	"drops fields it cannot accept": codecJSONRawOptions,
}

func codecBrokenCodecs() []codecBroken {
	base := func() msgenc.Codec { return cbor.New() }
	return []codecBroken{
		{"no name", func() msgenc.Codec { return codecNoName{base()} }, []string{"name"}},
		{"drops sender seq", func() msgenc.Codec { return codecDropsSeq{base()} }, []string{"round-trip", "limits-exact-edges"}},
		{"truncates peers", func() msgenc.Codec { return codecTruncatesPeers{base()} }, []string{"round-trip", "limits-exact-edges"}},
		{"empty not nil", func() msgenc.Codec { return codecEmptyNotNil{base()} }, []string{"empty-fields-decode-as-nil"}},
		{"pads large frames", func() msgenc.Codec { return codecPadsLargeFrames{base()} }, []string{"frame-within-max-size"}},
		{"clips an over-limit token", func() msgenc.Codec { return codecClipsToken{base()} }, []string{"limits-exact-edges"}},
		{"refuses a token at the limit", func() msgenc.Codec { return codecTokenOffByOne{base()} }, []string{"limits-exact-edges"}},
		{"refuses a frame at MaxFrameSize", func() msgenc.Codec { return codecFrameOffByOne{base()} }, []string{"largest-frame-decodes"}},
		{"append-marshal drops dst", func() msgenc.Codec { return codecAppendDropsDst{base()} }, []string{"append-marshal-matches-marshal"}},
		{"append-marshal counts dst in the frame limit", func() msgenc.Codec { return codecAppendCountsDst{cbor.New()} },
			[]string{"append-marshal-matches-marshal"}},
		{"keeps a number's low bits", func() msgenc.Codec { return codecKeepsLowBits{json.New()} },
			[]string{"numbers-past-their-range-refused"}},
		{"drops fields it cannot accept", func() msgenc.Codec { return codecDropsBadFields{json.New()} },
			[]string{"unmarshal-refuses-over-limit-frames"}},
		{"skips validate", func() msgenc.Codec { return codecSkipsValidate{base()} }, []string{"limits-exact-edges", "marshal-rejects-invalid"}},
		{"panics on empty frame", func() msgenc.Codec { return codecPanicsOnEmpty{base()} }, []string{"unmarshal-rejects-garbage"}},
		{"accepts prefixes", func() msgenc.Codec {
			return codecAcceptsPrefixes{base(), new(sync.Mutex), new([][]byte)}
		}, []string{"unmarshal-rejects-truncated"}},
		{"no size limit", func() msgenc.Codec { return codecNoSizeLimit{base()} }, []string{"unmarshal-rejects-oversized"}},
		{"gives up on deep input", func() msgenc.Codec { return codecGivesUpDeep{base()} }, []string{"unmarshal-rejects-deep-nesting"}},
		{"aliases input", func() msgenc.Codec { return codecAliases{base()} }, []string{"decoded-does-not-alias-input"}},
		{"caches frames", func() msgenc.Codec {
			return codecCachesFrames{base(), new(sync.Mutex), map[*msgenc.Message][]byte{}}
		}, []string{"marshal-output-not-retained"}},
		{"shares results", func() msgenc.Codec {
			return codecSharedResult{base(), new(sync.Mutex), new(*msgenc.Message)}
		}, []string{"concurrent-use"}},
		// Errors that wrap neither sentinel break every rule that feeds
		// bad input within the size limit.
		{"plain errors", func() msgenc.Codec { return codecPlainErrors{base()} },
			[]string{"unmarshal-rejects-garbage", "unmarshal-rejects-truncated", "unmarshal-rejects-deep-nesting"}},
	}
}

func TestCheckCodecReportsExactlyTheBrokenRule(t *testing.T) {
	for _, tc := range codecBrokenCodecs() {
		t.Run(tc.name, func(t *testing.T) {
			errs := conformance.CheckCodec(t, func(*testing.T) msgenc.Codec { return tc.codec() }, codecBrokenOpts[tc.name]...)
			var broken []string
			for _, err := range errs {
				if v, ok := err.(*conformance.Violation); ok {
					broken = append(broken, v.Rule)
				}
			}
			for _, rule := range tc.want {
				if !conformance.Broken(errs, rule) {
					t.Errorf("rule %q not reported", rule)
				}
			}
			if !slices.Equal(broken, tc.want) {
				t.Fatalf("broken rules %q, want exactly %q; violations:\n%v", broken, tc.want, errs)
			}
		})
	}
}

// codecJSONRawOptions give the suite this file's raw writer of the json
// codec's format.
var codecJSONRawOptions = []conformance.CodecOptions{{Raw: codecJSONRaw}}

func TestCheckCodecPassesBuiltins(t *testing.T) {
	for _, tc := range []struct {
		newCodec func() msgenc.Codec
		opts     []conformance.CodecOptions
	}{
		{func() msgenc.Codec { return json.New() }, codecJSONRawOptions},
		{func() msgenc.Codec { return cbor.New() }, nil},
		{func() msgenc.Codec { return bencode.New() }, nil},
	} {
		name := tc.newCodec().Name()
		t.Run(name, func(t *testing.T) {
			if errs := conformance.CheckCodec(t, func(*testing.T) msgenc.Codec { return tc.newCodec() }, tc.opts...); len(errs) != 0 {
				t.Fatalf("%s codec: %d violations:\n%v", name, len(errs), errs)
			}
		})
	}
}

// Every codec rule is broken by some broken codec of this file.
func TestEveryCodecRuleHasABrokenCodec(t *testing.T) {
	var wants [][]string
	for _, c := range codecBrokenCodecs() {
		wants = append(wants, c.want)
	}
	everyRuleBroken(t, "codec", wants...)
}
