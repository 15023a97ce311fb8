#!/bin/sh
# Mutation-tests one built-in part with only its conformance suite as the
# test: the module is copied to a temporary directory, the part's own test
# files are replaced by one that runs just the suite, and gremlins mutates
# the part's code. Not run in CI; see conformance/CONTRACTS.md for scores.
#
#	go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
#	conformance/mutation/run.sh route/toymap [gremlins flags]
#
# Extra flags go to gremlins unleash (-o out.json, -E file regexps).
#
#	conformance/mutation/run.sh msgenc/bencode --uncovered out.json
#
# applies by hand each mutant that report lists as not covered and runs
# the suite on it (uncovered.py says why).
#
# udp's portable read path (read_other.go) is built on Linux with the
# udpportable tag: GOFLAGS=-tags=udpportable conformance/mutation/run.sh
# transport/udp ... (gremlins and uncovered.py's go test both read GOFLAGS).
set -eu
part=${1:?usage: run.sh PART [gremlins flags]}
shift
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$root" && git ls-files --cached --others --exclude-standard -z | xargs -0 cp --parents -t "$tmp")
dir="$tmp/$part"
[ -d "$dir" ] || { echo "no such part: $part" >&2; exit 2; }

# keep: the part's test files that hold only its conformance tests and
# the helpers they use.
keep=""
case $part in
transport/udp | transport/tcp) keep=conformance_test.go ;;
msgenc/json | msgenc/cbor) keep=codec_test.go ;;
msgenc/bencode) keep="codec_test.go raw_test.go" ;;
transport/mem | route/kademlia | route/toymap | trust/wot) keep=conformance_test.go ;;
route/trustorder) keep="conformance_test.go helpers_test.go" ;;
trust) keep=policy_conformance_test.go ;;
esac
for f in "$dir"/*_test.go; do
	case " $keep " in
	*" $(basename "$f") "*) ;;
	*) rm -f "$f" ;;
	esac
done

name=$(basename "$part")
case $part in
# The codecs keep codec_test.go: the suite with CodecOptions.Raw (bencode's
# Raw is raw_test.go), and the check that Raw catches a decoder that leaves
# limits to Marshal.
msgenc/json | msgenc/cbor | msgenc/bencode) ;;
kvstore/memory)
	cat >"$dir/conformance_only_test.go" <<'GO'
package memory_test

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/memory"
)

func TestConformanceOnly(t *testing.T) {
	conformance.TestStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
		return memory.New(memory.Options{Now: now})
	})
}
GO
	;;
kvstore/bbolt)
	cat >"$dir/conformance_only_test.go" <<'GO'
package bbolt_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
)

func TestConformanceOnly(t *testing.T) {
	conformance.TestStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
		s, err := bbolt.Open(filepath.Join(t.TempDir(), "store.db"), bbolt.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, conformance.StoreOptions{Durable: func(t *testing.T, now func() time.Time) func() (kvstore.Store, error) {
		path := filepath.Join(t.TempDir(), "store.db")
		return func() (kvstore.Store, error) { return bbolt.Open(path, bbolt.Options{Now: now}) }
	}, Files: func(t *testing.T, now func() time.Time) (string, func() (kvstore.Store, error)) {
		dir := t.TempDir()
		return dir, func() (kvstore.Store, error) { return bbolt.Open(filepath.Join(dir, "store.db"), bbolt.Options{Now: now}) }
	}, MaxKeySize: bbolt.MaxKeySize})
}
GO
	;;
esac
ls "$dir"/*_test.go >/dev/null 2>&1 || { echo "no conformance test for $part" >&2; exit 2; }
cd "$tmp"
# --uncovered REPORT: apply by hand the mutants a gremlins report (-o)
# lists as not covered, and run the suite on each (see uncovered.py).
if [ "${1:-}" = --uncovered ]; then
	exec python3 "$root/conformance/mutation/uncovered.py" "${2:?--uncovered needs a gremlins report}" "./$part"
fi
gremlins unleash --workers 1 --test-cpu 1 --timeout-coefficient 30 "$@" "./$part"
