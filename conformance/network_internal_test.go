package conformance

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/node"
	"github.com/stretchr/testify/require"
)

// The privacy check can fail: in direct and direct-reply modes the
// originator's address reaches far nodes by design, and the same scenario
// that finds none in proxied mode finds them.
func TestNetworkPrivacyCheckSeesTheOriginatorInDirectModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []node.Mode{node.Direct(), node.DirectReply()} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), watchdog)
			defer cancel()
			e := &env{t: t, ctx: ctx, rng: rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))}
			// With k=3 few nodes hold a value, so that queries travel past
			// the first hop; three rounds make it all but certain.
			s := networkSuite{newHarness: NetworkMem(NetworkMemOptions{
				Configure: func(i int, b *node.Builder) { b.K(3) },
			}), opts: NetworkOptions{Size: 16}.withDefaults()}
			w, err := networkBuild(e, s, s.opts.Size)
			require.NoError(t, err)
			defer func() { require.NoError(t, w.close()) }()
			leaks, err := networkPrivacyRun(w, w.h.(NetworkObserver), []node.Mode{mode, mode, mode})
			require.NoError(t, err)
			require.NotEmpty(t, leaks, "in %s mode nodes beyond the first hop must see the originator's address", mode)
			t.Logf("%d leaks, e.g. %v", len(leaks), leaks[0])
		})
	}
}
