package tcp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dhtkit/dhtkit/transport"
	ma "github.com/multiformats/go-multiaddr"
)

// Wire format constants; see the package doc.
const (
	helloMagic   = "DKT1"
	maxHelloAddr = 64 // bytes of multiaddr in a hello: /ip6/…/tcp/… needs 21
	frameHeader  = 4
)

// Decoding errors. A connection that produces one is closed.
var (
	// ErrBadHello: the connection did not start with a valid hello.
	ErrBadHello = errors.New("tcp: bad hello")
	// ErrOversizeFrame: a length prefix exceeds MaxFrameSize.
	ErrOversizeFrame = errors.New("tcp: length prefix over the frame limit")
)

// appendHello appends the hello announcing the listen address self.
func appendHello(b []byte, self ma.Multiaddr) ([]byte, error) {
	raw := self.Bytes()
	if len(raw) == 0 || len(raw) > maxHelloAddr {
		return nil, fmt.Errorf("tcp: listen address %v takes %d bytes, more than a hello carries (%d)", self, len(raw), maxHelloAddr)
	}
	b = append(b, helloMagic...)
	b = append(b, byte(len(raw)))
	return append(b, raw...), nil
}

// readHello reads a hello and returns the listen address it announces, a
// TCP address with a non-zero port.
func readHello(r io.Reader) (ma.Multiaddr, error) {
	var head [len(helloMagic) + 1]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHello, err)
	}
	if string(head[:len(helloMagic)]) != helloMagic {
		return nil, fmt.Errorf("%w: magic %q", ErrBadHello, head[:len(helloMagic)])
	}
	n := int(head[len(helloMagic)])
	if n == 0 || n > maxHelloAddr {
		return nil, fmt.Errorf("%w: address length %d outside 1..%d", ErrBadHello, n, maxHelloAddr)
	}
	var raw [maxHelloAddr]byte
	if _, err := io.ReadFull(r, raw[:n]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHello, err)
	}
	addr, err := ma.NewMultiaddrBytes(raw[:n])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHello, err)
	}
	ap, err := transport.ToAddrPort(addr, transport.TCP)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHello, err)
	}
	if ap.Port() == 0 {
		return nil, fmt.Errorf("%w: port 0", ErrBadHello)
	}
	return addr, nil
}

// appendFrame appends frame with its length prefix.
func appendFrame(b, frame []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

// readFrame reads one frame of at most max bytes into a new slice. A longer
// length prefix fails with ErrOversizeFrame before anything is allocated.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	fr := frameReader{br: r, max: max}
	return fr.next()
}

// frameReader reads frames and can be resumed after an error, such as an
// interrupted read, without losing the part of a frame already read: the
// connection's read role passes between its reader goroutine and Receive,
// and either may be interrupted in the middle of a frame.
type frameReader struct {
	br  *bufio.Reader
	max int
	// part is the frame being read (nil between frames); got counts the
	// bytes of it read so far.
	part []byte
	got  int
}

// next reads the rest of the current frame, or a new one. After an error
// other than a failed stream (an interruption), a later call goes on where
// this one stopped.
func (fr *frameReader) next() ([]byte, error) {
	if fr.part == nil {
		head, err := fr.br.Peek(frameHeader)
		if err != nil {
			if err == io.EOF && len(head) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		n := binary.BigEndian.Uint32(head)
		if uint64(n) > uint64(fr.max) {
			return nil, fmt.Errorf("%w: %d > %d", ErrOversizeFrame, n, fr.max)
		}
		if size := frameHeader + int(n); fr.br.Buffered() >= size {
			// All buffered, as a small frame mostly is: one copy, into
			// memory that need not be zeroed first.
			whole, _ := fr.br.Peek(size)             // cannot fail: buffered
			data := bytes.Clone(whole[frameHeader:]) // empty, not nil, for an empty frame
			fr.br.Discard(size)
			return data, nil
		}
		fr.br.Discard(frameHeader)
		fr.part, fr.got = make([]byte, n), 0
	}
	for fr.got < len(fr.part) {
		m, err := fr.br.Read(fr.part[fr.got:])
		fr.got += m
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	data := fr.part
	fr.part = nil
	return data, nil
}
