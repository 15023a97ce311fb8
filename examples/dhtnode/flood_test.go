package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/msgenc/cbor"
	"github.com/dhtkit/dhtkit/node"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// floodSize is how many datagrams the flood sends, and in how long: the
// issue's figure with DHTKIT_FLOOD=1, a fifth of it otherwise, so that the
// normal suite stays fast.
func floodSize() (int, time.Duration) {
	if os.Getenv("DHTKIT_FLOOD") == "1" {
		return 100_000, 10 * time.Second
	}
	return 20_000, 2 * time.Second
}

// floodValue is the value size of the flood's stores: the largest that fits
// a datagram with its framing.
const floodValue = 64_000

// TestOneSourceFloodingAServeProcessCannotExhaustIt plays the issue's
// attack against a real dhtnode serve over loopback UDP: one source sends
// a mix of 64 KB stores under distinct keys without identity, find-value and
// find-node requests for distinct keys, and random bytes. The target's
// memory must not grow by more than 64 MiB, none of the stores may be kept,
// and gets by other peers through it must go on, their p99 within twice
// the quiet p99.
//
// The machine running the test is shared and its load swings, so "quiet"
// is measured at the same moments as the flood: a twin serve process, not
// flooded, answers the same gets, interleaved one for one with the gets
// through the target. The p99 before the flood is logged too.
func TestOneSourceFloodingAServeProcessCannotExhaustIt(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a process: skipped with -short")
	}
	bin := buildBinary(t)
	target := newReadTarget(t, bin, 1)
	twin := newReadTarget(t, bin, 2)
	to := udpTarget(t, target.proc.addr)

	// Each get waits its turn, a get every getEvery: a few requests to
	// the target each, well under its rate limit for the reader's address.
	const getEvery = 15 * time.Millisecond
	pace := rate.NewLimiter(rate.Every(getEvery), 1)
	get := func(r *readTarget, i int) (time.Duration, error) {
		if err := pace.Wait(context.Background()); err != nil {
			return 0, err
		}
		return r.get(i)
	}
	for i := range 20 { // warm up: first contacts, tokens
		for _, r := range []*readTarget{target, twin} {
			_, err := get(r, i)
			require.NoError(t, err)
		}
	}
	var quiet []time.Duration
	for i := range 100 {
		d, err := get(target, i)
		require.NoError(t, err)
		quiet = append(quiet, d)
	}
	before := scrape(t, target.metrics)
	rssBefore := procStatus(t, target.proc, "VmRSS")

	count, span := floodSize()
	var during, control []time.Duration
	var failed int
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			d, err := get(target, i)
			if err != nil {
				failed++
				continue
			}
			during = append(during, d)
			if d, err = get(twin, i); err == nil {
				control = append(control, d)
			}
		}
	})
	sent := floodFromAnotherProcess(t, to, count, span)
	close(done)
	wg.Wait()

	// Let the target drain its socket before reading what it did.
	waitQuiet(t, target.metrics)
	var after, afterControl []time.Duration
	for i := range 100 {
		d, err := get(target, i)
		require.NoError(t, err, "a get after the flood")
		after = append(after, d)
		d, err = get(twin, i)
		require.NoError(t, err)
		afterControl = append(afterControl, d)
	}
	m := scrape(t, target.metrics)
	rss, hwm := procStatus(t, target.proc, "VmRSS"), procStatus(t, target.proc, "VmHWM")

	delta := func(name string) float64 { return m[name] - before[name] }
	stores := delta(`dhtkit_messages_received_total{kind="store"}`)
	t.Logf("flood: %d datagrams sent in %v, %.0f frames received, %.0f of them stores", sent, span, delta("dhtkit_frames_received_total"), stores)
	t.Logf("target: refused %.0f as overloaded (unproven or rate-limited), dropped %.0f rate-limited, %.0f undecodable; holds %.0f records",
		delta(`dhtkit_requests_refused_total{reason="overloaded"}`), delta(`dhtkit_frames_dropped_total{reason="rate-limited"}`),
		delta(`dhtkit_frames_dropped_total{reason="decode"}`), m["dhtkit_store_records"])
	t.Logf("target RSS: %.1f MiB before, %.1f MiB after, peak %.1f MiB", rssBefore/(1<<20), rss/(1<<20), hwm/(1<<20))
	t.Logf("gets through the target: p99 %v before the flood (%d), %v during (%d, %d failed), %v after",
		p99(quiet), len(quiet), p99(during), len(during), failed, p99(after))
	t.Logf("gets through the twin at the same moments: p99 %v during (%d), %v after", p99(control), len(control), p99(afterControl))
	t.Logf("p90: target %v during, %v after; twin %v during, %v after", p90(during), p90(after), p90(control), p90(afterControl))

	require.Positive(t, stores, "the flood's stores reached the target")
	require.LessOrEqual(t, m["dhtkit_store_records"], float64(target.values), "no store of the flood was kept")
	require.LessOrEqual(t, hwm-rssBefore, float64(64<<20), "the flood grew the target's memory by more than 64 MiB")
	require.Zero(t, failed, "gets during the flood")
	require.NotEmpty(t, during)
	// The figure, p99 within twice the quiet p99, is held in the
	// full run (DHTKIT_FLOOD=1), whose hundreds of gets measure a p99. The
	// bounded run's hundred or so leave it to one or two gets that a
	// loaded machine's scheduler decides, so there it is only logged.
	if count >= 100_000 {
		require.LessOrEqual(t, p99(during), 2*p99(control), "p99 of gets during the flood, against the quiet twin's")
		require.LessOrEqual(t, p99(after), 2*p99(afterControl), "p99 of gets after the flood, against the quiet twin's")
	}
}

