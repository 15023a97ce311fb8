package main

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"github.com/dhtkit/dhtkit/peer"
)

// A fetch in progress writes the file's bytes to OUT.fmpart and records
// which chunks are there in OUT.fmstate, a sidecar replaced atomically
// (written to a temporary file, synced, renamed, the directory synced)
// after the part file itself is synced, so that it never claims a chunk
// that a crash could lose. Layout (big-endian):
//
//	"DKST" | version 1 (1) | key length (1) | file ID | size (8) |
//	chunk size (4) | bitmap: one bit a chunk, chunk i at byte i/8,
//	bit i%8 | CRC-32 (IEEE) of all before it (4)
const (
	stateMagic   = "DKST"
	stateVersion = 1
	partSuffix   = ".fmpart"
	stateSuffix  = ".fmstate"
	// maxStateSize bounds a state file read: the bitmap of a 16 TiB file in
	// 32 KiB chunks.
	maxStateSize = 64 << 20
)

var errState = errors.New("not a fetch state file")

// sidecars returns the paths of the part file and the state file of a
// fetch to out: out with a suffix, or, where that would make a name longer
// than a file system allows, a shortened name and a hash of the whole.
func sidecars(out string) (part, state string) {
	dir, base := filepath.Split(out)
	if len(base)+len(stateSuffix) > MaxNameLen {
		sum := sha256.Sum256([]byte(base))
		short := []byte(base[:MaxNameLen-len(stateSuffix)-17])
		for !utf8.Valid(short) {
			short = short[:len(short)-1]
		}
		base = fmt.Sprintf("%s~%x", short, sum[:8])
	}
	return filepath.Join(dir, base+partSuffix), filepath.Join(dir, base+stateSuffix)
}

// fetchState is the sidecar's content: which file, and its finished chunks.
// It is safe for concurrent use.
type fetchState struct {
	id        peer.ID
	size      uint64
	chunkSize uint32
	mu        sync.Mutex // guards bits
	bits      []byte
}

func newFetchState(id peer.ID, f *fileNode) *fetchState {
	return &fetchState{id: id, size: f.Size, chunkSize: f.ChunkSize, bits: make([]byte, (f.chunks()+7)/8)}
}

func (s *fetchState) has(i uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bits[i/8]&(1<<(i%8)) != 0
}

func (s *fetchState) set(i uint64) {
	s.mu.Lock()
	s.bits[i/8] |= 1 << (i % 8)
	s.mu.Unlock()
}

func (s *fetchState) clear(i uint64) {
	s.mu.Lock()
	s.bits[i/8] &^= 1 << (i % 8)
	s.mu.Unlock()
}

// count is how many chunks are recorded.
func (s *fetchState) count() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n uint64
	for _, b := range s.bits {
		n += uint64(bits.OnesCount8(b))
	}
	return n
}

// bytes is how many bytes of file f the recorded chunks hold.
func (s *fetchState) bytes(f *fileNode) int64 {
	n := int64(s.count()) * int64(f.ChunkSize)
	if last := f.chunks() - 1; f.chunks() > 0 && s.has(last) {
		n -= int64(f.ChunkSize) - int64(chunkLen(f, last))
	}
	return n
}

// matches reports whether s records a fetch of file f under id.
func (s *fetchState) matches(id peer.ID, f *fileNode) bool {
	return s.id == id && s.size == f.Size && s.chunkSize == f.ChunkSize
}

func (s *fetchState) encode() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]byte, 0, len(stateMagic)+2+s.id.Len()+12+len(s.bits)+4)
	b = append(b, stateMagic...)
	b = append(b, stateVersion, byte(s.id.Len()))
	b = s.id.AppendBytes(b)
	b = binary.BigEndian.AppendUint64(b, s.size)
	b = binary.BigEndian.AppendUint32(b, s.chunkSize)
	b = append(b, s.bits...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func decodeState(b []byte) (*fetchState, error) {
	if len(b) < len(stateMagic)+2+4 || string(b[:len(stateMagic)]) != stateMagic || b[len(stateMagic)] != stateVersion {
		return nil, fmt.Errorf("%w: bad header", errState)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errState)
	}
	d := &decoder{b: body[len(stateMagic)+2:], keyLen: int(body[len(stateMagic)+1])}
	s := &fetchState{id: d.key("file ID"), size: d.u64("size"), chunkSize: d.u32("chunk size")}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %w", errState, d.err)
	}
	if s.chunkSize == 0 || s.chunkSize > MaxChunkSize {
		return nil, fmt.Errorf("%w: chunk size %d", errState, s.chunkSize)
	}
	if want := (chunkCount(s.size, s.chunkSize) + 7) / 8; uint64(len(d.b)) != want {
		return nil, fmt.Errorf("%w: bitmap of %d bytes, want %d", errState, len(d.b), want)
	}
	s.bits = append([]byte(nil), d.b...)
	return s, nil
}

// loadState reads the state file at path; a missing file is (nil, nil).
func loadState(path string) (*fetchState, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxStateSize {
		return nil, fmt.Errorf("%s: %w: over %d bytes", path, errState, maxStateSize)
	}
	s, err := decodeState(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// writeFileAtomic replaces path with data durably: a crash leaves either the
// old file or the new one, never a mix.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fm-*.tmp") // short: path may be as long as a name gets
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
