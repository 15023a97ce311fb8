package conformance

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dhtkit/dhtkit/msgenc"
)

// codecCheckAppendMarshal checks the optional msgenc.AppendMarshaler: for
// every sample, every message at and past each limit, every invalid message
// and the largest frame, AppendMarshal onto a buffer that already holds
// bytes (and has room to spare, so that an encoder writing in place is
// caught) keeps those bytes and appends exactly what Marshal returns, or
// fails as Marshal does. The largest frame checks that the frame size limit
// counts only the appended bytes.
func codecCheckAppendMarshal(e *env, s codecFactory) error {
	c := s.newCodec(e.t)
	am, ok := c.(msgenc.AppendMarshaler)
	if !ok {
		return skip("the codec does not implement msgenc.AppendMarshaler")
	}
	type input struct {
		what string
		m    *msgenc.Message
	}
	var ins []input
	use, _ := codecSamples(e)
	for i, m := range use {
		ins = append(ins, input{fmt.Sprintf("sample %d (%s)", i, m.Kind), m})
	}
	for _, l := range codecLimits() {
		ins = append(ins, input{l.what + " at its limit", l.build(l.limit)}, input{l.what + " past its limit", l.build(l.limit + 1)})
	}
	for _, tc := range codecInvalidMessages() {
		ins = append(ins, input{"invalid: " + tc.what, tc.m})
	}
	if m, _, err := codecLargestFrame(c); err == nil && m != nil {
		ins = append(ins, input{"the message of the largest frame", m})
	}
	prefix := []byte("prefix kept\x00\xff")
	for _, in := range ins {
		want, werr := codecMarshal(c, in.m)
		dst := make([]byte, len(prefix), len(prefix)+64)
		copy(dst, prefix)
		got, gerr := codecAppendMarshal(am, dst, in.m)
		switch {
		case werr != nil && gerr == nil:
			return fmt.Errorf("%s: Marshal fails (%v) but AppendMarshal appends %d bytes", in.what, werr, len(got)-len(prefix))
		case werr == nil && gerr != nil:
			return fmt.Errorf("%s: Marshal gives a %d-byte frame but AppendMarshal fails: %w", in.what, len(want), gerr)
		case werr != nil:
			if errors.Is(werr, msgenc.ErrInvalid) != errors.Is(gerr, msgenc.ErrInvalid) {
				return fmt.Errorf("%s: Marshal fails with %v, AppendMarshal with %v: not the same error", in.what, werr, gerr)
			}
			continue
		}
		if !bytes.HasPrefix(got, prefix) {
			return fmt.Errorf("%s: AppendMarshal changed the %d bytes already in dst", in.what, len(prefix))
		}
		if !bytes.Equal(got[len(prefix):], want) {
			return fmt.Errorf("%s: AppendMarshal appended %d bytes that differ from Marshal's %d-byte frame", in.what, len(got)-len(prefix), len(want))
		}
		if err := e.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// codecAppendMarshal calls am.AppendMarshal, turning a panic into an error.
func codecAppendMarshal(am msgenc.AppendMarshaler, dst []byte, m *msgenc.Message) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("AppendMarshal panicked: %v", p)
		}
	}()
	return am.AppendMarshal(dst, m)
}
