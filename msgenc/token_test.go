package msgenc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/bencode"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/msgenc/json"
)

func TestTokenAndPadRoundTripAndAreBoundedInEveryCodec(t *testing.T) {
	for _, c := range []msgenc.Codec{cbor.New(), json.New(), bencode.New()} {
		t.Run(c.Name(), func(t *testing.T) {
			m := &msgenc.Message{Kind: msgenc.KindPing, TxID: 9, Ping: &msgenc.Ping{},
				Token: bytes.Repeat([]byte{1}, 16), Pad: make([]byte, 1000)}
			data, err := c.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			if !msgenc.Equal(m, got) {
				t.Fatalf("token or pad changed on the way: %x %d", got.Token, len(got.Pad))
			}
			if len(data) < 1000 {
				t.Fatalf("a padded frame of %d bytes: the pad was not sent", len(data))
			}
			for _, bad := range []*msgenc.Message{
				{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}, Token: make([]byte, msgenc.MaxTokenSize+1)},
				{Kind: msgenc.KindPing, Ping: &msgenc.Ping{}, Pad: make([]byte, msgenc.MaxPadSize+1)},
			} {
				if _, err := c.Marshal(bad); !errors.Is(err, msgenc.ErrInvalid) {
					t.Fatalf("an oversized token or pad encoded: %v", err)
				}
			}
		})
	}
}
