package node

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// plainToken is a token computed the plain way, with a freshly keyed HMAC:
// the reference the reused HMACs must agree with.
func plainToken(master []byte, addr []byte, e int64) []byte {
	h := hmac.New(sha256.New, master)
	var eb [8]byte
	binary.BigEndian.PutUint64(eb[:], uint64(e))
	h.Write(eb[:])
	h.Write(addr)
	return h.Sum(nil)[:tokenLen]
}

// TestTokensFromReusedMACsMatchFreshOnes checks that the pooled HMACs,
// reset between uses and shared by goroutines, give every address the
// token a freshly keyed HMAC gives, and that valid takes this epoch's and
// the last one's and nothing else.
func TestTokensFromReusedMACsMatchFreshOnes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a, err := newAmplifier(func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	e := a.epoch()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				addr := heldAddr(w*1000 + i).Bytes()
				want := plainToken(a.master[:], addr, e)
				if got := a.issue(addr); !hmac.Equal(got, want) {
					t.Errorf("issue(%x) = %x, want %x", addr, got, want)
					return
				}
				if !a.valid(addr, want) || !a.valid(addr, plainToken(a.master[:], addr, e-1)) {
					t.Errorf("valid refuses a token of this or the last epoch for %x", addr)
					return
				}
				if a.valid(addr, plainToken(a.master[:], addr, e-2)) ||
					a.valid(addr, plainToken(a.master[:], addr, e+1)) ||
					a.valid(heldAddr(w*1000+i+1).Bytes(), want) {
					t.Errorf("valid takes a token of another epoch or address for %x", addr)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestTokenChecksDoNotAllocate checks that checking a token allocates
// nothing and issuing one allocates only the token, once the pool holds an
// HMAC: a keyed HMAC made per use costs seven allocations.
func TestTokenChecksDoNotAllocate(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("allocation counts are for the normal run without -race")
	}
	a, err := newAmplifier(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	addr := heldAddr(1).Bytes()
	tok := a.issue(addr)
	if got := testing.AllocsPerRun(100, func() { a.valid(addr, tok) }); got > 0 {
		t.Errorf("valid makes %v allocations, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() { a.issue(addr) }); got > 1 {
		t.Errorf("issue makes %v allocations, want at most 1", got)
	}
}
