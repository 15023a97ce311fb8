package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor bounds every wait on a process or a condition.
const waitFor = 30 * time.Second

// binDir holds the binaries the tests build, once per test binary.
var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// goTool finds the go command that runs this test.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	_, err := exec.LookPath(p)
	return p, err
}

// binaries builds dhtnode and filemanager (without the race detector: they
// are the real programs under test, run as processes) and returns their
// paths.
func binaries(t testing.TB) (dhtnode, filemanager string) {
	t.Helper()
	binOnce.Do(func() {
		goCmd, err := goTool()
		if err != nil {
			binErr = fmt.Errorf("no go command to build the binaries with: %w", err)
			return
		}
		if binDir, binErr = os.MkdirTemp("", "filemanager-test-bin"); binErr != nil {
			return
		}
		for _, pkg := range []string{"../dhtnode", "."} {
			out, err := exec.Command(goCmd, "build", "-o", binDir, pkg).CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("go build %s: %w: %s", pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "dhtnode"), filepath.Join(binDir, "filemanager")
}

// server is a running dhtnode serve process.
type server struct {
	cmd    *exec.Cmd
	addrs  []string
	stderr *bytes.Buffer
}

// startServers starts n dhtnode serve processes on loopback port 0, the
// others bootstrapping through the first, and stops them with SIGTERM at
// the end of the test. It returns the first's addresses.
func startServers(t testing.TB, n int, args ...string) []string {
	t.Helper()
	dhtnode, _ := binaries(t)
	first := startServer(t, dhtnode, args)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n - 1 {
		wg.Go(func() {
			if _, err := startServerErr(t, dhtnode, append(slicesClone(args), "--bootstrap", first.addrs[0])); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return first.addrs
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func startServer(t testing.TB, bin string, args []string) *server {
	t.Helper()
	s, err := startServerErr(t, bin, args)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServerErr starts one server and waits for its "ready" line.
func startServerErr(t testing.TB, bin string, args []string) (*server, error) {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitFor):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()
	deadline := time.After(waitFor)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("dhtnode serve exited before it was ready: %s", s.stderr)
			}
			if a, found := strings.CutPrefix(line, "listening "); found {
				s.addrs = append(s.addrs, a)
			}
			if line == "ready" {
				go func() {
					for range lines {
					}
				}()
				return s, nil
			}
		case <-deadline:
			return nil, fmt.Errorf("dhtnode serve not ready after %v", waitFor)
		}
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// procResult is how a process ended.
type procResult struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// runBin runs the filemanager binary to its end (bounded by waitFor).
func runBin(t testing.TB, args ...string) procResult {
	t.Helper()
	_, fm := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cmd := exec.CommandContext(ctx, fm, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := procResult{stdout: out.String(), stderr: errOut.String(), elapsed: time.Since(start)}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("filemanager %v: %v", args, err)
	}
	r.code = cmd.ProcessState.ExitCode()
	return r
}

// peakMemory is the peak memory a share or fetch reported on stderr, in
// bytes; the test is skipped where the system does not tell.
func peakMemory(t testing.TB, stderr string) int64 {
	t.Helper()
	_, after, ok := strings.Cut(stderr, ", peak memory ")
	if !ok {
		t.Skip("this system does not report peak memory")
	}
	var v float64
	var unit string
	_, err := fmt.Sscanf(after, "%g %s", &v, &unit)
	if err != nil {
		t.Fatalf("peak memory in %q: %v", after, err)
	}
	mult := map[string]float64{"B)": 1, "KiB)": 1 << 10, "MiB)": 1 << 20, "GiB)": 1 << 30}[unit]
	if mult == 0 {
		t.Fatalf("peak memory unit %q", unit)
	}
	return int64(v * mult)
}

// runCmd runs the program in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// waitUntil polls cond until it holds, failing the test after waitFor.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitFor)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within %v: %s", waitFor, what)
		}
	}
}
