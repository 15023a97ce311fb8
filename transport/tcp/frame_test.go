package tcp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// fuzzMax is the frame limit the fuzz target decodes with.
const fuzzMax = 1024

func validHello(t testing.TB) []byte {
	h, err := appendHello(nil, ma.StringCast("/ip4/127.0.0.1/tcp/4001"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// FuzzReadFrame decodes a connection's byte stream as the reader does: a
// hello, then frames. Whatever the input, decoding must not panic, must
// never return a frame over the limit, and what it returns must re-encode
// to the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	hello := validHello(f)
	f.Add(hello)
	f.Add(appendFrame(appendFrame(bytes.Clone(hello), []byte("ping")), nil))
	f.Add(appendFrame(bytes.Clone(hello), bytes.Repeat([]byte{1}, fuzzMax)))
	f.Add(append(bytes.Clone(hello), 0xff, 0xff, 0xff, 0xff))                         // oversize prefix
	f.Add(append(bytes.Clone(hello), 0, 0, 0, 10, 1, 2))                              // truncated frame
	f.Add([]byte("DKT1\x00"))                                                         // empty address
	f.Add([]byte("DKT1\x40" + string(bytes.Repeat([]byte{4}, 64))))                   // garbage address
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))                                           // not a hello
	f.Add(append([]byte("DKT1\x07"), ma.StringCast("/ip4/1.2.3.4/udp/9").Bytes()...)) // a UDP address
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.NewReader(data)
		// consumed counts the bytes decoded so far; the bufio.Reader may
		// have read ahead of them.
		r := bufio.NewReaderSize(in, 16)
		consumed := func() int { return len(data) - in.Len() - r.Buffered() }
		addr, err := readHello(r)
		if err != nil {
			if !errors.Is(err, ErrBadHello) {
				t.Fatalf("readHello error %v does not match ErrBadHello", err)
			}
			return
		}
		helloLen := consumed()
		again, err := appendHello(nil, addr)
		if err != nil || !bytes.Equal(again, data[:helloLen]) {
			t.Fatalf("hello for %v re-encodes to %x, %v; read from %x", addr, again, err, data[:helloLen])
		}
		var frames [][]byte
		defer func() {
			if !t.Failed() {
				checkInterrupted(t, data[helloLen:], frames)
			}
		}()
		for {
			start := consumed()
			frame, err := readFrame(r, fuzzMax)
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrOversizeFrame) {
					t.Fatalf("readFrame: unexpected error %v", err)
				}
				frames = append(frames, []byte(err.Error()))
				return
			}
			frames = append(frames, frame)
			if len(frame) > fuzzMax {
				t.Fatalf("readFrame returned %d bytes, over the limit %d", len(frame), fuzzMax)
			}
			end := consumed()
			if !bytes.Equal(appendFrame(nil, frame), data[start:end]) {
				t.Fatalf("frame does not re-encode to the %d bytes it was read from", end-start)
			}
		}
	})
}

// checkInterrupted decodes stream again, as a connection's read role does
// when it passes between goroutines: every other read is interrupted and
// the others take at most 3 bytes. It must give the same frames, then the
// same error, as an uninterrupted read (want holds the frames, then the
// error's text).
func checkInterrupted(t *testing.T, stream []byte, want [][]byte) {
	t.Helper()
	fr := frameReader{br: bufio.NewReaderSize(&interrupter{r: bytes.NewReader(stream)}, 16), max: fuzzMax}
	for i := 0; ; {
		frame, err := fr.next()
		if errors.Is(err, errInterrupted) {
			continue
		}
		if i >= len(want) {
			t.Fatalf("interrupted decoding gave more than %d results", len(want))
		}
		got := frame
		if err != nil {
			got = []byte(err.Error())
		}
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("interrupted decoding, result %d: %q, want %q", i, got, want[i])
		}
		i++
		if err != nil {
			if i != len(want) {
				t.Fatalf("interrupted decoding stopped after %d of %d results", i, len(want))
			}
			return
		}
	}
}

// interrupter fails every other Read with errInterrupted, and reads at
// most 3 bytes otherwise.
type interrupter struct {
	r   io.Reader
	odd bool
}

func (i *interrupter) Read(b []byte) (int, error) {
	i.odd = !i.odd
	if i.odd {
		return 0, errInterrupted
	}
	return i.r.Read(b[:min(len(b), 3)])
}

func TestFrameReaderResumesAfterInterruptions(t *testing.T) {
	var stream []byte
	var want [][]byte
	for _, n := range []int{0, 1, 5, 40, fuzzMax} {
		f := bytes.Repeat([]byte{byte(n)}, n)
		stream = appendFrame(stream, f)
		want = append(want, f)
	}
	want = append(want, []byte(io.EOF.Error()))
	checkInterrupted(t, stream, want)
	// Cut inside the last frame: the error after the frames before it.
	want[len(want)-2] = []byte(io.ErrUnexpectedEOF.Error())
	checkInterrupted(t, stream[:len(stream)-7], want[:len(want)-1])
}

func TestReadFrameRejectsOversizePrefixWithoutAllocating(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readFrame(bufio.NewReader(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3})), maxFrameLimit)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrOversizeFrame) {
		t.Fatalf("readFrame of a 4 GiB prefix: %v, want ErrOversizeFrame", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("readFrame allocated %d bytes for a rejected prefix", grew)
	}
}

func TestReadFrameEndsCleanlyBetweenFrames(t *testing.T) {
	r := bufio.NewReader(bytes.NewReader(appendFrame(nil, []byte("one"))))
	if f, err := readFrame(r, fuzzMax); err != nil || string(f) != "one" {
		t.Fatalf("readFrame = %q, %v", f, err)
	}
	if _, err := readFrame(r, fuzzMax); err != io.EOF {
		t.Fatalf("readFrame at the end of the stream: %v, want io.EOF", err)
	}
	r = bufio.NewReader(bytes.NewReader([]byte{0, 0, 0, 5, 'a'}))
	if _, err := readFrame(r, fuzzMax); err != io.ErrUnexpectedEOF {
		t.Fatalf("readFrame of a cut frame: %v, want io.ErrUnexpectedEOF", err)
	}
	r = bufio.NewReader(bytes.NewReader([]byte{0, 0}))
	if _, err := readFrame(r, fuzzMax); err != io.ErrUnexpectedEOF {
		t.Fatalf("readFrame of a cut length prefix: %v, want io.ErrUnexpectedEOF", err)
	}
}
