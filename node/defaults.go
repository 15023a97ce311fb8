package node

import (
	"github.com/dhtkit/dhtkit/clock"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/route"
	"github.com/dhtkit/dhtkit/route/kademlia"
	"github.com/dhtkit/dhtkit/transport"
	"github.com/dhtkit/dhtkit/transport/tcp"
	"github.com/dhtkit/dhtkit/transport/udp"
	ma "github.com/multiformats/go-multiaddr"
)

// The documented defaults are the only place node names concrete parts.

func defaultTable(self peer.ID, k int) (route.Table, error) {
	return kademlia.New(self, kademlia.Options{K: k})
}

func defaultCodec() msgenc.Codec { return cbor.New() }

func defaultStore(c clock.Clock) kvstore.Store {
	return memory.New(memory.Options{Now: c.Now})
}

func canListen(a ma.Multiaddr) bool {
	_, errU := a.ValueForProtocol(ma.P_UDP)
	_, errT := a.ValueForProtocol(ma.P_TCP)
	return errU == nil || errT == nil
}

func listenBuiltin(a ma.Multiaddr) (transport.Transport, error) {
	if _, err := a.ValueForProtocol(ma.P_UDP); err == nil {
		return udp.Listen(a, udp.Options{})
	}
	return tcp.Listen(a, tcp.Options{})
}
