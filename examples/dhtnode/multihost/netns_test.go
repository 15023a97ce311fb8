package multihost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// linkConfig is what every host's link does to the frames the host sends.
type linkConfig struct {
	delay, jitter time.Duration
	loss          float64 // 0 to 1
}

// network is a set of host namespaces joined by a linkemu switch in a
// namespace of its own.
type network struct {
	t        *testing.T
	prefix   string
	sw       string   // the switch's namespace
	hosts    []string // the hosts' namespaces
	ips      []string // each host's address
	emulated string   // "netem" or "linkemu": who delays and drops frames

	relay    *exec.Cmd
	relayIn  io.WriteCloser
	relayOut chan string

	mu    sync.Mutex
	procs []*exec.Cmd // every process started in a namespace, to kill at the end
}

// nsPrefix is the start of every namespace name the test makes; the PID
// that follows lets a later run tell its own from those a dead run left.
const nsPrefix = "dhtmh"

// hostIP is host i's address.
func hostIP(i int) string { return fmt.Sprintf("10.77.0.%d", i+1) }

// newNetwork builds n hosts and the switch, with link on every host's
// link, and removes them all at the end of the test.
func newNetwork(t *testing.T, n int, link linkConfig, linkemuBin string) *network {
	t.Helper()
	removeStale(t)
	nw := &network{t: t, prefix: fmt.Sprintf("%s%d-", nsPrefix, os.Getpid())}
	nw.sw = nw.prefix + "sw"
	t.Cleanup(nw.close)
	nw.must("ip", "netns", "add", nw.sw)
	nw.mustIn(nw.sw, "ip", "link", "set", "lo", "up")
	for i := range n {
		h := fmt.Sprintf("%sh%02d", nw.prefix, i)
		nw.must("ip", "netns", "add", h)
		nw.hosts = append(nw.hosts, h)
		nw.ips = append(nw.ips, hostIP(i))
		port := fmt.Sprintf("p%02d", i)
		// Both ends are made in their namespaces: the root namespace
		// never holds them, even for a moment.
		nw.must("ip", "link", "add", "eth0", "netns", h, "type", "veth", "peer", "name", port, "netns", nw.sw)
		// No IPv6: its router and multicast chatter would only add
		// frames to the links.
		nw.mustIn(h, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
		nw.mustIn(h, "ip", "addr", "add", hostIP(i)+"/24", "dev", "eth0")
		nw.mustIn(h, "ip", "link", "set", "eth0", "up")
		nw.mustIn(h, "ip", "link", "set", "lo", "up")
		nw.mustIn(nw.sw, "ip", "link", "set", port, "promisc", "on", "up")
	}
	nw.staticNeighbours()

	relayLink := link
	nw.emulated = "linkemu"
	if os.Getenv("DHTKIT_MULTIHOST_LINK") != "linkemu" && nw.hasNetem() {
		nw.emulated = "netem"
		relayLink = linkConfig{}
		for _, h := range nw.hosts {
			nw.mustIn(h, "tc", "qdisc", "add", "dev", "eth0", "root", "netem",
				"delay", link.delay.String(), link.jitter.String(), "loss", strconv.FormatFloat(link.loss*100, 'f', -1, 64)+"%")
		}
	}
	nw.startRelay(linkemuBin, relayLink)
	return nw
}

// hasNetem reports whether the kernel has the netem qdisc: whether one can
// be added to the switch namespace's loopback.
func (nw *network) hasNetem() bool {
	if err := nw.run(nw.sw, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"); err != nil {
		return false
	}
	_ = nw.run(nw.sw, "tc", "qdisc", "del", "dev", "lo", "root")
	return true
}

// staticNeighbours gives every host a permanent neighbour entry for every
// other.
func (nw *network) staticNeighbours() {
	macs := make([]string, len(nw.hosts))
	for i, h := range nw.hosts {
		out, err := exec.Command("ip", "-n", h, "-j", "link", "show", "eth0").Output()
		if err != nil {
			nw.t.Fatalf("ip -n %s link show eth0: %v", h, err)
		}
		var links []struct {
			Address string `json:"address"`
		}
		if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
			nw.t.Fatalf("eth0 of %s: %v in %s", h, err, out)
		}
		macs[i] = links[0].Address
	}
	for i, h := range nw.hosts {
		var batch strings.Builder
		for j := range nw.hosts {
			if j != i {
				fmt.Fprintf(&batch, "neigh replace %s lladdr %s dev eth0 nud permanent\n", hostIP(j), macs[j])
			}
		}
		cmd := exec.Command("ip", "-n", h, "-batch", "-")
		cmd.Stdin = strings.NewReader(batch.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			nw.t.Fatalf("neighbours of %s: %v: %s", h, err, out)
		}
	}
}

