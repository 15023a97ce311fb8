package msgenc

import "errors"

// Codec turns Messages into frames and back. Implementations are safe for
// concurrent use and never panic, whatever the input.
type Codec interface {
	// Name identifies the codec on the command line and in logs, such as
	// "cbor".
	Name() string
	// Marshal encodes m. It returns an error wrapping ErrInvalid when m does
	// not pass Validate. The returned slice belongs to the caller.
	Marshal(m *Message) ([]byte, error)
	// Unmarshal decodes one frame. Bad, truncated, oversized or deeply
	// nested input gives an error wrapping ErrDecode (or ErrInvalid when the
	// frame decodes but breaks a limit), never a panic. The message does not
	// alias data. Byte fields that are empty on the wire decode as nil.
	Unmarshal(data []byte) (*Message, error)
}

// AppendMarshaler is an optional interface of a Codec that can encode into
// a buffer its caller provides, so that a sender can reuse one buffer for
// frame after frame instead of allocating each. A sender checks for it and
// falls back to Marshal.
type AppendMarshaler interface {
	// AppendMarshal appends m's encoding to dst and returns the extended
	// slice; what it appends is what Marshal returns, with the same
	// errors. On error the contents of dst past its length are undefined.
	AppendMarshal(dst []byte, m *Message) ([]byte, error)
}

// Codec errors.
var (
	// ErrDecode: the frame is not a well-formed encoding of a Message.
	ErrDecode = errors.New("msgenc: cannot decode frame")
	// ErrInvalid: the message breaks a protocol rule or limit.
	ErrInvalid = errors.New("msgenc: invalid message")
	// ErrTooLarge: the frame exceeds MaxFrameSize. It wraps ErrDecode.
	ErrTooLarge = errors.New("msgenc: frame too large")
)
