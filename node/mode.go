package node

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dhtkit/dhtkit/msgenc"
)

// Mode is how a query travels through the network and how its answer
// returns: what a caller chooses, on the Builder or per call (WithMode).
// The zero Mode is Direct.
//
// msgenc.Mode is the wire form of the forwarded modes: a query made in
// Proxied, DirectReply or Mixed(n) mode travels in a msgenc.Forward whose
// Mode is msgenc.ModeProxied, ModeDirectReply or ModeMixed (with n in
// ProxyHops). Direct lookups forward nothing and have no wire mode.
// Callers choose a Mode here; only codecs and the node read msgenc.Mode.
type Mode struct {
	kind  msgenc.Mode // the wire mode; kindDirect for direct lookups
	proxy int         // proxied hops, for mixed mode
}

// The kinds of Mode: msgenc's wire modes, and 0 for direct lookups, which
// forward nothing.
const (
	kindDirect      msgenc.Mode = 0
	kindProxied                 = msgenc.ModeProxied
	kindDirectReply             = msgenc.ModeDirectReply
	kindMixed                   = msgenc.ModeMixed
)

// maxProxyHops is the most proxied hops Mixed takes: the wire's
// Forward.ProxyHops is one byte.
const maxProxyHops = 255

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
// the originator learn its address.
//
// n must be between 1 and 255. Mixed does not correct another n: the mode
// it returns is invalid, and Build reports it (wrapping ErrConfig), as does
// any call given it with WithMode. ParseMode refuses it in text form.
func Mixed(n int) Mode { return Mode{kind: kindMixed, proxy: n} }

// ProxyHops is the number of proxied hops of a mixed mode, 0 otherwise.
func (m Mode) ProxyHops() int { return m.proxy }

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
		return "mixed:" + strconv.Itoa(m.proxy)
	}
	return "unknown"
}

// check reports an invalid mode: Mixed(n) with n out of range.
func (m Mode) check() error {
	if m.kind == kindMixed && (m.proxy < 1 || m.proxy > maxProxyHops) {
		return fmt.Errorf("%w: query mode %s: proxied hops must be between 1 and %d", ErrConfig, m, maxProxyHops)
	}
	return nil
}

// ParseMode reads a mode written by String; "mixed" alone means mixed:2.
// Anything else, mixed:N with N out of range included, is an error
// wrapping ErrConfig.
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
		if m := Mixed(n); err == nil && m.check() == nil {
			return m, nil
		}
	}
	return Mode{}, fmt.Errorf("%w: unknown query mode %q (want direct, proxied, direct-reply or mixed:N, N from 1 to %d)", ErrConfig, s, maxProxyHops)
}

// Modes returns one of each query mode, mixed with two proxied hops.
func Modes() []Mode { return []Mode{Direct(), Proxied(), DirectReply(), Mixed(2)} }
