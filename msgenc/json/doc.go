// Package json is a msgenc.Codec over the standard library's encoding/json.
//
// A frame is one JSON object with short keys: "k" the kind (a number), "t"
// the transaction ID, "s" the sender record, and one body under the kind's
// name ("ping", "pong", "find-node", "peers", "find-value", "value",
// "store", "store-ack", "error", "forward", "forward-reply"):
//
//	{"k":4,"t":"7","s":{"i":"<base64>","k":"<base64>","a":["<base64>"],"q":"3","g":"<base64>"},
//	 "peers":{"p":[{"i":"...","k":"...","a":["..."],"q":"1","g":"..."}]}}
//
// Byte fields are standard base64 strings. Every uint64 (transaction IDs,
// sequence numbers) travels as a decimal string, so that readers whose
// numbers are doubles do not lose precision above 2^53. Empty fields are
// left out and decode as nil. Error text must be valid UTF-8: Marshal
// refuses other text with msgenc.ErrInvalid rather than let encoding/json
// replace bytes silently. Unknown keys are ignored, for forward
// compatibility; the field keys are listed in msgenc/internal/wire.
//
// Unmarshal refuses frames over msgenc.MaxFrameSize and frames nested deeper
// than msgenc.MaxNesting before decoding them.
package json
