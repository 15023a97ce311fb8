package msgenc_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/msgenc"
)

func TestEqualTreatsNilAndEmptyAlike(t *testing.T) {
	a := &msgenc.Message{Kind: msgenc.KindPeers, Sender: &msgenc.PeerRecord{ID: []byte{}, Addrs: [][]byte{}},
		Peers: &msgenc.Peers{Peers: []msgenc.PeerRecord{}}}
	b := &msgenc.Message{Kind: msgenc.KindPeers, Sender: &msgenc.PeerRecord{}, Peers: &msgenc.Peers{}}
	if !msgenc.Equal(a, b) || !msgenc.Equal(nil, nil) {
		t.Fatal("nil and empty fields compare unequal")
	}
	if msgenc.Equal(a, nil) || msgenc.Equal(nil, b) {
		t.Fatal("a message equals nil")
	}
	b.Sender = nil
	if msgenc.Equal(a, b) {
		t.Fatal("an empty sender equals no sender")
	}
}

// TestEqualSeesEveryField changes one field at a time, anywhere in every
// sample message, and expects Equal to notice: a field Equal skipped would
// make every codec round-trip check blind to it.
func TestEqualSeesEveryField(t *testing.T) {
	const seed = 7
	ms := conformance.SampleMessages(rand.New(rand.NewPCG(seed, seed)))
	ref := conformance.SampleMessages(rand.New(rand.NewPCG(seed, seed)))
	for i := range ms {
		if !msgenc.Equal(ms[i], ref[i]) {
			t.Fatalf("sample %d differs from its twin", i)
		}
		eachField(reflect.ValueOf(ms[i]).Elem(), "message", func(path string) {
			if msgenc.Equal(ms[i], ref[i]) {
				t.Errorf("sample %d: Equal misses a change to %s", i, path)
			}
		})
	}
}

// eachField changes every field under v in turn, calls check, and restores
// the field.
func eachField(v reflect.Value, path string, check func(path string)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		old := reflect.ValueOf(v.Interface())
		v.SetZero()
		check(path + " (set to nil)")
		v.Set(old)
		eachField(v.Elem(), path, check)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				eachField(v.Field(i), path+"."+v.Type().Field(i).Name, check)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			old := v.Bytes()
			v.SetBytes(append(append([]byte(nil), old...), 1))
			check(path)
			v.SetBytes(old)
			return
		}
		for i := range v.Len() {
			eachField(v.Index(i), path, check)
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() ^ 1)
		check(path)
		v.SetUint(v.Uint() ^ 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
		check(path)
		v.SetBool(!v.Bool())
	case reflect.String:
		old := v.String()
		v.SetString(old + "x")
		check(path)
		v.SetString(old)
	}
}
