package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
)

// TestCodec checks that the codecs newCodec returns keep the msgenc.Codec
// contract: every kind round-trips exactly (at every limit, with uint64
// extremes and Unicode text), empty fields decode as nil, a message exactly
// at each limit of msgenc/limits.go round-trips while one just past it is
// refused (by Marshal and, given CodecOptions.Raw, by Unmarshal of the
// hand-made frame), a frame of exactly msgenc.MaxFrameSize bytes decodes, a number
// one past its field's range is refused (in text encodings),
// AppendMarshal (when implemented) appends what Marshal returns, invalid
// messages and frames over msgenc.MaxFrameSize are refused, garbage, truncated,
// oversized and deeply nested input fail with the msgenc sentinels and never
// panic, decoded messages do not alias the input, Marshal's output belongs
// to the caller, and concurrent use is safe. The suite expects frames to be
// self-delimiting: a proper prefix of a frame must not decode.
//
// newCodec is called once per rule, with that rule's subtest. TestCodec
// fails t for every rule broken.
//
// opts is optional, at most one: with CodecOptions.Raw the suite also
// hands Unmarshal frames no honest Marshal makes, one past each limit, as
// a hostile peer would; without it that rule is skipped.
func TestCodec(t *testing.T, newCodec func(t *testing.T) msgenc.Codec, opts ...CodecOptions) {
	t.Helper()
	runSuite(t, "codec", codecRules, codecSuiteOf(t, newCodec, opts))
}

// CheckCodec runs the same rules as TestCodec and returns the violations,
// each a *Violation, instead of failing t.
func CheckCodec(t *testing.T, newCodec func(t *testing.T) msgenc.Codec, opts ...CodecOptions) []error {
	t.Helper()
	return checkSuite(t, "codec", codecRules, codecSuiteOf(t, newCodec, opts))
}

// CodecOptions give TestCodec what it cannot get from a codec's interface.
type CodecOptions struct {
	// Raw encodes m in the codec's wire format exactly as it is, with no
	// check at all: every body m carries (whatever its Kind), every field
	// at whatever length, as a peer that hand-makes frames would. Marshal
	// refuses such messages, so without Raw the suite cannot show that
	// Unmarshal refuses their frames too. Raw is written with the codec's
	// underlying encoder (encoding/json, a CBOR or bencode library) and
	// lives in the codec's tests; it is called from one goroutine at a
	// time.
	Raw func(m *msgenc.Message) ([]byte, error)
}

// codecFactory is what a codec rule receives: the caller's factory and
// options.
type codecFactory = *codecSuite

type codecSuite struct {
	newCodec func(t *testing.T) msgenc.Codec
	raw      func(m *msgenc.Message) ([]byte, error)
}

func codecSuiteOf(t *testing.T, newCodec func(t *testing.T) msgenc.Codec, opts []CodecOptions) *codecSuite {
	t.Helper()
	if len(opts) > 1 {
		t.Fatalf("conformance: TestCodec takes at most one CodecOptions, got %d", len(opts))
	}
	s := &codecSuite{newCodec: newCodec}
	if len(opts) == 1 {
		s.raw = opts[0].Raw
	}
	return s
}

// codecSmallFrame bounds the frames that rules which decode a frame many
// times work on, to keep the suite fast under the race detector.
const codecSmallFrame = 64 << 10

