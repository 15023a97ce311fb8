// Package cbor is a msgenc.Codec over github.com/fxamacker/cbor/v2.
//
// A frame is one CBOR map with small integer keys: 1 the kind, 2 the
// transaction ID, 3 the sender record (left out when nil), and the body
// under 10 plus the kind (11 ping ... 14 peers ... 21 forward-reply). Records
// and bodies are arrays in a fixed field order, so no field names travel:
//
//	{1: 4, 2: 7, 3: [id, key, [addr, ...], seq, sig],
//	 14: [[[id, key, [addr, ...], seq, sig], ...]]}
//
//	peer record   [id, public-key, addrs, seq, signature]
//	value record  [key, value, publisher, salt, seq, signature, ttl]
//	ping []  pong [observed]  find-node [target]  peers [peers]
//	find-value [key]  value [record/null, peers]
//	store [record, cas, expect-seq]  store-ack [seq]  error [code, text]
//	forward [query-id, mode, hop-budget, proxy-hops, visited, reply-to, op, target, record/null,
//	         cas, expect-seq, salt, fanout]
//	forward-reply [query-id, hops, record/null, peers, stored, error/null]
//
// Byte fields are byte strings, integers are unsigned, error text is a text
// string and must be valid UTF-8 (Marshal refuses other text with
// msgenc.ErrInvalid). Empty byte fields and lists travel as null or empty and
// decode as nil. The field order is defined in msgenc/internal/wire.
//
// Unmarshal refuses frames over msgenc.MaxFrameSize, then decodes with
// limits on nesting (msgenc.MaxNesting), array length, map size, duplicate
// keys, indefinite lengths and tags, so a frame cannot make it allocate more
// than a small multiple of the frame's size.
package cbor
