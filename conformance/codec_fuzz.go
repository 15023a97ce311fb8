package conformance

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
)

// FuzzCodec fuzzes c.Unmarshal. It seeds the corpus with c's frames of
// every sample message (whole and cut short), with deeply nested input in
// the built-in codecs' syntaxes and with garbage, then checks for every
// input that Unmarshal does not panic, fails only with msgenc.ErrDecode or
// msgenc.ErrInvalid, and that whatever it accepts is valid, re-marshals, and
// decodes again to an equal message. Call it from a codec's Fuzz function;
// add codec-specific seeds with f.Add first.
func FuzzCodec(f *testing.F, c msgenc.Codec) {
	for _, m := range SampleMessages(rand.New(rand.NewPCG(1, 2))) {
		frame, err := c.Marshal(m)
		if err != nil {
			f.Fatalf("Marshal(%s): %v", codecSummary(m), err)
		}
		if len(frame) > 8<<10 {
			continue // small seeds mutate faster
		}
		f.Add(frame)
		f.Add(frame[:len(frame)/2])
		f.Add(frame[:len(frame)-1])
	}
	deep := msgenc.MaxNesting + 1
	for _, s := range []string{
		"", "\x00", "null", "{}", "de", "\xa0", "999999999:x", "i-0e", "i9223372036854775808e", "\xff",
		string(bytes.Repeat([]byte("["), deep)) + string(bytes.Repeat([]byte("]"), deep)),
		string(bytes.Repeat([]byte("l"), deep)) + string(bytes.Repeat([]byte("e"), deep)),
		string(bytes.Repeat([]byte{0x81}, deep)) + "\x80",
		"\x5b\x00\x00\x00\x01\x00\x00\x00\x00", // a CBOR byte string that claims 4 GiB
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := c.Unmarshal(data)
		if err != nil {
			if !codecDecodeError(err) {
				t.Fatalf("Unmarshal: %v, want an error wrapping msgenc.ErrDecode or msgenc.ErrInvalid", err)
			}
			if m != nil {
				t.Fatalf("Unmarshal returned a message with error %v", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Unmarshal accepted a message that fails Validate: %v", err)
		}
		frame, err := c.Marshal(m)
		if err != nil {
			if errors.Is(err, msgenc.ErrInvalid) && len(data) > msgenc.MaxFrameSize/2 {
				return // a re-encoding may be larger than a frame near the limit
			}
			t.Fatalf("Marshal of a decoded %s: %v", codecSummary(m), err)
		}
		again, err := c.Unmarshal(frame)
		if err != nil {
			t.Fatalf("Unmarshal of the re-encoded %s: %v", codecSummary(m), err)
		}
		if !msgenc.Equal(m, again) {
			t.Fatalf("re-encoding changed the message at %s", codecDiff(again, m))
		}
	})
}
