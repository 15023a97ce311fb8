package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/dhtkit/dhtkit/node"
)

// networkLabelKey is the pprof label that marks the goroutines one rule's
// network started: goroutines inherit their creator's labels, so every
// goroutine the harness, the nodes and their transports start carries it,
// and goroutines of unrelated tests do not. (Goroutines a timer callback
// starts inherit no label; they are short-lived and not counted.)
const networkLabelKey = "dhtkit-network-rule"

// networkGoroutinePatience is how long goroutines may take to end after
// Close returned; Close should wait for them, so this only absorbs
// goroutines that were already on their way out.
const networkGoroutinePatience = 2 * time.Second

// networkCheckGoroutines builds and uses a network (bootstrap, put, get and
// find in every mode, a crash, a client), all under a pprof label, then
// closes every node and the harness and waits for the labelled goroutines
// to be gone.
func networkCheckGoroutines(e *env, s networkSuite) error {
	label := strconv.FormatUint(e.rng.Uint64(), 16)
	var runErr error
	var w *networkNet
	pprof.Do(e.ctx, pprof.Labels(networkLabelKey, label), func(context.Context) {
		w, runErr = networkBuild(e, s, s.opts.Size)
		if runErr != nil {
			return
		}
		runErr = networkExercise(w, s.opts.Modes)
	})
	if w != nil {
		if err := w.close(); runErr == nil {
			runErr = err
		}
	}
	if runErr != nil {
		return runErr
	}
	deadline := time.Now().Add(networkGoroutinePatience)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		left, stacks := networkLabelled(label)
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutine(s) started by the network still run %v after every node and the harness were closed:\n%s", left, networkGoroutinePatience, stacks)
		}
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			return fmt.Errorf("%d goroutine(s) started by the network still run after Close:\n%s", left, stacks)
		}
	}
}

// networkExercise makes the nodes start whatever goroutines they start.
func networkExercise(w *networkNet, modes []node.Mode) error {
	for _, mode := range modes {
		v, err := w.put(w.nodes[w.e.rng.IntN(len(w.nodes))], mode, "goroutines")
		if err != nil {
			return err
		}
		if err := w.get(w.other(w.nodes, v.putter), v, mode); err != nil {
			return err
		}
		a := w.nodes[w.e.rng.IntN(len(w.nodes))]
		if err := w.find(a, w.other(w.nodes, a), mode); err != nil {
			return err
		}
	}
	client, err := w.add(NetworkNodeOptions{Client: true})
	if err != nil {
		return err
	}
	if err := w.bootstrap([]*node.Node{client}, w.nodes[0]); err != nil {
		return err
	}
	victim := w.nodes[len(w.nodes)-1]
	if err := w.crash(victim); err != nil {
		return err
	}
	// A lookup that meets the crashed node leaves calls to it in flight.
	_, _ = client.FindPeer(w.e.ctx, victim.ID(), node.WithMode(node.Direct()))
	return nil
}

// networkLabelled counts the running goroutines labelled with label and
// returns their stacks, abridged; -1 if it cannot tell.
func networkLabelled(label string) (int, string) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return -1, "the goroutine profile failed: " + err.Error()
	}
	want := fmt.Sprintf("%q:%q", networkLabelKey, label)
	count := 0
	var stacks strings.Builder
	// Each record starts "N @ addresses", then has "# labels: {...}" when
	// labelled, then the frames; a header line comes first.
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var rec []string
	flush := func() {
		defer func() { rec = rec[:0] }()
		if len(rec) == 0 || !strings.Contains(strings.Join(rec, "\n"), want) {
			return
		}
		n, _ := strconv.Atoi(strings.Fields(rec[0])[0])
		count += n
		if stacks.Len() < 8<<10 {
			stacks.WriteString(strings.Join(rec, "\n"))
			stacks.WriteString("\n\n")
		}
	}
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) > 1 && f[1] == "@" {
			flush()
		}
		if line != "" {
			rec = append(rec, line)
		}
	}
	flush()
	return count, stacks.String()
}