var codecRules = []rule[codecFactory]{
	{"name", "Name returns a non-empty lower-case token without spaces.", codecCheckName},
	{"round-trip", "Every valid message marshals without error and unmarshals to an equal message, and Marshal leaves the message unchanged.", codecCheckRoundTrip},
	{"empty-fields-decode-as-nil", "Empty byte fields and empty lists decode as nil.", codecCheckEmptyAsNil},
	{"frame-within-max-size", "Marshal never returns a frame over msgenc.MaxFrameSize: a message too large to frame fails with msgenc.ErrInvalid.", codecCheckFrameSize},
	{"limits-exact-edges", "A message exactly at each limit of msgenc/limits.go round-trips unchanged; one a byte or an entry past it is refused by Marshal with msgenc.ErrInvalid, never encoded.", codecCheckLimits},
	{"largest-frame-decodes", "A valid frame of exactly msgenc.MaxFrameSize bytes decodes, and input of exactly MaxFrameSize bytes is not refused as msgenc.ErrTooLarge.", codecCheckLargestFrame},
	{"unmarshal-refuses-over-limit-frames", "Unmarshal refuses a frame one past any limit of msgenc/limits.go, or breaking any other rule of Validate that a wire format can carry (not text that is not UTF-8, which JSON cannot), as a peer may hand-make it (CodecOptions.Raw encodes it), with msgenc.ErrInvalid or msgenc.ErrDecode; the frame of the same message at the limit decodes to it.", codecCheckRawLimits},
	{"numbers-past-their-range-refused", "In a codec that writes numbers as decimal text, a frame whose number is one past its field's range (256 for a uint8) is refused, not wrapped.", codecCheckNumberEdges},
	{"marshal-rejects-invalid", "Marshal refuses a message that fails Validate with an error wrapping msgenc.ErrInvalid, without panicking.", codecCheckMarshalInvalid},
	{"unmarshal-rejects-garbage", "Unmarshal of garbage returns an error wrapping msgenc.ErrDecode or msgenc.ErrInvalid (or a valid message), never a panic.", codecCheckGarbage},
	{"unmarshal-rejects-truncated", "Unmarshal of every proper prefix of a valid frame fails with msgenc.ErrDecode or msgenc.ErrInvalid: frames are self-delimiting.", codecCheckTruncated},
	{"unmarshal-rejects-oversized", "Unmarshal of input over msgenc.MaxFrameSize fails with an error wrapping both msgenc.ErrTooLarge and msgenc.ErrDecode.", codecCheckOversized},
	{"unmarshal-rejects-deep-nesting", "Unmarshal of deeply nested input fails with msgenc.ErrDecode or msgenc.ErrInvalid, never a panic.", codecCheckDeep},
	{"decoded-does-not-alias-input", "A decoded message shares no memory with the input: changing the input afterwards leaves the message unchanged.", codecCheckNoAlias},
	{"marshal-output-not-retained", "Marshal's result belongs to the caller: a later Marshal neither overwrites it nor reflects changes made to it.", codecCheckNotRetained},
	{"append-marshal-matches-marshal", "A codec that implements msgenc.AppendMarshaler appends to dst exactly what Marshal returns, keeps dst's bytes, and fails where Marshal fails, with the same sentinel.", codecCheckAppendMarshal},
	{"concurrent-use", "Marshal and Unmarshal called from many goroutines at once give the same results as when called one at a time.", codecCheckConcurrent},
}

// codecSamples returns the corpus for a rule, twice from the same seed: the
// second copy stays untouched for comparison.
func codecSamples(e *env) (use, want []*msgenc.Message) {
	seed := e.rng.Uint64()
	return SampleMessages(rand.New(rand.NewPCG(seed, 1))), SampleMessages(rand.New(rand.NewPCG(seed, 1)))
}

// codecMarshal calls c.Marshal, turning a panic into an error.
func codecMarshal(c msgenc.Codec, m *msgenc.Message) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("Marshal panicked: %v", p)
		}
	}()
	return c.Marshal(m)
}

// codecUnmarshal calls c.Unmarshal, turning a panic into an error that
// wraps neither sentinel.
func codecUnmarshal(c msgenc.Codec, data []byte) (m *msgenc.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("Unmarshal panicked on %s: %v", codecShow(data), p)
		}
	}()
	return c.Unmarshal(data)
}

// codecRoundTrip marshals m and unmarshals the frame.
func codecRoundTrip(c msgenc.Codec, m *msgenc.Message) (*msgenc.Message, error) {
	b, err := codecMarshal(c, m)
	if err != nil {
		return nil, fmt.Errorf("Marshal(%s): %w", codecSummary(m), err)
	}
	got, err := codecUnmarshal(c, b)
	if err != nil {
		return nil, fmt.Errorf("Unmarshal of the frame of %s: %w", codecSummary(m), err)
	}
	return got, nil
}

