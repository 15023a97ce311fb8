// Command linkemu is a user-space Ethernet switch with emulated links (see
// package linkemu): run in a network namespace, it opens each named
// interface as a port, prints "ready", then takes commands on stdin, one a
// line, each answered by one line on stdout:
//
//	partition 0,1,2 3,4     cut the switch into groups of ports (numbered as named) → "ok"
//	heal                    join them again → "ok"
//	stats                   → "stats received=N delivered=N lost=N cut=N flooded=N write-errors=N"
//
// A bad command is answered "error TEXT". It exits 0 at the end of stdin or
// on SIGINT or SIGTERM.
//
//	ip netns exec switch linkemu --delay 20ms --jitter 5ms --loss 0.01 p0 p1 p2
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/dhtkit/dhtkit/internal/linkemu"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("linkemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var link linkemu.Link
	fs.DurationVar(&link.Delay, "delay", 0, "delay of every frame on its sender's link")
	fs.DurationVar(&link.Jitter, "jitter", 0, "the delay varies by up to this much either way, uniformly")
	fs.Float64Var(&link.Loss, "loss", 0, "share of frames lost on their sender's link, 0 to 1")
	seed := fs.Uint64("seed", 1, "seed for losses and delays")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(stderr, "usage: linkemu [--delay D] [--jitter J] [--loss P] [--seed N] IFACE IFACE...")
		return 2
	}
	var ports []linkemu.Port
	for _, name := range fs.Args() {
		p, err := linkemu.OpenPacketPort(name)
		if err != nil {
			for _, p := range ports {
				p.Close()
			}
			fmt.Fprintln(stderr, err)
			return 1
		}
		ports = append(ports, p)
	}
	sw, err := linkemu.New(ports, linkemu.Options{Link: link, Seed: *seed})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	sw.Run()
	defer sw.Close()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	fmt.Fprintln(stdout, "ready")
	for {
		select {
		case <-sigs:
			return 0
		case line, ok := <-lines:
			if !ok {
				return 0
			}
			fmt.Fprintln(stdout, command(sw, line))
		}
	}
}

// command carries out one line of stdin and returns the answer.
func command(sw *linkemu.Switch, line string) string {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "error empty command"
	}
	switch fields[0] {
	case "partition":
		var groups [][]int
		for _, g := range fields[1:] {
			var ports []int
			for _, p := range strings.Split(g, ",") {
				i, err := strconv.Atoi(p)
				if err != nil {
					return fmt.Sprintf("error port %q is not a number", p)
				}
				ports = append(ports, i)
			}
			groups = append(groups, ports)
		}
		if err := sw.Partition(groups...); err != nil {
			return "error " + err.Error()
		}
		return "ok"
	case "heal":
		sw.Heal()
		return "ok"
	case "stats":
		s := sw.Stats()
		return fmt.Sprintf("stats received=%d delivered=%d lost=%d cut=%d flooded=%d write-errors=%d",
			s.Received, s.Delivered, s.Lost, s.Cut, s.Flooded, s.WriteErrors)
	}
	return fmt.Sprintf("error unknown command %q (want partition, heal or stats)", fields[0])
}
