package bbolt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
)

func randomRecord(rng *rand.Rand) kvstore.Record {
	field := func() []byte {
		if rng.IntN(4) == 0 {
			return nil
		}
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) == 0 {
			return nil
		}
		return b
	}
	r := kvstore.Record{Value: field(), Publisher: field(), Salt: field(), Signature: field(), Seq: rng.Uint64()}
	switch rng.IntN(4) {
	case 0: // never expires
	case 1: // before 1970: negative Unix seconds
		r.Expires = time.Unix(-rng.Int64N(1<<40), rng.Int64N(1e9))
	default:
		r.Expires = time.Unix(rng.Int64N(1<<40), rng.Int64N(1e9))
	}
	return r
}

func TestRecordRoundTripsExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		want := randomRecord(rng)
		enc := appendRecord(nil, &want)
		if uint64(len(enc)) != recordLen(&want) {
			t.Fatalf("recordLen = %d, encoding has %d bytes", recordLen(&want), len(enc))
		}
		got, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("decode(encode(%+v)) = %v", want, err)
		}
		if !got.Equal(want) {
			t.Fatalf("decode(encode(r)) = %+v, want %+v", got, want)
		}
	}
}

func TestDecodedRecordOwnsItsBytes(t *testing.T) {
	want := kvstore.Record{Value: []byte("value"), Publisher: []byte("pub"), Salt: []byte("s"), Signature: []byte("sig")}
	enc := appendRecord(nil, &want)
	got, err := decodeRecord(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range enc {
		enc[i] = 0 // as bbolt's memory may be reused after the transaction
	}
	_ = append(got.Value, "XXXX"...) // must not spill into Publisher
	if !got.Equal(want) {
		t.Fatalf("decoded record changed with its input or a neighbour: %+v", got)
	}
}

func TestDecodeRejectsEverySingleByteChange(t *testing.T) {
	r := kvstore.Record{Value: []byte("value"), Expires: time.Unix(1e9, 5), Publisher: []byte("p"), Seq: 7}
	enc := appendRecord(nil, &r)
	for i := range enc {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(enc)
			bad[i] ^= bit
			if _, err := decodeRecord(bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flipping bit %#x of byte %d: decode = %v, want ErrCorrupt", bit, i, err)
			}
		}
	}
	for n := range len(enc) {
		if _, err := decodeRecord(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: decode = %v, want ErrCorrupt", n, err)
		}
	}
}

// withCRC re-seals a hand-made body, so that the checks behind the CRC are
// reached.
func withCRC(body ...byte) []byte {
	return appendCRC(body)
}

func TestDecodeRejectsMalformedBodies(t *testing.T) {
	seq := make([]byte, 8)
	empties := []byte{0, 0, 0, 0}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for name, enc := range map[string][]byte{
		"unknown version":     withCRC(cat([]byte{2, 0}, seq, empties)...),
		"unknown flag":        withCRC(cat([]byte{1, 2}, seq, empties)...),
		"expiry truncated":    withCRC(cat([]byte{1, 1}, make([]byte, 4), empties)...),
		"nanoseconds ≥ 1e9":   withCRC(cat([]byte{1, 1}, make([]byte, 8), []byte{0x3b, 0x9a, 0xca, 0x00}, seq, empties)...),
		"flag with zero time": withCRC(cat([]byte{1, 1}, []byte{0xff, 0xff, 0xff, 0xf1, 0x88, 0x6e, 0x09, 0x00}, make([]byte, 4), seq, empties)...),
		"length past the end": withCRC(cat([]byte{1, 0}, seq, []byte{5, 'a', 0, 0, 0})...),
		"non-minimal length":  withCRC(cat([]byte{1, 0}, seq, []byte{0x80, 0x00, 0, 0, 0})...),
		"overflowing length":  withCRC(cat([]byte{1, 0}, seq, bytes.Repeat([]byte{0xff}, 11), empties)...),
		"trailing bytes":      withCRC(cat([]byte{1, 0}, seq, empties, []byte{9})...),
		"missing field":       withCRC(cat([]byte{1, 0}, seq, []byte{0, 0, 0}, []byte{})...),
	} {
		if _, err := decodeRecord(enc); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decode = %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		r := randomRecord(rng)
		f.Add(appendRecord(nil, &r))
	}
	f.Add(appendRecord(nil, &kvstore.Record{}))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(withCRC(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0, 0, 0))
	f.Add(withCRC(1, 1, 0xff, 0xff, 0xff, 0xf1, 0x88, 0x6e, 0x09, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// Canonical: what decodes re-encodes to the same bytes.
		if again := appendRecord(nil, &r); !bytes.Equal(again, b) {
			t.Fatalf("decode then encode changed the bytes:\n in %x\nout %x", b, again)
		}
	})
}
