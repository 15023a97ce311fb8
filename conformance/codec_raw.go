package conformance

import (
	"fmt"
	"unicode/utf8"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecRawInvalid returns the messages of codecInvalidMessages that a wire
// format can carry as they are: not the nil message, and no error text
// that is not UTF-8, which JSON cannot hold (it would carry U+FFFD, a
// valid message).
func codecRawInvalid() []codecInvalid {
	var out []codecInvalid
	for _, tc := range codecInvalidMessages() {
		m := tc.m
		if m == nil || (m.Error != nil && !utf8.ValidString(m.Error.Message)) ||
			(m.ForwardReply != nil && m.ForwardReply.Error != nil && !utf8.ValidString(m.ForwardReply.Error.Message)) {
			continue
		}
		out = append(out, tc)
	}
	return out
}

// codecRawRefused encodes m with raw and requires Unmarshal to refuse the
// frame with a msgenc sentinel.
func codecRawRefused(c msgenc.Codec, raw func(*msgenc.Message) ([]byte, error), m *msgenc.Message, what string) error {
	frame, err := codecRaw(raw, m)
	if err != nil {
		return fmt.Errorf("CodecOptions.Raw of %s: %w", what, err)
	}
	got, err := codecUnmarshal(c, frame)
	switch {
	case err == nil:
		return fmt.Errorf("Unmarshal accepted a hand-made %d-byte frame of %s and decoded %s: a peer can send what Marshal refuses", len(frame), what, codecSummary(got))
	case !codecDecodeError(err):
		return fmt.Errorf("Unmarshal of a hand-made frame of %s: %w, want an error wrapping msgenc.ErrInvalid or msgenc.ErrDecode", what, err)
	}
	return nil
}

// codecRaw calls raw, turning a panic into an error.
func codecRaw(raw func(*msgenc.Message) ([]byte, error), m *msgenc.Message) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("panicked: %v", p)
		}
	}()
	return raw(m)
}

// codecCheckRawLimits checks the decoder's side of every limit: a peer
// hand-makes frames, so Unmarshal, not only Marshal, must refuse a field
// one past its limit, a list one entry too long, a number out of its
// range, and every other message Validate refuses. The frame of the same
// message exactly at the limit must decode to it: that proves Raw writes
// the codec's format, so that a refusal means the limit, not garbage.
func codecCheckRawLimits(e *env, s codecFactory) error {
	if s.raw == nil {
		return skip("CodecOptions.Raw not given: the suite cannot make a frame that Marshal refuses")
	}
	c := s.newCodec(e.t)
	for _, l := range codecLimits() {
		at := l.build(l.limit)
		frame, err := codecRaw(s.raw, at)
		if err != nil {
			return fmt.Errorf("CodecOptions.Raw of %s at its limit %d: %w", l.what, l.limit, err)
		}
		got, err := codecUnmarshal(c, frame)
		if err != nil {
			return fmt.Errorf("Unmarshal of Raw's frame of %s exactly at its limit %d: %w (Raw does not write the codec's format, or Unmarshal refuses a valid frame)", l.what, l.limit, err)
		}
		if want := l.build(l.limit); !msgenc.Equal(got, want) {
			return fmt.Errorf("Raw's frame of %s exactly at its limit %d decoded differently (at %s)", l.what, l.limit, codecDiff(got, want))
		}
		past := l.build(l.limit + 1)
		if err := codecRawRefused(c, s.raw, past, fmt.Sprintf("%s one past its limit (%d)", l.what, l.limit+1)); err != nil {
			return err
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
	}
	for _, tc := range codecRawInvalid() {
		if err := codecRawRefused(c, s.raw, tc.m, fmt.Sprintf("an invalid message (%s)", tc.what)); err != nil {
			return err
		}
	}
	return nil
}
