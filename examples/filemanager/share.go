package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/dhtkit/dhtkit/peer"
)

// sharer stores files and directories as chunks and manifest nodes.
type sharer struct {
	bs        blockStore
	hasher    peer.Hasher
	chunkSize int
	parallel  int
	progress  *progress
	warn      io.Writer // skipped entries are reported here

	// minAcks is the fewest replicas any stored value reached.
	minAcks int
	chunks  int
}

// sharePath shares a file or a directory and returns its manifest ID and
// the size of its files.
func (s *sharer) sharePath(ctx context.Context, path string) (peer.ID, uint64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return peer.ID{}, 0, err
	}
	name := filepath.Base(filepath.Clean(path))
	if abs, err := filepath.Abs(path); err == nil {
		name = filepath.Base(abs) // "." shares the directory under its own name
	}
	if err := validName(name); err != nil {
		return peer.ID{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case st.Mode().IsRegular():
		return s.shareFile(ctx, path, name)
	case st.IsDir():
		return s.shareDir(ctx, path, name, 0)
	}
	return peer.ID{}, 0, fmt.Errorf("%s: not a regular file or directory", path)
}

// putNode stores one manifest node.
func (s *sharer) putNode(ctx context.Context, b []byte) (peer.ID, error) {
	id, acks, err := s.bs.put(ctx, b)
	if err != nil {
		return peer.ID{}, fmt.Errorf("store manifest node: %w", err)
	}
	s.acked(acks)
	return id, nil
}

func (s *sharer) acked(acks int) {
	if s.minAcks == 0 || acks < s.minAcks {
		s.minAcks = acks
	}
}

// maxDirDepth bounds how deep a shared or fetched tree of directories goes.
const maxDirDepth = 64

// shareDir shares the directory at path, its files and subdirectories in
// name order, and returns its first page's ID and the total size of its
// files. Entries that are neither regular files nor directories (links,
// devices) are skipped with a warning.
func (s *sharer) shareDir(ctx context.Context, path, name string, depth int) (peer.ID, uint64, error) {
	if depth >= maxDirDepth {
		return peer.ID{}, 0, fmt.Errorf("%s: directories nested deeper than %d", path, maxDirDepth)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return peer.ID{}, 0, err
	}
	var entries []dirEntry
	var total uint64
	for _, de := range ents {
		child := filepath.Join(path, de.Name())
		if err := validName(de.Name()); err != nil {
			fmt.Fprintf(s.warn, "skipped %s: %v\n", child, err)
			continue
		}
		var en dirEntry
		switch t := de.Type(); {
		case t.IsRegular():
			en = dirEntry{Type: typeFile, Name: de.Name()}
			en.ID, en.Size, err = s.shareFile(ctx, child, de.Name())
		case t.IsDir():
			en = dirEntry{Type: typeDir, Name: de.Name()}
			en.ID, en.Size, err = s.shareDir(ctx, child, de.Name(), depth+1)
		default:
			fmt.Fprintf(s.warn, "skipped %s: not a regular file or directory\n", child)
			continue
		}
		if err != nil {
			return peer.ID{}, 0, err
		}
		entries = append(entries, en)
		total += en.Size
	}
	// Pages are chained from the last, whose key the one before holds.
	keyLen := s.hasher.Size()
	var pages [][]dirEntry
	for len(entries) > 0 {
		size, n := dirPageBase(name, keyLen), 0
		for n < len(entries) && n < 1<<16-1 && size+entrySize(entries[n].Name, keyLen) <= MaxNodeSize {
			size += entrySize(entries[n].Name, keyLen)
			n++
		}
		pages = append(pages, entries[:n])
		entries = entries[n:]
	}
	if len(pages) == 0 {
		pages = append(pages, nil)
	}
	var next peer.ID
	for _, p := range slices.Backward(pages) {
		id, err := s.putNode(ctx, (&dirNode{KeyLen: keyLen, Name: name, Size: total, Entries: p, Next: next}).encode())
		if err != nil {
			return peer.ID{}, 0, fmt.Errorf("%s: %w", path, err)
		}
		next = id
	}
	return next, total, nil
}