// readTarget is a dhtnode serve process holding values that a reader in
// another /24 of loopback gets through it.
type readTarget struct {
	proc    *proc
	metrics string
	reader  *node.Node
	keys    [][]byte
	values  int
}

// newReadTarget starts a serve process, has a publisher (in 127.0.1N.0/24)
// store values at it and a reader (127.0.2N.0/24) join it.
func newReadTarget(t *testing.T, bin string, n int) *readTarget {
	t.Helper()
	ctx := context.Background()
	p := startProc(t, bin, "serve", "--listen", "/ip4/127.0.0.1/udp/0", "--metrics", "127.0.0.1:0")
	r := &readTarget{proc: p, metrics: metricsURL(t, p), values: 20}
	publisher := inProcess(t, fmt.Sprintf("/ip4/127.0.1%d.1/udp/0", n), false)
	require.NoError(t, publisher.Bootstrap(ctx, ma.StringCast(p.addr)))
	for i := range r.values {
		key := fmt.Appendf(nil, "flood-key-%d", i)
		_, err := publisher.Put(ctx, key, []byte("value"))
		require.NoError(t, err)
		r.keys = append(r.keys, key)
	}
	r.reader = inProcess(t, fmt.Sprintf("/ip4/127.0.2%d.1/udp/0", n), true)
	require.NoError(t, r.reader.Bootstrap(ctx, ma.StringCast(p.addr)))
	return r
}

// get reads the value of key i and times it.
func (r *readTarget) get(i int) (time.Duration, error) {
	start := time.Now()
	_, err := r.reader.Get(context.Background(), r.keys[i%r.values], node.WithMode(node.Direct()))
	return time.Since(start), err
}

// TestAServeProcessNeverHoldsMoreThanItsQuota fills a dhtnode serve with
// stores from a proven address, past its total quota, in memory and in
// bbolt, and restarts the bbolt one: it never holds more than the quota,
// and refuses the stores beyond it with the quota code.
func TestAServeProcessNeverHoldsMoreThanItsQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a process: skipped with -short")
	}
	quota := int64(8 << 20)
	if os.Getenv("DHTKIT_FLOOD") == "1" {
		quota = 64 << 20
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, store := range []string{"memory", "bbolt:" + dir, "bbolt:" + dir} {
		args := []string{"serve", "--listen", "/ip4/127.0.0.1/udp/0", "--metrics", "127.0.0.1:0", "--store", store,
			"--quota-total", strconv.FormatInt(quota, 10), "--quota-source", "off", "--quota-source-values", "off",
			"--rate-addr", "off", "--rate-prefix", "off"}
		p := startProc(t, bin, args...)
		metrics := metricsURL(t, p)
		c := newFloodConn(t)
		to := udpTarget(t, p.addr)
		token := c.token(to)
		var acked, quotaRefused int
		for i := 0; i < int(2*quota/floodValue); i++ {
			rep := c.call(to, c.store(uint64(i), rand.Uint64(), token))
			switch {
			case rep == nil:
			case rep.Kind == msgenc.KindStoreAck:
				acked++
			case rep.Kind == msgenc.KindError && rep.Error.Code == msgenc.CodeQuota:
				quotaRefused++
			}
		}
		m := scrape(t, metrics)
		t.Logf("%s, quota %d MiB: %d stores acknowledged, %d refused over quota; holds %.1f MiB of values", store, quota>>20, acked, quotaRefused, m["dhtkit_store_value_bytes"]/(1<<20))
		require.LessOrEqual(t, m["dhtkit_store_value_bytes"], float64(quota), "the store holds more than its quota")
		require.Positive(t, quotaRefused, "stores past the quota are refused with its code")
		// Each refusal is counted as it is sent, after the client may
		// have seen it; one lost on the way is counted but not seen.
		require.Eventually(t, func() bool {
			return scrape(t, metrics)[`dhtkit_requests_refused_total{reason="quota"}`] >= float64(quotaRefused)
		}, waitFor, 10*time.Millisecond, "every refusal the client saw is counted")
		p.kill()
		c.close()
	}
}

