package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A node with a state file (Builder.StateFile) keeps there what it needs to
// come back where it left off: a bounded set of good contacts, to rejoin
// without being told a bootstrap address, and the values it publishes, to
// keep republishing them. The file is replaced atomically (write, sync,
// rename, sync the directory) after every publish, every refresh round and
// on Close, so a node killed at any moment finds a whole file, at worst one
// publish old.
//
// Layout (big-endian), then a CRC-32 (IEEE) of everything before it:
//
//	"DKST" | version 1 | owner ID (len u8 + bytes)
//	contacts u16 | each: ID, public key, seq u64, addrs u8 × (len u16 + bytes), signature
//	values u32 | each: key, publisher, salt, seq u64, signature, value (len u32 + bytes)
//
// where a field without a stated length is len u8 + bytes. Everything read
// back is verified again: records and values alike.

const (
	stateMagic   = "DKST"
	stateVersion = 1
	// maxSavedContacts bounds the contacts a state file keeps.
	maxSavedContacts = 64
	// maxSavedValues bounds the published values a state file keeps; a
	// node publishing more keeps republishing them until it closes, but
	// only these survive a restart.
	maxSavedValues = 4096
)

// Errors reading a state file; both leave the node to start afresh.
var (
	errCorruptState = errors.New("node: corrupt state file")
	errForeignState = errors.New("node: state file belongs to another node")
)

// savedState is what a state file holds.
type savedState struct {
	contacts []*peer.Record
	values   []msgenc.ValueRecord
}

func encodeState(owner peer.ID, s savedState) []byte {
	var b []byte
	b = append(b, stateMagic...)
	b = append(b, stateVersion)
	b = appendShort(b, owner.Bytes())
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.contacts)))
	for _, r := range s.contacts {
		b = appendShort(b, r.ID.Bytes())
		b = appendShort(b, r.PublicKey)
		b = binary.BigEndian.AppendUint64(b, r.Seq)
		b = append(b, byte(len(r.Addrs)))
		for _, a := range r.Addrs {
			b = binary.BigEndian.AppendUint16(b, uint16(len(a.Bytes())))
			b = append(b, a.Bytes()...)
		}
		b = appendShort(b, r.Signature)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.values)))
	for _, v := range s.values {
		b = appendShort(b, v.Key)
		b = appendShort(b, v.Publisher)
		b = appendShort(b, v.Salt)
		b = binary.BigEndian.AppendUint64(b, v.Seq)
		b = appendShort(b, v.Signature)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v.Value)))
		b = append(b, v.Value...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func appendShort(b, f []byte) []byte { return append(append(b, byte(len(f))), f...) }

// stateReader reads the fields of a state file, bounding each before it
// slices; the first problem sticks.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errCorruptState
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f
}

func (r *stateReader) short() []byte {
	n := r.take(1)
	if n == nil {
		return nil
	}
	return bytes.Clone(r.take(int(n[0])))
}

