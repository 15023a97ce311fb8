package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dhtkit/dhtkit/peer"
)

// Manifest nodes describe what a file ID names. Each is an immutable value
// (its key is the hash of its bytes), so a node verifies itself and so does
// everything it names. Layout (version 1, big-endian):
//
//	header: "DKFM" | version 1 (1) | type (1) | key length (1: 20 or 32)
//	file  (type 1): name | size (8) | chunk size (4) | depth (1) | count (2) | count keys
//	index (type 2): depth (1) | count (2) | count keys
//	dir   (type 3): name | size (8) | count (2) | count entries | has next (1) [| next key]
//	entry:          type (1: file or dir) | name | size (8) | key
//	name:           length (1) + UTF-8 bytes
//
// A file's chunks are the leaves of a tree: the keys of consecutive groups
// of Fanout chunks go into index nodes, the keys of groups of those into
// index nodes one level up, and so on until at most Fanout keys remain,
// which the file node holds. depth is the level of a node's children: 0
// when they are chunks. The shape follows from the size and the chunk size
// alone, so a reader checks every node's count against it. A directory is a
// chain of pages, each listing entries by name, size and manifest ID, with
// the key of the next page; a page holds as many entries as fit MaxNodeSize.
// Every page states the directory's size: the total of the sizes of the
// files in it and below it.
const (
	manifestMagic   = "DKFM"
	manifestVersion = 1
	// Fanout is the most keys a file or index node holds: 1024 keys of 32
	// bytes keep a node near 32 KiB, the size of a chunk.
	Fanout = 1024
	// MaxDepth bounds a file's tree: depth 4 addresses Fanout^5 chunks,
	// 32 PiB at 32 KiB a chunk.
	MaxDepth = 4
	// MaxNodeSize bounds an encoded node. Every node the file manager
	// writes fits; a decoder refuses anything larger before it looks
	// further.
	MaxNodeSize = 40 << 10
	// MaxChunkSize bounds the chunk size a manifest may state, and so what
	// a reader holds per chunk in flight.
	MaxChunkSize = 64 << 10
	// MaxNameLen bounds a name in bytes, as most file systems do.
	MaxNameLen = 255
	headerLen  = len(manifestMagic) + 3
)

// Node types.
const (
	typeFile  = 1
	typeIndex = 2
	typeDir   = 3
)

// errManifest is wrapped by every decoding and shape error.
var errManifest = errors.New("not a valid manifest")

// fileNode is the root of a file: its name, size, chunk size and the top
// of its chunk tree.
type fileNode struct {
	KeyLen    int // of the network's key space: 20 or 32
	Name      string
	Size      uint64
	ChunkSize uint32
	Depth     uint8
	Children  []peer.ID
}

// indexNode is an inner node of a file's chunk tree.
type indexNode struct {
	KeyLen   int
	Depth    uint8
	Children []peer.ID
}

// dirNode is one page of a directory.
type dirNode struct {
	KeyLen  int
	Name    string
	Size    uint64 // the total size of the files in and below the directory
	Entries []dirEntry
	Next    peer.ID // the next page; zero for the last
}

// dirEntry names a file or directory inside a directory.
type dirEntry struct {
	Type uint8 // typeFile or typeDir
	Name string
	Size uint64 // a file's size; a directory's total of file sizes
	ID   peer.ID
}

// chunks is how many chunks the file has.
func (f *fileNode) chunks() uint64 { return chunkCount(f.Size, f.ChunkSize) }

func chunkCount(size uint64, chunkSize uint32) uint64 {
	if size == 0 {
		return 0
	}
	return (size-1)/uint64(chunkSize) + 1
}

// shape returns the depth of a file of n chunks and how many children its
// file node holds.
func shape(n uint64) (depth int, top uint64, err error) {
	top = n
	for top > Fanout {
		depth++
		if depth > MaxDepth {
			return 0, 0, fmt.Errorf("%w: %d chunks need a tree deeper than %d", errManifest, n, MaxDepth)
		}
		top = (top-1)/Fanout + 1
	}
	return depth, top, nil
}

