// Package bencode is a msgenc.Codec over github.com/jackpal/bencode-go.
//
// A frame is one bencode dictionary with the json codec's keys: "k" the
// kind, "t" the transaction ID, "s" the sender record, and one body under the
// kind's name ("ping", "peers", "forward-reply", ...). Records and bodies are
// dictionaries with one-letter keys, for example a peer record:
//
//	d1:k i4e 1:t i7e 5:peers d1:p l d1:a l 8:<addr> e 1:g 64:<sig> 1:i 32:<id> 1:k 32:<key> 1:q i1e e e e e
//
// (spaces added). Byte fields and error text are byte strings, so any text
// round-trips exactly. Empty fields are left out and decode as nil. Booleans
// are the integers 0 and 1.
//
// bencode integers are signed and bencode-go decodes them as int64, so every
// uint64 (transaction IDs, sequence numbers) travels as the int64 with the
// same bits: values of 2^63 and above appear as negative integers.
//
// Unmarshal refuses frames over msgenc.MaxFrameSize, then checks the frame
// with its own scanner before bencode-go sees it: canonical integers within
// int64, string lengths within the frame (bencode-go would allocate whatever
// a length prefix claims), sorted unique dictionary keys, nesting within
// msgenc.MaxNesting, and no trailing bytes. Unknown keys are ignored.
package bencode