// floodFromAnotherProcess runs flood in a child process (this test binary,
// running TestFloodSource), at the lowest CPU priority where nice exists:
// on a real network the attacker's machine is not the target's, and on a
// shared two-core machine the attacker's own work (hashing and encoding
// 64 KB values, pushing them through loopback) would otherwise be measured
// as the target's latency.
func floodFromAnotherProcess(t *testing.T, to *net.UDPAddr, count int, span time.Duration) int {
	t.Helper()
	args := []string{os.Args[0], "-test.run=^TestFloodSource$", "-test.v"}
	if nice, err := exec.LookPath("nice"); err == nil {
		args = append([]string{nice, "-n", "19"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "DHTKIT_FLOOD_SOURCE="+to.String(), "DHTKIT_FLOOD_COUNT="+strconv.Itoa(count), "DHTKIT_FLOOD_SPAN="+span.String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "flood source: %s", out)
	m := regexp.MustCompile(`flood sent (\d+)`).FindSubmatch(out)
	require.NotNil(t, m, "flood source: %s", out)
	sent, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return sent
}

// TestFloodSource is the flooding process of
// TestOneSourceFloodingAServeProcessCannotExhaustIt; it does nothing unless
// that test starts it.
func TestFloodSource(t *testing.T) {
	target := os.Getenv("DHTKIT_FLOOD_SOURCE")
	if target == "" {
		t.Skip("the flood source runs only as a child of the flood test")
	}
	to, err := net.ResolveUDPAddr("udp4", target)
	require.NoError(t, err)
	count, err := strconv.Atoi(os.Getenv("DHTKIT_FLOOD_COUNT"))
	require.NoError(t, err)
	span, err := time.ParseDuration(os.Getenv("DHTKIT_FLOOD_SPAN"))
	require.NoError(t, err)
	fmt.Printf("flood sent %d\n", flood(t, to, count, span))
}

// inProcess builds a node on listen, a client or a full peer.
func inProcess(t *testing.T, listen string, client bool) *node.Node {
	t.Helper()
	n, err := node.NewBuilder().ListenString(listen).Client(client).Build(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func udpTarget(t *testing.T, addr string) *net.UDPAddr {
	t.Helper()
	na, err := manet.ToNetAddr(ma.StringCast(addr))
	require.NoError(t, err)
	return na.(*net.UDPAddr)
}

// metricsURL reads the metrics address serve printed on stderr.
func metricsURL(t *testing.T, p *proc) string {
	t.Helper()
	re := regexp.MustCompile(`metrics (http://\S+)`)
	var m []string
	// stderr is copied from a pipe: it may trail stdout's "ready".
	require.Eventually(t, func() bool { m = re.FindStringSubmatch(p.stderr.String()); return m != nil },
		waitFor, 10*time.Millisecond, "serve printed no metrics URL: %s", p.stderr)
	return m[1]
}

// scrape reads the Prometheus text at url into a map from series (name
// with labels) to value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// waitQuiet waits until the target has taken in every frame that is
// coming: its received count stops moving.
func waitQuiet(t *testing.T, url string) {
	t.Helper()
	last := -1.0
	require.Eventually(t, func() bool {
		now := scrape(t, url)["dhtkit_frames_received_total"]
		still := now == last
		last = now
		return still
	}, waitFor, 200*time.Millisecond, "the target never drained the flood")
}

// procStatus reads a size field (kB) of /proc/PID/status, in bytes.
func procStatus(t *testing.T, p *proc, field string) float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	require.NotNil(t, m, "no %s in /proc status", field)
	kb, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return kb * 1024
}

func p99(ds []time.Duration) time.Duration { return quantile(ds, 99) }
func p90(ds []time.Duration) time.Duration { return quantile(ds, 90) }

func quantile(ds []time.Duration, pct int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*pct)/100]
}

// floodConn is the flooding source: a bare UDP socket in its own /24 of
// loopback, speaking CBOR.
type floodConn struct {
	t     *testing.T
	conn  *net.UDPConn
	codec msgenc.Codec
	value []byte
	buf   []byte
}

func newFloodConn(t *testing.T) *floodConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 1, 1)})
	require.NoError(t, err)
	_ = conn.SetWriteBuffer(4 << 20)
	return &floodConn{t: t, conn: conn, codec: cbor.New(), value: make([]byte, floodValue), buf: make([]byte, 65536)}
}