// levelCount is how many nodes level l of a tree over n chunks has
// (level 0: the chunks).
func levelCount(n uint64, l int) uint64 {
	for range l {
		n = (n + Fanout - 1) / Fanout
	}
	return n
}

// validName reports why name cannot be one element of a path on disk, or
// nil: it must be valid UTF-8 of 1 to MaxNameLen bytes, not "." or "..",
// and hold no slash, backslash or NUL, so that no manifest can make a fetch
// write outside its output directory.
func validName(name string) error {
	switch {
	case name == "" || len(name) > MaxNameLen:
		return fmt.Errorf("name of %d bytes (want 1 to %d)", len(name), MaxNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("name %q", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("name %q holds a path separator or NUL", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not UTF-8", name)
	}
	return nil
}

// encoder appends a node's fields.
type encoder struct{ b []byte }

func newEncoder(typ uint8, keyLen int) *encoder {
	e := &encoder{b: make([]byte, 0, 1024)}
	e.b = append(e.b, manifestMagic...)
	e.b = append(e.b, manifestVersion, typ, byte(keyLen))
	return e
}

func (e *encoder) name(s string)  { e.b = append(append(e.b, byte(len(s))), s...) }
func (e *encoder) u8(v uint8)     { e.b = append(e.b, v) }
func (e *encoder) u16(v int)      { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }
func (e *encoder) u32(v uint32)   { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)   { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) key(id peer.ID) { e.b = id.AppendBytes(e.b) }
func (e *encoder) keys(k []peer.ID) {
	e.u16(len(k))
	for _, id := range k {
		e.key(id)
	}
}

func (f *fileNode) encode() []byte {
	e := newEncoder(typeFile, f.KeyLen)
	e.name(f.Name)
	e.u64(f.Size)
	e.u32(f.ChunkSize)
	e.u8(f.Depth)
	e.keys(f.Children)
	return e.b
}

func (x *indexNode) encode() []byte {
	e := newEncoder(typeIndex, x.KeyLen)
	e.u8(x.Depth)
	e.keys(x.Children)
	return e.b
}

func (d *dirNode) encode() []byte {
	e := newEncoder(typeDir, d.KeyLen)
	e.name(d.Name)
	e.u64(d.Size)
	e.u16(len(d.Entries))
	for _, en := range d.Entries {
		e.u8(en.Type)
		e.name(en.Name)
		e.u64(en.Size)
		e.key(en.ID)
	}
	if d.Next.IsZero() {
		e.u8(0)
	} else {
		e.u8(1)
		e.key(d.Next)
	}
	return e.b
}

// entrySize is the encoded size of a directory entry.
func entrySize(name string, keyLen int) int { return 1 + 1 + len(name) + 8 + keyLen }

// dirPageBase is the encoded size of a directory page without entries.
func dirPageBase(name string, keyLen int) int { return headerLen + 1 + len(name) + 8 + 2 + 1 + keyLen }

// decoder reads a node's fields, bounding each before it slices; the first
// failure sticks.
type decoder struct {
	b      []byte
	keyLen int
	err    error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{errManifest}, args...)...)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail("truncated %s", what)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8(what string) uint8 {
	if v := d.take(1, what); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u16(what string) int {
	if v := d.take(2, what); v != nil {
		return int(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (d *decoder) u32(what string) uint32 {
	if v := d.take(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if v := d.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) name(what string) string {
	n := int(d.u8(what + " length"))
	s := string(d.take(n, what))
	if d.err == nil {
		if err := validName(s); err != nil {
			d.fail("%s: %v", what, err)
		}
	}
	return s
}

func (d *decoder) key(what string) peer.ID {
	v := d.take(d.keyLen, what)
	if d.err != nil {
		return peer.ID{}
	}
	id, err := peer.IDFromBytes(v)
	if err != nil {
		d.fail("%s: %v", what, err)
	}
	return id
}

// keys reads a count and that many keys, at most max.
func (d *decoder) keys(max int, what string) []peer.ID {
	n := d.u16(what + " count")
	if d.err != nil {
		return nil
	}
	if n > max {
		d.fail("%d %s, at most %d", n, what, max)
		return nil
	}
	if n*d.keyLen > len(d.b) {
		d.fail("truncated %s", what)
		return nil
	}
	if n == 0 {
		return nil
	}
	ids := make([]peer.ID, n)
	for i := range ids {
		ids[i] = d.key(what)
	}
	return ids
}

// decodeNode parses one manifest node: a *fileNode, *indexNode or
// *dirNode. It bounds every size before it allocates, checks that a file
// node's tree has the shape its size implies, and accepts only the one
// encoding encode produces.
func decodeNode(b []byte) (any, error) {
	if len(b) > MaxNodeSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", errManifest, len(b), MaxNodeSize)
	}
	if len(b) < headerLen || string(b[:len(manifestMagic)]) != manifestMagic {
		return nil, fmt.Errorf("%w: no manifest header", errManifest)
	}
	if v := b[len(manifestMagic)]; v != manifestVersion {
		return nil, fmt.Errorf("%w: version %d, this program reads %d", errManifest, v, manifestVersion)
	}
	typ := b[len(manifestMagic)+1]
	d := &decoder{b: b[headerLen:], keyLen: int(b[headerLen-1])}
	if d.keyLen != peer.IDLen160 && d.keyLen != peer.IDLen256 {
		return nil, fmt.Errorf("%w: key length %d", errManifest, d.keyLen)
	}
	var node any
	switch typ {
	case typeFile:
		node = d.file()
	case typeIndex:
		node = d.index()
	case typeDir:
		node = d.dir()
	default:
		return nil, fmt.Errorf("%w: unknown node type %d", errManifest, typ)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return node, nil
}

func (d *decoder) file() *fileNode {
	f := &fileNode{KeyLen: d.keyLen, Name: d.name("file name"), Size: d.u64("size"), ChunkSize: d.u32("chunk size"), Depth: d.u8("depth")}
	f.Children = d.keys(Fanout, "children")
	if d.err != nil {
		return nil
	}
	if f.ChunkSize == 0 || f.ChunkSize > MaxChunkSize {
		d.fail("chunk size %d (want 1 to %d)", f.ChunkSize, MaxChunkSize)
		return nil
	}
	depth, top, err := shape(f.chunks())
	if err != nil {
		d.fail("%v", err)
		return nil
	}
	if int(f.Depth) != depth || uint64(len(f.Children)) != top {
		d.fail("%d bytes in %d-byte chunks make a tree of depth %d with %d children at the top, not %d with %d",
			f.Size, f.ChunkSize, depth, top, f.Depth, len(f.Children))
		return nil
	}
	return f
}

func (d *decoder) index() *indexNode {
	x := &indexNode{KeyLen: d.keyLen, Depth: d.u8("depth")}
	x.Children = d.keys(Fanout, "children")
	if d.err != nil {
		return nil
	}
	if x.Depth >= MaxDepth || len(x.Children) == 0 {
		d.fail("index node of depth %d with %d children", x.Depth, len(x.Children))
		return nil
	}
	return x
}

func (d *decoder) dir() *dirNode {
	dn := &dirNode{KeyLen: d.keyLen, Name: d.name("directory name"), Size: d.u64("directory size")}
	n := d.u16("entry count")
	// Every entry takes at least entrySize of a one-byte name: bound the
	// count by what is left before allocating.
	if d.err == nil && n*entrySize("x", d.keyLen) > len(d.b) {
		d.fail("truncated entries")
	}
	if d.err != nil {
		return nil
	}
	if n > 0 {
		dn.Entries = make([]dirEntry, 0, n)
	}
	for range n {
		en := dirEntry{Type: d.u8("entry type"), Name: d.name("entry name"), Size: d.u64("entry size"), ID: d.key("entry key")}
		if d.err == nil && en.Type != typeFile && en.Type != typeDir {
			d.fail("entry %q of type %d", en.Name, en.Type)
		}
		if d.err != nil {
			return nil
		}
		dn.Entries = append(dn.Entries, en)
	}
	switch more := d.u8("next flag"); {
	case d.err != nil:
	case more == 1:
		dn.Next = d.key("next page")
	case more != 0:
		d.fail("next flag %d", more)
	}
	return dn
}

func (f *fileNode) name() string { return f.Name }
func (d *dirNode) name() string  { return d.Name }
