package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dhtkit/dhtkit/kvstore"
	kvbbolt "github.com/dhtkit/dhtkit/kvstore/bbolt"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/route/toymap"
	"github.com/dhtkit/dhtkit/route/trustorder"
)

// Server are the flags of a command that runs full nodes, which hold
// other peers in their routing tables and keep their values: the part
// flags, the routing table and the store. A client has neither flag: it
// enters no one's table and keeps no one's values.
type Server struct {
	Parts
	Route string // "kademlia", "toymap" or "trustorder"; "" is kademlia
	Store StoreSpec
	// Level grades peers for the trustorder table (a web-of-trust
	// policy's Level); nil grades every peer 0, which ranks by distance.
	Level func(peer.ID) int
}

// Register adds the server flags to fs; listenDoc explains --listen for
// the subcommand at hand.
func (s *Server) Register(fs *FlagSet, listenDoc string) {
	s.Parts.Register(fs, listenDoc)
	s.Route = "kademlia"
	fs.Func("route", "routing `table`: kademlia, toymap or trustorder (peers ranked by serve --trust-roots' web of trust, then distance; default kademlia)", func(v string) error {
		if _, err := tableFunc(v, nil); err != nil {
			return err
		}
		s.Route = v
		return nil
	})
	fs.Func("store", "record `store`: memory, or bbolt:DIR for durable files in directory DIR, made if missing (default memory)", func(v string) error {
		spec, err := parseStore(v)
		if err != nil {
			return err
		}
		s.Store = spec
		return nil
	})
}

// Builder returns a Builder holding the chosen parts, with a store opened
// for the node called name (see StoreSpec). The caller owns the store
// until Build succeeds, and must close it when Build fails.
func (s *Server) Builder(name string, stderr io.Writer) (*node.Builder, kvstore.Store, error) {
	b, err := s.Parts.Builder(stderr)
	if err != nil {
		return nil, nil, err
	}
	route := s.Route
	if route == "" {
		route = "kademlia"
	}
	table, err := tableFunc(route, s.Level)
	if err != nil {
		return nil, nil, err
	}
	store, err := s.Store.open(name)
	if err != nil {
		return nil, nil, err
	}
	return b.Table(table).Store(store), store, nil
}

// tableFunc returns the node.TableFunc of a routing table by name. level
// grades peers for trustorder; nil grades every peer 0.
func tableFunc(name string, level func(peer.ID) int) (node.TableFunc, error) {
	switch name {
	case "kademlia":
		return func(self peer.ID, k int) (route.Table, error) {
			return kademlia.New(self, kademlia.Options{K: k})
		}, nil
	case "toymap":
		return func(self peer.ID, _ int) (route.Table, error) {
			return toymap.New(self, toymap.Options{})
		}, nil
	case "trustorder":
		if level == nil {
			level = func(peer.ID) int { return 0 }
		}
		return func(self peer.ID, k int) (route.Table, error) {
			return trustorder.New(self, trustorder.Options{K: k, Level: level})
		}, nil
	}
	return nil, fmt.Errorf("unknown routing table %q (want kademlia, toymap or trustorder)", name)
}

// StoreSpec is a parsed --store: memory, or bbolt:DIR. DIR is a directory
// in every command, holding one file per node: NAME.db for the node called
// NAME (serve's one node is "node", testnet's are node-0000 and on).
// The zero StoreSpec is memory.
type StoreSpec struct {
	Dir string // the bbolt directory; "" for memory
}

// parseStore reads a --store value.
func parseStore(s string) (StoreSpec, error) {
	if s == "memory" {
		return StoreSpec{}, nil
	}
	if dir, ok := strings.CutPrefix(s, "bbolt:"); ok {
		if dir == "" {
			return StoreSpec{}, errors.New("bbolt store needs a directory: bbolt:DIR")
		}
		return StoreSpec{Dir: dir}, nil
	}
	return StoreSpec{}, fmt.Errorf("unknown store %q (want memory or bbolt:DIR)", s)
}

func (s StoreSpec) String() string {
	if s.Dir != "" {
		return "bbolt:" + s.Dir
	}
	return "memory"
}

// open opens the store of the node called name: a fresh memory store, or
// the bbolt file DIR/NAME.db, making DIR (mode 0700) if it is missing.
func (s StoreSpec) open(name string) (kvstore.Store, error) {
	if s.Dir == "" {
		return memory.New(memory.Options{}), nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, err // names the directory
	}
	return kvbbolt.Open(filepath.Join(s.Dir, name+".db"), kvbbolt.Options{})
}
