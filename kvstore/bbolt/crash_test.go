package bbolt_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
)

// crashEnv names the store file for the child process of the crash test.
const crashEnv = "DHTKIT_BBOLT_CRASH_PATH"

// crashValue is the value stored under key i: large enough that records
// span pages, and derived from i so that damage is detected.
func crashValue(i int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "value %d;", i), 120)
}

// TestCrashHelperProcess is the child of TestAcknowledgedPutsSurviveSIGKILL:
// it writes forever with 8 writers and prints "ack <i>" once Put(i) has
// returned. Run directly, it skips.
func TestCrashHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for the crash test")
	}
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var next int
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				rec := kvstore.Record{Value: crashValue(i), Seq: uint64(i), Expires: time.Now().Add(time.Hour)}
				if err := s.Put(context.Background(), fmt.Appendf(nil, "key-%d", i), rec); err != nil {
					fmt.Println("put failed:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("ack %d\n", i) // unbuffered: the parent sees it now
				mu.Unlock()
			}
		})
	}
	wg.Wait() // never: the parent kills this process
}

func TestAcknowledgedPutsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable to re-run:", err)
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestCrashHelperProcess$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	const killAfter = 300
	var acked []int
	var other []string
	sc := bufio.NewScanner(stdout)
	for len(acked) < killAfter && sc.Scan() {
		var i int
		if _, err := fmt.Sscanf(sc.Text(), "ack %d", &i); err != nil {
			other = append(other, sc.Text())
			continue
		}
		acked = append(acked, i)
	}
	// SIGKILL mid-stream: the child has Puts in flight and gets no chance
	// to close the store.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(acked) < killAfter {
		t.Fatalf("child stopped after %d acks (other output: %q)", len(acked), strings.Join(other, "\n"))
	}

	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatalf("reopen after SIGKILL = %v", err)
	}
	defer s.Close()
	for _, i := range acked {
		rec, err := s.Get(t.Context(), fmt.Appendf(nil, "key-%d", i))
		if err != nil {
			t.Fatalf("acknowledged key-%d: Get after SIGKILL = %v", i, err)
		}
		if !bytes.Equal(rec.Value, crashValue(i)) || rec.Seq != uint64(i) {
			t.Fatalf("acknowledged key-%d came back damaged: seq %d, value %.40q", i, rec.Seq, rec.Value)
		}
	}
	n, err := s.Len(t.Context())
	if err != nil || n < killAfter {
		t.Fatalf("Len after SIGKILL = %d, %v, want at least the %d acknowledged", n, err, killAfter)
	}
	t.Logf("%d acknowledged puts survived SIGKILL; the file holds %d records", len(acked), n)
}