// startRelay runs linkemu in the switch namespace over every host's port.
func (nw *network) startRelay(bin string, link linkConfig) {
	args := []string{"netns", "exec", nw.sw, bin,
		"--delay", link.delay.String(), "--jitter", link.jitter.String(),
		"--loss", strconv.FormatFloat(link.loss, 'f', -1, 64)}
	for i := range nw.hosts {
		args = append(args, fmt.Sprintf("p%02d", i))
	}
	cmd := exec.Command("ip", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		nw.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		nw.t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := nw.start(cmd); err != nil {
		nw.t.Fatalf("start linkemu: %v", err)
	}
	nw.relay, nw.relayIn, nw.relayOut = cmd, in, make(chan string, 16)
	go func() {
		defer close(nw.relayOut)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			nw.relayOut <- sc.Text()
		}
	}()
	if line := nw.relayLine(); line != "ready" {
		nw.t.Fatalf("linkemu said %q, not ready; stderr: %s", line, &stderr)
	}
}

// relayLine waits for linkemu's next line.
func (nw *network) relayLine() string {
	select {
	case line, ok := <-nw.relayOut:
		if !ok {
			nw.t.Fatal("linkemu exited")
		}
		return line
	case <-time.After(waitFor):
		nw.t.Fatalf("linkemu silent for %v", waitFor)
		return ""
	}
}

// relay sends linkemu a command and returns its answer.
func (nw *network) relayCommand(cmd string) string {
	nw.t.Helper()
	if _, err := fmt.Fprintln(nw.relayIn, cmd); err != nil {
		nw.t.Fatalf("linkemu %s: %v", cmd, err)
	}
	return nw.relayLine()
}

// partition cuts the switch between groups of hosts.
func (nw *network) partition(groups ...[]int) {
	nw.t.Helper()
	var parts []string
	for _, g := range groups {
		var s []string
		for _, h := range g {
			s = append(s, strconv.Itoa(h))
		}
		parts = append(parts, strings.Join(s, ","))
	}
	if got := nw.relayCommand("partition " + strings.Join(parts, " ")); got != "ok" {
		nw.t.Fatalf("partition: %s", got)
	}
}

func (nw *network) heal() {
	nw.t.Helper()
	if got := nw.relayCommand("heal"); got != "ok" {
		nw.t.Fatalf("heal: %s", got)
	}
}

// unplug takes host i's link down at the switch: the host is gone for
// everyone else, and nothing it had, not even its kernel, answers.
func (nw *network) unplug(i int) {
	nw.mustIn(nw.sw, "ip", "link", "set", fmt.Sprintf("p%02d", i), "down")
}

// start starts cmd and remembers it, to kill at the end.
func (nw *network) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	nw.mu.Lock()
	nw.procs = append(nw.procs, cmd)
	nw.mu.Unlock()
	return nil
}

// close kills every process the test started and removes the namespaces.
func (nw *network) close() {
	if nw.relayIn != nil {
		nw.relayIn.Close()
	}
	nw.mu.Lock()
	procs := nw.procs
	nw.mu.Unlock()
	for _, p := range procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	for _, ns := range append(nw.hosts, nw.sw) {
		if ns != "" {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}

// removeStale removes the namespaces, and the processes in them, that an
// earlier run of this test left when it was killed before its cleanup.
func removeStale(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, nsPrefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // its run is still going
		}
		if pids, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, p := range strings.Fields(string(pids)) {
				if n, err := strconv.Atoi(p); err == nil {
					_ = syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		if err := exec.Command("ip", "netns", "del", name).Run(); err == nil {
			t.Logf("removed namespace %s, left by an earlier run", name)
		}
	}
}

// must runs a command to its end and fails the test if it fails.
func (nw *network) must(name string, args ...string) {
	nw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		nw.t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// mustIn is must inside namespace ns.
func (nw *network) mustIn(ns, name string, args ...string) {
	nw.t.Helper()
	nw.must("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// run runs a command inside namespace ns and returns its error.
func (nw *network) run(ns, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
