package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dhtkit/dhtkit/peer"
)

// fetcher writes files and directories named by manifest IDs to disk.
type fetcher struct {
	bs         blockStore
	hasher     peer.Hasher
	parallel   int
	checkpoint time.Duration // how often a fetch in progress saves its state
	retry      retry         // for everything but the root; zero: chunkRetry
	progress   *progress
	log        io.Writer

	// bad counts values that did not hash to their keys.
	bad atomic.Int64
	// visited counts directory entries and pages, bounded by maxVisited.
	visited int
	// Totals for the summary.
	chunks, already, fetched atomic.Int64
	bytes                    atomic.Int64
}

// maxVisited bounds the directory entries and pages one fetch walks: the
// manifest graph is acyclic, but a hostile one can name the same
// directory many times over at every level.
const maxVisited = 1 << 20

var errExists = errors.New("exists and is not this file; remove it or choose another -o")

func (f *fetcher) retries() retry {
	if f.retry.attempts == 0 {
		return chunkRetry
	}
	return f.retry
}

// node gets, verifies and decodes the manifest node under key.
func (f *fetcher) node(ctx context.Context, key peer.ID, r retry) (any, error) {
	b, err := getVerified(ctx, f.bs, f.hasher, key, r, &f.bad)
	if err != nil {
		return nil, err
	}
	nd, err := decodeNode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key.Short(), err)
	}
	return nd, nil
}

// root gets the manifest node that id names: a file or a directory.
func (f *fetcher) root(ctx context.Context, id peer.ID) (any, error) {
	nd, err := f.node(ctx, id, rootRetry)
	if err != nil {
		return nil, err
	}
	if _, ok := nd.(*indexNode); ok {
		return nil, fmt.Errorf("%s names a part of a file's manifest, not a file or directory", id)
	}
	return nd, nil
}

// fetchID writes what id names to out, or, when out is empty, to its name
// in the current directory.
func (f *fetcher) fetchID(ctx context.Context, id peer.ID, out string) (string, error) {
	nd, err := f.root(ctx, id)
	if err != nil {
		return "", err
	}
	return f.fetchNode(ctx, id, nd, out)
}

// fetchNode writes the decoded root nd of id to out, or to its name.
func (f *fetcher) fetchNode(ctx context.Context, id peer.ID, nd any, out string) (string, error) {
	switch v := nd.(type) {
	case *fileNode:
		if out == "" {
			out = v.Name
		}
		f.progress.start("fetch "+v.Name, int64(v.Size))
		defer f.progress.finish()
		return out, f.fetchFile(ctx, id, v, out)
	case *dirNode:
		if out == "" {
			out = v.Name
		}
		f.progress.start("fetch "+v.Name+"/", int64(v.Size))
		defer f.progress.finish()
		return out, f.fetchDir(ctx, v, out, 0)
	}
	return "", fmt.Errorf("%s names a part of a file's manifest, not a file or directory", id)
}

// fetchDir writes the directory whose first page is dn into out, creating
// it, entry by entry.
func (f *fetcher) fetchDir(ctx context.Context, dn *dirNode, out string, depth int) error {
	if depth >= maxDirDepth {
		return fmt.Errorf("%s: directories nested deeper than %d", out, maxDirDepth)
	}
	if err := os.Mkdir(out, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if st, err := os.Stat(out); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: %w", out, errExists)
	}
	for page := dn; ; {
		for _, en := range page.Entries {
			if f.visited++; f.visited > maxVisited {
				return fmt.Errorf("%s: more than %d directory entries", out, maxVisited)
			}
			child := filepath.Join(out, en.Name) // en.Name is one valid path element
			nd, err := f.node(ctx, en.ID, f.retries())
			if err != nil {
				return fmt.Errorf("%s: %w", child, err)
			}
			switch v := nd.(type) {
			case *fileNode:
				if en.Type != typeFile || v.Size != en.Size {
					return fmt.Errorf("%s: %w: the entry does not match the file it names", child, errManifest)
				}
				err = f.fetchFile(ctx, en.ID, v, child)
			case *dirNode:
				if en.Type != typeDir {
					return fmt.Errorf("%s: %w: the entry does not match the directory it names", child, errManifest)
				}
				err = f.fetchDir(ctx, v, child, depth+1)
			default:
				return fmt.Errorf("%s: %w: the entry names an index node", child, errManifest)
			}
			if err != nil {
				return err
			}
		}
		if page.Next.IsZero() {
			return nil
		}
		if f.visited++; f.visited > maxVisited {
			return fmt.Errorf("%s: more than %d directory pages", out, maxVisited)
		}
		nd, err := f.node(ctx, page.Next, f.retries())
		if err != nil {
			return fmt.Errorf("%s: next page: %w", out, err)
		}
		next, ok := nd.(*dirNode)
		if !ok || next.Name != page.Name {
			return fmt.Errorf("%s: %w: a page that does not continue the directory", out, errManifest)
		}
		page = next
	}
}