func (c *floodConn) close() { _ = c.conn.Close() }

// store is a store request of a fresh immutable value, distinct by n.
func (c *floodConn) store(tx, n uint64, token []byte) []byte {
	binary.BigEndian.PutUint64(c.value, n)
	v := trust.NewImmutable(peer.SHA256(), c.value)
	data, err := c.codec.Marshal(&msgenc.Message{Kind: msgenc.KindStore, TxID: tx, Token: token,
		Store: &msgenc.Store{Record: msgenc.ValueRecord{Key: v.Key.Bytes(), Value: v.Value}}})
	require.NoError(c.t, err)
	return data
}

// call sends data and waits briefly for the answer of the same TxID; nil
// when none came.
func (c *floodConn) call(to *net.UDPAddr, data []byte) *msgenc.Message {
	c.t.Helper()
	req, err := c.codec.Unmarshal(data)
	require.NoError(c.t, err)
	_, err = c.conn.WriteToUDP(data, to)
	require.NoError(c.t, err)
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	for {
		n, _, err := c.conn.ReadFromUDP(c.buf)
		if err != nil {
			return nil
		}
		if rep, err := c.codec.Unmarshal(c.buf[:n]); err == nil && rep.TxID == req.TxID {
			return rep
		}
	}
}

// token gets the target's address token with a padded ping.
func (c *floodConn) token(to *net.UDPAddr) []byte {
	c.t.Helper()
	data, err := c.codec.Marshal(&msgenc.Message{Kind: msgenc.KindPing, TxID: 1 << 62, Ping: &msgenc.Ping{}, Pad: make([]byte, node.PaddedRequestSize)})
	require.NoError(c.t, err)
	rep := c.call(to, data)
	require.NotNil(c.t, rep, "no answer to a padded ping")
	require.NotEmpty(c.t, rep.Token)
	return rep.Token
}

// flood sends count datagrams to to, paced over span: a third stores of
// fresh 64 KB immutable values without a token, a third find-value and
// find-node requests for random keys, a third random bytes.
func flood(t *testing.T, to *net.UDPAddr, count int, span time.Duration) int {
	t.Helper()
	c := newFloodConn(t)
	defer c.close()
	rng := rand.New(rand.NewPCG(5, 6))
	junk := make([]byte, 1400)
	// Never ahead of the schedule: count datagrams spread over span, in
	// bursts of a few so the pacing costs little.
	pace := rate.NewLimiter(rate.Limit(float64(count)/span.Seconds()), 16)
	sent := 0
	for i := range count {
		var data []byte
		switch i % 3 {
		case 0:
			data = c.store(uint64(i), rng.Uint64(), nil)
		case 1:
			key := make([]byte, 32)
			for j := range key {
				key[j] = byte(rng.Uint32())
			}
			m := &msgenc.Message{Kind: msgenc.KindFindValue, TxID: uint64(i), FindValue: &msgenc.FindValue{Key: key}}
			if i%2 == 0 {
				m = &msgenc.Message{Kind: msgenc.KindFindNode, TxID: uint64(i), FindNode: &msgenc.FindNode{Target: key}}
			}
			var err error
			data, err = c.codec.Marshal(m)
			require.NoError(t, err)
		default:
			for j := range junk {
				junk[j] = byte(rng.Uint32())
			}
			data = junk[:1+rng.IntN(len(junk))]
		}
		if _, err := c.conn.WriteToUDP(data, to); err == nil {
			sent++
		}
		require.NoError(t, pace.Wait(context.Background()))
	}
	return sent
}
