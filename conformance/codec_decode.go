package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecExpectError checks that Unmarshal(data) fails with a decoding error.
func codecExpectError(c msgenc.Codec, data []byte, what string) error {
	m, err := codecUnmarshal(c, data)
	switch {
	case err == nil:
		return fmt.Errorf("Unmarshal of %s (%s) returned %s and no error", what, codecShow(data), codecSummary(m))
	case !codecDecodeError(err):
		return fmt.Errorf("Unmarshal of %s: %w (want an error wrapping msgenc.ErrDecode or msgenc.ErrInvalid)", what, err)
	case m != nil:
		return fmt.Errorf("Unmarshal of %s returned an error and a message", what)
	}
	return nil
}

// codecExpectErrorOrValid checks that Unmarshal(data) fails with a decoding
// error or returns a message that passes Validate: for input that might by
// chance be a valid frame.
func codecExpectErrorOrValid(c msgenc.Codec, data []byte, what string) error {
	m, err := codecUnmarshal(c, data)
	switch {
	case err != nil && !codecDecodeError(err):
		return fmt.Errorf("Unmarshal of %s: %w (want an error wrapping msgenc.ErrDecode or msgenc.ErrInvalid)", what, err)
	case err == nil && m == nil:
		return fmt.Errorf("Unmarshal of %s (%s) returned neither a message nor an error", what, codecShow(data))
	case err == nil:
		if verr := m.Validate(); verr != nil {
			return fmt.Errorf("Unmarshal of %s (%s) returned a message that fails Validate: %w", what, codecShow(data), verr)
		}
	}
	return nil
}