// chunkLen is the length of chunk i of file fn.
func chunkLen(fn *fileNode, i uint64) int {
	return int(min(uint64(fn.ChunkSize), fn.Size-i*uint64(fn.ChunkSize)))
}

// fetchFile writes file fn, whose ID is id, to out. It works in
// out+".fmpart", recording finished chunks in out+".fmstate", and renames
// the part file to out once every chunk is there. A state left by an
// earlier run of the same file is resumed: its chunks are checked against
// their keys and only the others fetched. An existing out is left alone:
// if it already holds the file, the fetch is done.
func (f *fetcher) fetchFile(ctx context.Context, id peer.ID, fn *fileNode, out string) error {
	if st, err := os.Stat(out); err == nil {
		if !st.Mode().IsRegular() || uint64(st.Size()) != fn.Size {
			return fmt.Errorf("%s: %w", out, errExists)
		}
		file, err := os.Open(out)
		if err != nil {
			return err
		}
		defer file.Close()
		state := newFetchState(id, fn)
		for i := range fn.chunks() {
			state.set(i)
		}
		f.progress.adjust(-int64(fn.Size))
		if err := f.runChunks(ctx, fn, file, state, nil); err != nil {
			if errors.Is(err, errChanged) {
				return fmt.Errorf("%s: %w", out, errExists)
			}
			return err
		}
		fmt.Fprintf(f.log, "%s: already complete\n", out)
		return nil
	}

	partPath, statePath := sidecars(out)
	state, err := loadState(statePath)
	if err != nil {
		fmt.Fprintf(f.log, "%v: starting over\n", err)
	}
	if state != nil && !state.matches(id, fn) {
		fmt.Fprintf(f.log, "%s records another file: starting over\n", statePath)
		state = nil
	}
	flags := os.O_RDWR | os.O_CREATE
	if state == nil {
		state = newFetchState(id, fn)
		flags |= os.O_TRUNC
	}
	file, err := os.OpenFile(partPath, flags, 0o644)
	if err != nil {
		return err
	}
	defer file.Close()
	if err := file.Truncate(int64(fn.Size)); err != nil {
		return fmt.Errorf("%s: %w", partPath, err)
	}
	if have := state.count(); have > 0 {
		fmt.Fprintf(f.log, "resuming %s: %d of %d chunks already here\n", out, have, fn.chunks())
		f.progress.adjust(-state.bytes(fn))
	}
	cp := &checkpointer{file: file, path: statePath, state: state}
	if err := f.runChunks(ctx, fn, file, state, cp); err != nil {
		if serr := cp.save(); serr != nil {
			err = errors.Join(err, fmt.Errorf("save state: %w", serr))
		}
		return fmt.Errorf("%s: %w (finished chunks are kept: run the fetch again to resume)", out, err)
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("%s: %w", partPath, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("%s: %w", partPath, err)
	}
	if err := os.Rename(partPath, out); err != nil {
		return err
	}
	if err := os.Remove(statePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(out))
}

// errChanged: a chunk recorded as written does not hold what its key says.
var errChanged = errors.New("recorded chunk does not match its key")

// chunkTask is one chunk to fetch, or, with check, to read back from the
// file and verify, fetching it only if it fails.
type chunkTask struct {
	i     uint64
	key   peer.ID
	check bool
}

// runChunks brings every chunk of fn into file: the chunks state records
// are read back and verified, the others fetched, parallel at a time, each
// verified before it is written at its offset. With cp nil (a file that
// must not change) a chunk that fails its check ends the run with
// errChanged; otherwise it is fetched, and cp saves the state as chunks
// arrive.
func (f *fetcher) runChunks(ctx context.Context, fn *fileNode, file *os.File, state *fetchState, cp *checkpointer) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tasks := make(chan chunkTask, f.parallel)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(tasks)
		err := f.walk(ctx, fn, func(i uint64, key peer.ID) error {
			select {
			case tasks <- chunkTask{i: i, key: key, check: state.has(i)}:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		if err != nil {
			cancel(err)
		}
	})
	for range f.parallel {
		wg.Go(func() {
			buf := make([]byte, fn.ChunkSize)
			for t := range tasks {
				if err := f.chunk(ctx, fn, file, t, buf, state, cp == nil); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	stopCP := make(chan struct{})
	if cp != nil && f.checkpoint > 0 {
		var cpwg sync.WaitGroup
		cpwg.Go(func() {
			t := time.NewTicker(f.checkpoint)
			defer t.Stop()
			for {
				select {
				case <-stopCP:
					return
				case <-t.C:
					if err := cp.save(); err != nil {
						cancel(fmt.Errorf("save state: %w", err))
						return
					}
				}
			}
		})
		defer cpwg.Wait()
	}
	wg.Wait()
	close(stopCP)
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// chunk does one task: verify a recorded chunk, or fetch, verify and write
// one.
func (f *fetcher) chunk(ctx context.Context, fn *fileNode, file *os.File, t chunkTask, buf []byte, state *fetchState, readOnly bool) error {
	n := chunkLen(fn, t.i)
	off := int64(t.i) * int64(fn.ChunkSize)
	f.chunks.Add(1)
	if t.check {
		_, err := file.ReadAt(buf[:n], off)
		if err == nil && f.hasher.Sum(buf[:n]) == t.key {
			f.already.Add(1)
			return nil
		}
		if readOnly {
			return fmt.Errorf("chunk %d: %w", t.i, errChanged)
		}
		state.clear(t.i)
		f.progress.adjust(int64(n))
	}
	b, err := getVerified(ctx, f.bs, f.hasher, t.key, f.retries(), &f.bad)
	if err != nil {
		return fmt.Errorf("chunk %d of %d: %w", t.i+1, fn.chunks(), err)
	}
	if len(b) != n {
		return fmt.Errorf("chunk %d: %w: %d bytes, the manifest says %d", t.i+1, errManifest, len(b), n)
	}
	if _, err := file.WriteAt(b, off); err != nil {
		return fmt.Errorf("write chunk %d: %w", t.i+1, err)
	}
	state.set(t.i)
	f.fetched.Add(1)
	f.bytes.Add(int64(n))
	f.progress.add(int64(n))
	return nil
}

// walk calls emit with each chunk of fn and its key, in order, getting the
// index nodes on the way: it holds one index node per level at a time.
func (f *fetcher) walk(ctx context.Context, fn *fileNode, emit func(uint64, peer.ID) error) error {
	return f.walkLevel(ctx, fn.chunks(), int(fn.Depth), 0, fn.Children, emit)
}

// walkLevel walks children, nodes at level (0: chunks) of a tree over n
// chunks, the first of which is node first of its level.
func (f *fetcher) walkLevel(ctx context.Context, n uint64, level int, first uint64, children []peer.ID, emit func(uint64, peer.ID) error) error {
	for j, key := range children {
		idx := first + uint64(j)
		if level == 0 {
			if err := emit(idx, key); err != nil {
				return err
			}
			continue
		}
		lo := idx * Fanout
		hi := min(lo+Fanout, levelCount(n, level-1))
		nd, err := f.node(ctx, key, f.retries())
		if err != nil {
			return fmt.Errorf("index node: %w", err)
		}
		x, ok := nd.(*indexNode)
		if !ok || int(x.Depth) != level-1 || uint64(len(x.Children)) != hi-lo {
			return fmt.Errorf("%w: index node %s does not fit the file's tree", errManifest, key.Short())
		}
		if err := f.walkLevel(ctx, n, level-1, lo, x.Children, emit); err != nil {
			return err
		}
	}
	return nil
}

// checkpointer saves a fetch's state durably.
type checkpointer struct {
	file  *os.File
	path  string
	state *fetchState
	saved []byte
}

// save writes the state if it changed: it takes the record first, then
// syncs the part file, so that every chunk the record names is on disk
// before the record is.
func (c *checkpointer) save() error {
	snap := c.state.encode()
	if string(snap) == string(c.saved) {
		return nil
	}
	if err := c.file.Sync(); err != nil {
		return err
	}
	if err := writeFileAtomic(c.path, snap); err != nil {
		return err
	}
	c.saved = snap
	return nil
}
