package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor bounds every wait on a running command.
const waitFor = 20 * time.Second

// runCmd runs the program in-process, with an empty stdin, and returns its
// exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmdStdin(t, "", args...)
}

// runCmdStdin is runCmd with stdin reading from in.
func runCmdStdin(t *testing.T, in string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(in), &out, &errOut)
	return code, out.String(), errOut.String()
}

// lineWriter is an io.Writer, safe for concurrent use, that hands every
// complete line to a channel and keeps everything written.
type lineWriter struct {
	mu      sync.Mutex
	all     strings.Builder
	partial string
	lines   chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1024)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial += string(p)
	for {
		line, rest, ok := strings.Cut(w.partial, "\n")
		if !ok {
			break
		}
		w.lines <- line
		w.partial = rest
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// served is a serve command running in a goroutine.
type served struct {
	id     string
	addrs  []string
	cancel context.CancelFunc
	done   chan int
	stderr *lineWriter
}

// startServe runs "serve args..." until it prints "ready", and stops it at
// the end of the test if the test did not.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{cancel: cancel, done: make(chan int, 1), stderr: newLineWriter()}
	out := newLineWriter()
	go func() { s.done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), out, s.stderr) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	deadline := time.After(waitFor)
	for {
		select {
		case line := <-out.lines:
			switch {
			case strings.HasPrefix(line, "id "):
				s.id = strings.TrimPrefix(line, "id ")
			case strings.HasPrefix(line, "listening "):
				s.addrs = append(s.addrs, strings.TrimPrefix(line, "listening "))
			case line == "ready":
				if s.id == "" || len(s.addrs) == 0 {
					t.Fatalf("serve said ready before its id and addresses:\n%s", out)
				}
				return s
			}
		case code := <-s.done:
			s.done <- code
			t.Fatalf("serve exited with %d before it was ready; stderr:\n%s", code, s.stderr)
		case <-deadline:
			t.Fatalf("serve not ready after %v; stdout:\n%s\nstderr:\n%s", waitFor, out, s.stderr)
		}
	}
}

// stop cancels serve's context, as SIGTERM does, and returns its exit code.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		return code
	case <-time.After(waitFor):
		t.Fatalf("serve did not stop within %v of its context ending", waitFor)
		return -1
	}
}
