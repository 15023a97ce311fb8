// Package wire holds the mirror structs that the json and cbor codecs encode,
// with the field keys of both formats in their tags, and the conversions to
// and from msgenc.Message.
//
// Keeping one mirror for both codecs makes them agree on every detail of the
// message model: which fields may be omitted, that empty byte fields and
// lists decode as nil, and that error text must be UTF-8 (both formats carry
// it as a text string, which cannot hold arbitrary bytes).
package wire