// codecDecodeError reports whether err is a proper decoding failure.
func codecDecodeError(err error) bool {
	return errors.Is(err, msgenc.ErrDecode) || errors.Is(err, msgenc.ErrInvalid)
}

// codecSummary describes m in one short line for error messages.
func codecSummary(m *msgenc.Message) string {
	if m == nil {
		return "<nil message>"
	}
	s := fmt.Sprintf("%s message tx=%d", m.Kind, m.TxID)
	if m.Sender != nil {
		s += fmt.Sprintf(" sender{id %d bytes, %d addrs, seq %d}", len(m.Sender.ID), len(m.Sender.Addrs), m.Sender.Seq)
	}
	switch {
	case m.Peers != nil:
		s += fmt.Sprintf(" %d peers", len(m.Peers.Peers))
	case m.Value != nil:
		s += fmt.Sprintf(" %d records %d peers", len(m.Value.Records), len(m.Value.Peers))
	case m.ForwardReply != nil:
		s += fmt.Sprintf(" %d records %d peers error=%t", len(m.ForwardReply.Records), len(m.ForwardReply.Peers), m.ForwardReply.Error != nil)
	case m.Error != nil:
		s += fmt.Sprintf(" code %d text %q", m.Error.Code, codecClip(m.Error.Message))
	}
	return s
}

func codecClip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// codecShow prints the start of an input.
func codecShow(data []byte) string {
	if len(data) > 24 {
		return fmt.Sprintf("%d bytes %q...", len(data), data[:24])
	}
	return fmt.Sprintf("%d bytes %q", len(data), data)
}

func codecCheckName(e *env, s codecFactory) error {
	name := s.newCodec(e.t).Name()
	if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t\n") {
		return fmt.Errorf("Name() = %q, want a non-empty lower-case token", name)
	}
	return nil
}

func codecCheckRoundTrip(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	use, want := codecSamples(e)
	for i, m := range use {
		got, err := codecRoundTrip(c, m)
		if err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		if !msgenc.Equal(m, want[i]) {
			return fmt.Errorf("sample %d: Marshal changed the message it encoded: %s", i, codecSummary(m))
		}
		if !msgenc.Equal(got, want[i]) {
			return fmt.Errorf("sample %d: decoded %s, want %s (differs at %s)", i, codecSummary(got), codecSummary(want[i]), codecDiff(got, want[i]))
		}
	}
	return nil
}

func codecCheckEmptyAsNil(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	empty := []byte{}
	peer := msgenc.PeerRecord{ID: empty, PublicKey: empty, Addrs: [][]byte{}, Signature: empty}
	rec := &msgenc.ValueRecord{Key: empty, Value: empty, Publisher: empty, Salt: empty, Signature: empty}
	for _, m := range []*msgenc.Message{
		{Kind: msgenc.KindPong, Sender: &peer, Pong: &msgenc.Pong{Observed: empty}},
		{Kind: msgenc.KindFindNode, FindNode: &msgenc.FindNode{Target: empty}},
		{Kind: msgenc.KindFindValue, FindValue: &msgenc.FindValue{Key: empty}},
		{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: []msgenc.PeerRecord{}}},
		{Kind: msgenc.KindPeers, Peers: &msgenc.Peers{Peers: []msgenc.PeerRecord{peer}}},
		{Kind: msgenc.KindValue, Value: &msgenc.Value{Records: []msgenc.ValueRecord{*rec}, Peers: []msgenc.PeerRecord{}}},
		{Kind: msgenc.KindStore, Store: &msgenc.Store{Record: *rec}},
		{Kind: msgenc.KindForward, Forward: &msgenc.Forward{QueryID: empty, Mode: msgenc.ModeMixed,
			Visited: [][]byte{}, ReplyTo: [][]byte{empty}, Op: msgenc.KindStore, Target: empty, Record: rec}},
		{Kind: msgenc.KindForwardReply, ForwardReply: &msgenc.ForwardReply{QueryID: empty, Records: []msgenc.ValueRecord{*rec},
			Peers: []msgenc.PeerRecord{}}},
	} {
		got, err := codecRoundTrip(c, m)
		if err != nil {
			return err
		}
		if path := codecNonNilEmpty(got); path != "" {
			return fmt.Errorf("%s: decoded %s is empty but not nil", m.Kind, path)
		}
	}
	return nil
}