// shareFile stores the chunks of the file at path, then its index and file
// nodes, and returns the file node's ID and the file's size. Chunks are
// read in order and stored parallel at a time; their keys are folded into
// the tree in order as they complete, so memory holds at most a window of
// chunks and one pending node per level, whatever the file's size.
func (s *sharer) shareFile(ctx context.Context, path, name string) (peer.ID, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return peer.ID{}, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return peer.ID{}, 0, err
	}
	size := uint64(st.Size())
	n := chunkCount(size, uint32(s.chunkSize))
	depth, _, err := shape(n)
	if err != nil {
		return peer.ID{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	tb := &treeBuilder{keyLen: s.hasher.Size(), depth: depth, levels: make([][]peer.ID, depth+1), put: s.putNode}
	s.progress.start("share "+name, int64(size))
	defer s.progress.finish()

	wctx, cancel := context.WithCancel(ctx) // the reader's and workers'
	defer cancel()
	type result struct {
		i    uint64
		key  peer.ID
		acks int
		err  error
	}
	window := 4 * s.parallel
	credits := make(chan struct{}, window) // a chunk read holds one until it is folded in
	tasks := make(chan uint64)
	results := make(chan result, window)
	bufs := sync.Pool{New: func() any { b := make([]byte, s.chunkSize); return &b }}
	var wg sync.WaitGroup
	wg.Go(func() { // reader: hands out chunk indices in order, within the window
		defer close(tasks)
		for i := range n {
			select {
			case credits <- struct{}{}:
			case <-wctx.Done():
				return
			}
			select {
			case tasks <- i:
			case <-wctx.Done():
				return
			}
		}
	})
	for range s.parallel {
		wg.Go(func() {
			for i := range tasks {
				bp := bufs.Get().(*[]byte)
				want := int(min(uint64(s.chunkSize), size-i*uint64(s.chunkSize)))
				buf := (*bp)[:want]
				r := result{i: i}
				if _, err := f.ReadAt(buf, int64(i)*int64(s.chunkSize)); err != nil {
					r.err = fmt.Errorf("%s: read chunk %d: %w (did the file change?)", path, i, err)
				} else {
					r.key, r.acks, r.err = s.bs.put(wctx, buf)
					if r.err != nil {
						r.err = fmt.Errorf("%s: store chunk %d of %d: %w", path, i+1, n, r.err)
					}
				}
				bufs.Put(bp)
				select {
				case results <- r:
				case <-wctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Fold the keys into the tree in chunk order; after a failure, drain.
	pending := make(map[uint64]result, window)
	next := uint64(0)
	var failed error
	for r := range results {
		if failed != nil {
			continue
		}
		if r.err != nil {
			failed = r.err
			cancel()
			continue
		}
		pending[r.i] = r
		for r, ok := pending[next]; ok; r, ok = pending[next] {
			delete(pending, next)
			s.acked(r.acks)
			s.chunks++
			if err := tb.add(ctx, 0, r.key); err != nil {
				failed = fmt.Errorf("%s: %w", path, err)
				cancel()
				break
			}
			s.progress.add(int64(min(uint64(s.chunkSize), size-next*uint64(s.chunkSize))))
			next++
			<-credits
		}
	}
	cancel()
	if failed == nil && next < n {
		failed = fmt.Errorf("%s: stopped after %d of %d chunks: %w", path, next, n, ctx.Err())
	}
	if failed != nil {
		return peer.ID{}, 0, failed
	}
	if st2, err := f.Stat(); err != nil || uint64(st2.Size()) != size || !st2.ModTime().Equal(st.ModTime()) {
		return peer.ID{}, 0, fmt.Errorf("%s: %w", path, errors.New("the file changed while it was shared"))
	}
	top, err := tb.finish(ctx)
	if err != nil {
		return peer.ID{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	fn := &fileNode{KeyLen: s.hasher.Size(), Name: name, Size: size, ChunkSize: uint32(s.chunkSize), Depth: uint8(depth), Children: top}
	id, err := s.putNode(ctx, fn.encode())
	if err != nil {
		return peer.ID{}, 0, fmt.Errorf("%s: %w", path, err)
	}
	return id, size, nil
}

// treeBuilder folds a file's chunk keys, in order, into index nodes: each
// level keeps at most Fanout pending keys, and a full level becomes an
// index node whose key goes one level up. Level depth is the file node's.
type treeBuilder struct {
	keyLen int
	depth  int
	levels [][]peer.ID
	put    func(context.Context, []byte) (peer.ID, error)
}

func (t *treeBuilder) add(ctx context.Context, level int, key peer.ID) error {
	t.levels[level] = append(t.levels[level], key)
	if level < t.depth && len(t.levels[level]) == Fanout {
		return t.flush(ctx, level)
	}
	return nil
}

func (t *treeBuilder) flush(ctx context.Context, level int) error {
	id, err := t.put(ctx, (&indexNode{KeyLen: t.keyLen, Depth: uint8(level), Children: t.levels[level]}).encode())
	if err != nil {
		return err
	}
	t.levels[level] = t.levels[level][:0]
	return t.add(ctx, level+1, id)
}

// finish flushes the partial groups, lowest level first, and returns the
// keys the file node holds.
func (t *treeBuilder) finish(ctx context.Context) ([]peer.ID, error) {
	for l := range t.depth {
		if len(t.levels[l]) > 0 {
			if err := t.flush(ctx, l); err != nil {
				return nil, err
			}
		}
	}
	return t.levels[t.depth], nil
}