func codecCheckGarbage(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	fixed := []string{"", "null", "true", "0", `""`, "{}", "[]", `{"k":1}`, "de", "le", "0:", "i0e", "d1:ki1ee",
		"\xa0", "\x80", "\xf6", "\xa1\x01\x01", "\xff\xff\xff\xff", "{\"k\":1,\"t\":\"1\",\"ping\":{}", "999999999:x"}
	if err := codecExpectError(c, nil, "nil input"); err != nil {
		return err
	}
	for _, s := range fixed {
		if err := codecExpectError(c, []byte(s), "garbage"); err != nil {
			return err
		}
	}
	for b := range 256 {
		if err := codecExpectError(c, []byte{byte(b)}, "a single byte"); err != nil {
			return err
		}
	}
	for range 300 {
		junk := make([]byte, e.rng.IntN(512))
		for i := range junk {
			junk[i] = byte(e.rng.Uint32())
		}
		if err := codecExpectErrorOrValid(c, junk, "random bytes"); err != nil {
			return err
		}
	}
	// Valid frames with a few bytes changed reach deeper into a decoder.
	use, _ := codecSamples(e)
	for _, m := range use {
		frame, err := codecMarshal(c, m)
		if err != nil || len(frame) == 0 || len(frame) > codecSmallFrame {
			continue // other rules report Marshal failures; keep this rule fast
		}
		for range 20 {
			mutated := bytes.Clone(frame)
			for range 1 + e.rng.IntN(4) {
				mutated[e.rng.IntN(len(mutated))] = byte(e.rng.Uint32())
			}
			if err := codecExpectErrorOrValid(c, mutated, "a valid frame with bytes changed"); err != nil {
				return err
			}
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func codecCheckTruncated(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	use, _ := codecSamples(e)
	for i, m := range use {
		frame, err := codecMarshal(c, m)
		if err != nil {
			return fmt.Errorf("sample %d: Marshal: %w", i, err)
		}
		if len(frame) > codecSmallFrame {
			continue
		}
		cuts := make([]int, 0, len(frame))
		if len(frame) <= 512 {
			for n := 1; n < len(frame); n++ {
				cuts = append(cuts, n)
			}
		} else {
			cuts = append(cuts, 1, len(frame)-1)
			for range 100 {
				cuts = append(cuts, 1+e.rng.IntN(len(frame)-1))
			}
		}
		for _, n := range cuts {
			// A fresh slice of exactly n bytes, so that reading past the
			// end is caught rather than finding the rest of the frame.
			if err := codecExpectError(c, bytes.Clone(frame[:n]), fmt.Sprintf("the first %d of %d bytes of sample %d (%s)", n, len(frame), i, m.Kind)); err != nil {
				return err
			}
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func codecCheckOversized(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	frame, err := codecMarshal(c, SamplePeersReply(20))
	if err != nil {
		return fmt.Errorf("Marshal: %w", err)
	}
	// A valid frame padded with spaces, which a text decoder would skip.
	padded := append(bytes.Clone(frame), bytes.Repeat([]byte{' '}, msgenc.MaxFrameSize+1-len(frame))...)
	for _, in := range []struct {
		what string
		data []byte
	}{
		{"a valid frame padded with spaces to MaxFrameSize+1 bytes", padded},
		{"MaxFrameSize+1 zero bytes", make([]byte, msgenc.MaxFrameSize+1)},
		{"4 MiB of zero bytes", make([]byte, 4<<20)},
	} {
		_, err := codecUnmarshal(c, in.data)
		if !errors.Is(err, msgenc.ErrTooLarge) || !errors.Is(err, msgenc.ErrDecode) {
			return fmt.Errorf("Unmarshal of %s returned %v, want an error wrapping msgenc.ErrTooLarge and msgenc.ErrDecode", in.what, err)
		}
	}
	return nil
}

func codecCheckDeep(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	nest := func(open, close string, depth int) []byte {
		return []byte(string(bytes.Repeat([]byte(open), depth)) + string(bytes.Repeat([]byte(close), depth)))
	}
	for _, depth := range []int{msgenc.MaxNesting + 1, 1000, 100_000} {
		for _, in := range []struct {
			syntax string
			data   []byte
		}{
			{"JSON arrays", nest("[", "]", depth)},
			{"JSON objects", nest(`{"a":`, "}", depth)},
			{"JSON in a message", []byte(`{"k":1,"t":"1","ping":{"x":` + string(nest("[", "]", depth)) + "}}")},
			{"CBOR arrays", append(bytes.Repeat([]byte{0x81}, depth), 0x80)},
			{"CBOR maps", append(bytes.Repeat([]byte{0xa1, 0x01}, depth), 0xa0)},
			{"bencode lists", nest("l", "e", depth)},
			{"bencode dictionaries", nest("d1:a", "e", depth)},
		} {
			if err := codecExpectError(c, in.data, fmt.Sprintf("%s nested %d deep", in.syntax, depth)); err != nil {
				return err
			}
		}
	}
	return nil
}

func codecCheckConcurrent(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	use, _ := codecSamples(e)
	// Keep the small messages: this rule is about interleaving, not size.
	type sample struct {
		m       *msgenc.Message
		frame   []byte
		decoded *msgenc.Message
	}
	var samples []sample
	for _, m := range use {
		frame, err := codecMarshal(c, m)
		if err != nil || len(frame) > 16<<10 {
			continue
		}
		decoded, err := codecUnmarshal(c, frame)
		if err != nil {
			continue // the round-trip rule reports it
		}
		samples = append(samples, sample{m, frame, decoded})
	}
	if len(samples) == 0 {
		return errors.New("no sample message round-trips one at a time")
	}
	const workers, rounds = 8, 60
	seeds := make([]uint64, workers)
	for i := range seeds {
		seeds[i] = e.rng.Uint64()
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			next := seeds[w]
			for range rounds {
				next = next*6364136223846793005 + 1442695040888963407
				s := samples[(next>>33)%uint64(len(samples))]
				frame, err := codecMarshal(c, s.m)
				if err != nil {
					errs[w] = fmt.Errorf("concurrent Marshal of %s: %w", codecSummary(s.m), err)
					return
				}
				for _, in := range [][]byte{frame, s.frame} {
					got, err := codecUnmarshal(c, in)
					if err != nil {
						errs[w] = fmt.Errorf("concurrent Unmarshal of a frame of %s: %w", codecSummary(s.m), err)
						return
					}
					if !msgenc.Equal(got, s.decoded) {
						errs[w] = fmt.Errorf("concurrent Unmarshal gave %s where one at a time gave %s (differs at %s)",
							codecSummary(got), codecSummary(s.decoded), codecDiff(got, s.decoded))
						return
					}
				}
				if e.ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