func codecCheckFrameSize(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	// Passes Validate, but its fields add up to about 800 KiB.
	m := codecMaximal(msgenc.KindValue)
	m.Value.Peers = codecMaximal(msgenc.KindPeers).Peers.Peers
	b, err := codecMarshal(c, m)
	switch {
	case err != nil && !errors.Is(err, msgenc.ErrInvalid):
		return fmt.Errorf("Marshal of a message too large for some encodings: %w, want nil or an error wrapping msgenc.ErrInvalid", err)
	case err != nil:
		return nil
	case len(b) > msgenc.MaxFrameSize:
		return fmt.Errorf("Marshal returned a %d-byte frame, over MaxFrameSize %d, which every peer refuses", len(b), msgenc.MaxFrameSize)
	}
	if _, err := codecUnmarshal(c, b); err != nil {
		return fmt.Errorf("Unmarshal of a %d-byte frame: %w", len(b), err)
	}
	return nil
}

func codecCheckMarshalInvalid(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	for _, tc := range codecInvalidMessages() {
		b, err := codecMarshal(c, tc.m)
		if !errors.Is(err, msgenc.ErrInvalid) {
			return fmt.Errorf("Marshal of an invalid message (%s) returned %d bytes and error %v, want an error wrapping msgenc.ErrInvalid", tc.what, len(b), err)
		}
	}
	return nil
}

func codecCheckNoAlias(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	use, _ := codecSamples(e)
	for i, m := range use {
		frame, err := codecMarshal(c, m)
		if err != nil {
			return fmt.Errorf("sample %d: Marshal: %w", i, err)
		}
		if len(frame) > codecSmallFrame {
			continue // aliasing does not depend on size; keep the rule fast
		}
		want, err1 := codecUnmarshal(c, bytes.Clone(frame))
		got, err2 := codecUnmarshal(c, frame)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("sample %d: Unmarshal: %w", i, errors.Join(err1, err2))
		}
		for _, fill := range []byte{0x00, 0xff, 0x5a} {
			for j := range frame {
				frame[j] = fill
			}
			if !msgenc.Equal(got, want) {
				return fmt.Errorf("sample %d: after the input was overwritten with %#x, the decoded %s changed at %s: it aliases the input", i, fill, codecSummary(want), codecDiff(got, want))
			}
		}
	}
	return nil
}

func codecCheckNotRetained(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	use, _ := codecSamples(e)
	for i := 0; i+1 < len(use); i += 2 {
		first, err := codecMarshal(c, use[i])
		if err != nil {
			return fmt.Errorf("sample %d: Marshal: %w", i, err)
		}
		if len(first) > codecSmallFrame {
			continue
		}
		kept := bytes.Clone(first)
		want, err := codecUnmarshal(c, kept)
		if err != nil {
			return fmt.Errorf("sample %d: Unmarshal: %w", i, err)
		}
		if _, err := codecMarshal(c, use[i+1]); err != nil {
			return fmt.Errorf("sample %d: Marshal: %w", i+1, err)
		}
		if !bytes.Equal(first, kept) {
			return fmt.Errorf("sample %d: the frame Marshal returned changed when Marshal was called again: the codec reuses its output buffer", i)
		}
		for j := range first {
			first[j] ^= 0xff
		}
		again, err := codecMarshal(c, use[i])
		if err != nil {
			return fmt.Errorf("sample %d: second Marshal: %w", i, err)
		}
		got, err := codecUnmarshal(c, again)
		if err != nil {
			return fmt.Errorf("sample %d: after the caller changed an earlier frame, a new Marshal gave a frame that does not decode: %w", i, err)
		}
		if !msgenc.Equal(got, want) {
			return fmt.Errorf("sample %d: after the caller changed an earlier frame, a new Marshal of the same message decodes differently (at %s): the codec keeps its output", i, codecDiff(got, want))
		}
	}
	return nil
}
