package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

// goTool finds the go command that runs this test.
func goTool(t *testing.T) string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(p); err != nil {
		t.Skip("no go command to build the binary with")
	}
	return p
}

// buildBinary builds dhtnode into a temporary directory and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dhtnode")
	build := exec.Command(goTool(t), "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// The real binary, sent a real SIGTERM, closes its node and exits 0: main
// wires the signals to run's context.
func TestServeBinaryExitsZeroOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "serve", "--listen", "/ip4/127.0.0.1/udp/0", "--listen", "/ip4/127.0.0.1/tcp/0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var listening []string
	deadline := time.After(waitFor)
	for ready := false; !ready; {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "stdout closed before ready; stderr: %s", &stderr)
			if a, found := strings.CutPrefix(line, "listening "); found {
				listening = append(listening, a)
			}
			ready = line == "ready"
		case <-deadline:
			t.Fatalf("not ready after %v", waitFor)
		}
	}
	require.Len(t, listening, 2, "one line per listen address")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() {
		for range lines { // Wait must not run before stdout is read to its end
		}
		exited <- cmd.Wait()
	}()
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status after SIGTERM; stderr: %s", &stderr)
	case <-time.After(waitFor):
		t.Fatalf("still running %v after SIGTERM", waitFor)
	}
	require.Equal(t, 0, cmd.ProcessState.ExitCode())
	require.Contains(t, stderr.String(), "stopped: served")
}

// The real binary reads a VALUE of "-" from its real stdin, and writes a
// value to a pipe byte for byte, with no newline added.
func TestBinaryPutsStdinAndGetsItBackThroughAPipe(t *testing.T) {
	bin := buildBinary(t)
	s := startServe(t)
	runBin := func(stdin []byte, args ...string) (stdout string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(args, "--bootstrap", s.addrs[0])...)
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		require.NoError(t, cmd.Run(), "%v; stderr: %s", args, &errOut)
		return out.String()
	}
	value := []byte("a value\nfrom a pipe, without a final newline")
	key := strings.TrimSuffix(runBin(value, "put", "--immutable", "-"), "\n")
	require.Equal(t, trust.ImmutableKey(peer.SHA256(), value).String(), key)
	require.Equal(t, string(value), runBin(nil, "get", "--immutable", key))
}
