package node

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode is how a query travels through the network and how its answer
// returns. The zero Mode is Direct.
type Mode struct {
	kind  modeKind
	proxy uint8 // proxied hops, for mixed mode
}

type modeKind uint8

const (
	kindDirect modeKind = iota
	kindProxied
	kindDirectReply
	kindMixed
)

// Direct is iterative routing: the originator asks alpha peers at a time and
// each answer names closer peers. Every peer asked learns the originator's
// address.
func Direct() Mode { return Mode{kind: kindDirect} }

// Proxied routing: each hop forwards to the closest peer it knows and keeps
// the query's state; the answer retraces the path. A hop learns only the
// previous hop's address.
func Proxied() Mode { return Mode{kind: kindProxied} }

// DirectReply routing: the query is forwarded hop by hop with the
// originator's address; hops keep no state and the answering peer replies
// straight to the originator.
func DirectReply() Mode { return Mode{kind: kindDirectReply} }

// Mixed routing: proxied for n hops, then direct reply to the n-th hop,
// which relays the answer back along the proxied path. Only the proxies near
// the originator learn its address. n is clamped to 1..255.
func Mixed(n int) Mode { return Mode{kind: kindMixed, proxy: uint8(max(1, min(n, 255)))} }

// ProxyHops is the number of proxied hops of a mixed mode, 0 otherwise.
func (m Mode) ProxyHops() int { return int(m.proxy) }

// String returns the mode as ParseMode reads it: "direct", "proxied",
// "direct-reply" or "mixed:N".
func (m Mode) String() string {
	switch m.kind {
	case kindDirect:
		return "direct"
	case kindProxied:
		return "proxied"
	case kindDirectReply:
		return "direct-reply"
	case kindMixed:
		return "mixed:" + strconv.Itoa(int(m.proxy))
	}
	return "unknown"
}

// ParseMode reads a mode written by String; "mixed" alone means mixed:2.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "direct", "":
		return Direct(), nil
	case "proxied":
		return Proxied(), nil
	case "direct-reply":
		return DirectReply(), nil
	case "mixed":
		return Mixed(2), nil
	}
	if rest, ok := strings.CutPrefix(s, "mixed:"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 1 && n <= 255 {
			return Mixed(n), nil
		}
	}
	return Mode{}, fmt.Errorf("%w: unknown query mode %q (want direct, proxied, direct-reply or mixed:N)", ErrConfig, s)
}

// Modes returns one of each query mode, mixed with two proxied hops.
func Modes() []Mode { return []Mode{Direct(), Proxied(), DirectReply(), Mixed(2)} }
