package cbor

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/internal/wire"
	fxcbor "github.com/fxamacker/cbor/v2"
)

// Codec encodes messages as CBOR. It holds immutable encoding and decoding
// modes and a pool of scratch space: one value is safe for concurrent use.
type Codec struct {
	enc      fxcbor.UserBufferEncMode
	dec      fxcbor.DecMode
	encoders sync.Pool // *encoder
}

var (
	_ msgenc.Codec           = (*Codec)(nil)
	_ msgenc.AppendMarshaler = (*Codec)(nil)
)

// New returns a CBOR codec.
func New() *Codec {
	m := sharedModes()
	return &Codec{enc: m.enc, dec: m.dec}
}

// modes are the codec's encoding and decoding modes. They are immutable
// and safe for concurrent use, so every Codec shares one pair: each pair
// costs about half a KiB, which a process running many nodes would
// otherwise pay per node.
type modes struct {
	enc fxcbor.UserBufferEncMode
	dec fxcbor.DecMode
}

var sharedModes = sync.OnceValue(func() modes {
	enc, err := fxcbor.EncOptions{
		Sort:          fxcbor.SortNone, // struct fields already come in key order
		IndefLength:   fxcbor.IndefLengthForbidden,
		NilContainers: fxcbor.NilContainerAsNull,
		TagsMd:        fxcbor.TagsForbidden,
	}.UserBufferEncMode()
	if err != nil {
		panic("cbor: bad encoding options: " + err.Error()) // constant options: a programming error
	}
	dec, err := fxcbor.DecOptions{
		DupMapKey:        fxcbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  msgenc.MaxNesting,
		MaxArrayElements: max(msgenc.MaxPeers, msgenc.MaxVisited, msgenc.MaxAddrs),
		MaxMapPairs:      16, // the library's minimum; a message map has at most 4 pairs
		IndefLength:      fxcbor.IndefLengthForbidden,
		TagsMd:           fxcbor.TagsForbidden,
		UTF8:             fxcbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic("cbor: bad decoding options: " + err.Error())
	}
	return modes{enc: enc, dec: dec}
})

// Name returns "cbor".
func (*Codec) Name() string { return "cbor" }

// Marshal encodes m; see msgenc.Codec. A message whose frame would exceed
// msgenc.MaxFrameSize fails with msgenc.ErrInvalid.
func (c *Codec) Marshal(m *msgenc.Message) ([]byte, error) {
	var w wire.Message
	if err := w.From(m); err != nil {
		return nil, fmt.Errorf("cbor: %w", err)
	}
	b, err := c.enc.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("cbor: %w: %w", msgenc.ErrInvalid, err)
	}
	if len(b) > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("cbor: %w: the frame would be %d bytes, at most %d", msgenc.ErrInvalid, len(b), msgenc.MaxFrameSize)
	}
	return b, nil
}

// encoder is the scratch space of one AppendMarshal, kept in the codec's
// pool: the wire form and the buffer escape to the encoding library, so
// each would otherwise be an allocation a frame.
type encoder struct {
	w   wire.Message
	s   wire.Scratch // the parts of w an encoding fills, kept for the next
	buf bytes.Buffer
}

// AppendMarshal appends m's encoding to dst; see msgenc.AppendMarshaler.
func (c *Codec) AppendMarshal(dst []byte, m *msgenc.Message) ([]byte, error) {
	e, _ := c.encoders.Get().(*encoder)
	if e == nil {
		e = new(encoder)
	}
	defer func() {
		// Hold on to nothing of the caller's: not m's fields, not dst.
		e.w, e.buf = wire.Message{}, bytes.Buffer{}
		e.s.Reset()
		c.encoders.Put(e)
	}()
	if err := e.w.FromScratch(m, &e.s); err != nil {
		return nil, fmt.Errorf("cbor: %w", err)
	}
	e.buf = *bytes.NewBuffer(dst)
	if err := c.enc.MarshalToBuffer(&e.w, &e.buf); err != nil {
		return nil, fmt.Errorf("cbor: %w: %w", msgenc.ErrInvalid, err)
	}
	b := e.buf.Bytes()
	if n := len(b) - len(dst); n > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("cbor: %w: the frame would be %d bytes, at most %d", msgenc.ErrInvalid, n, msgenc.MaxFrameSize)
	}
	return b, nil
}

// Unmarshal decodes one frame; see msgenc.Codec.
func (c *Codec) Unmarshal(data []byte) (*msgenc.Message, error) {
	if len(data) > msgenc.MaxFrameSize {
		return nil, fmt.Errorf("cbor: %w: %w: %d bytes, at most %d",
			msgenc.ErrDecode, msgenc.ErrTooLarge, len(data), msgenc.MaxFrameSize)
	}
	d := new(wire.Decoded) // the wire form and the message in one allocation
	if err := c.dec.Unmarshal(data, &d.Wire); err != nil {
		return nil, fmt.Errorf("cbor: %w: %w", msgenc.ErrDecode, err)
	}
	m := d.Message()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("cbor: %w", err)
	}
	return m, nil
}