func (r *stateReader) u16() int {
	if b := r.take(2); b != nil {
		return int(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *stateReader) u32() int {
	if b := r.take(4); b != nil {
		return int(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *stateReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// decodeState parses a state file of owner. It checks the checksum, the
// owner and every bound; it does not verify signatures (loadState does).
func decodeState(owner peer.ID, b []byte) (savedState, error) {
	var s savedState
	if len(b) < len(stateMagic)+1+4 || string(b[:len(stateMagic)]) != stateMagic {
		return s, fmt.Errorf("%w: not a state file", errCorruptState)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return s, fmt.Errorf("%w: checksum mismatch", errCorruptState)
	}
	if body[len(stateMagic)] != stateVersion {
		return s, fmt.Errorf("%w: version %d", errCorruptState, body[len(stateMagic)])
	}
	r := &stateReader{b: body[len(stateMagic)+1:]}
	if got := r.short(); r.err == nil && !bytes.Equal(got, owner.Bytes()) {
		return s, fmt.Errorf("%w: made by %x", errForeignState, got)
	}
	n := r.u16()
	if n > maxSavedContacts {
		return s, fmt.Errorf("%w: %d contacts", errCorruptState, n)
	}
	for range n {
		id, pub, seq := r.short(), r.short(), r.u64()
		na := r.take(1)
		if r.err != nil {
			break
		}
		rec := &peer.Record{PublicKey: ed25519.PublicKey(pub), Seq: seq}
		for range int(na[0]) {
			raw := r.take(r.u16())
			if r.err != nil {
				break
			}
			a, err := ma.NewMultiaddrBytes(raw)
			if err != nil {
				r.err = errCorruptState
				break
			}
			rec.Addrs = append(rec.Addrs, a)
		}
		rec.Signature = r.short()
		pid, err := peer.IDFromBytes(id)
		if err != nil {
			r.err = errCorruptState
			break
		}
		rec.ID = pid
		s.contacts = append(s.contacts, rec)
	}
	n = r.u32()
	if n > maxSavedValues {
		return savedState{}, fmt.Errorf("%w: %d values", errCorruptState, n)
	}
	for range n {
		v := msgenc.ValueRecord{Key: r.short(), Publisher: r.short(), Salt: r.short(), Seq: r.u64(), Signature: r.short()}
		size := r.u32()
		if size > msgenc.MaxValueSize {
			r.err = errCorruptState
		}
		v.Value = bytes.Clone(r.take(size))
		if r.err != nil {
			break
		}
		s.values = append(s.values, v)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorruptState
	}
	if r.err != nil {
		return savedState{}, fmt.Errorf("%w: truncated or malformed", r.err)
	}
	return s, nil
}

// loadState reads the node's state file, if it has one, keeping only the
// contacts and values that verify. A missing file is a first start; a
// corrupt or foreign one is reported and ignored.
func (n *Node) loadState() {
	path := n.cfg.stateFile
	if path == "" {
		return
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var s savedState
	if err == nil {
		s, err = decodeState(n.id, b)
	}
	if err != nil {
		n.cfg.logger.Warn("state file ignored: starting afresh", "path", path, "err", err)
		return
	}
	var contacts []*peer.Record
	for _, r := range s.contacts {
		if r.Verify(n.cfg.hasher) == nil && r.ID != n.id && r.ID.Len() == n.id.Len() {
			contacts = append(contacts, r)
		}
	}
	n.restored.Store(&contacts)
	kept := 0
	for i := range s.values {
		w := &s.values[i]
		w.TTL = ttlSeconds(n.cfg.recordTTL)
		if v, err := n.parseValue(w); err == nil {
			n.published.add(v, w)
			kept++
		}
	}
	n.cfg.logger.Info("state restored", "path", path, "contacts", len(contacts), "published", kept)
}

// saveState writes the node's state file, if it has one: the peers its
// table ranks closest to it, and what it publishes.
func (n *Node) saveState() {
	path := n.cfg.stateFile
	if path == "" {
		return
	}
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	s := savedState{contacts: n.table.Closest(n.id, maxSavedContacts)}
	if len(s.contacts) == 0 {
		// Nothing learned yet: keep the contacts restored at start.
		if r := n.restored.Load(); r != nil {
			s.contacts = *r
		}
	}
	for _, r := range n.published.snapshot() {
		if len(s.values) == maxSavedValues {
			break
		}
		s.values = append(s.values, *r)
	}
	if err := writeFileAtomic(path, encodeState(n.id, s)); err != nil {
		n.cfg.logger.Warn("state file not saved", "path", path, "err", err)
	}
}

// writeFileAtomic replaces path with data so that a crash at any moment
// leaves the old file or the new one, whole.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// restoredSeeds returns the contacts of the state file, if any.
func (n *Node) restoredSeeds() []ma.Multiaddr {
	r := n.restored.Load()
	if r == nil {
		return nil
	}
	var addrs []ma.Multiaddr
	for _, rec := range *r {
		addrs = append(addrs, rec.Addrs...)
	}
	return addrs
}
