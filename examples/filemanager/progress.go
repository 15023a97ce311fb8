package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports a transfer on stderr: on a terminal as a progress bar
// (bytes, rate, ETA) drawn by schollz/progressbar; elsewhere (logs, pipes,
// tests) as a plain line at every tenth of the work. It is safe for
// concurrent use; one transfer runs at a time.
type progress struct {
	w   io.Writer
	tty bool

	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	what  string
	total int64
	done  int64
	shown int64 // plain lines: the tenths already reported
	began time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// start begins reporting a transfer of total bytes.
func (p *progress) start(what string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.what, p.total, p.done, p.shown, p.began = what, total, 0, 0, time.Now()
	if p.tty {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
}

// adjust changes the work by n bytes: less for what is already there, more
// when a chunk recorded as there fails its check and is fetched after all.
func (p *progress) adjust(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	if p.bar != nil {
		p.bar.ChangeMax64(p.total)
	}
}

// add reports n more bytes done.
func (p *progress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil {
		p.bar.Add64(n)
		return
	}
	if p.total <= 0 {
		return
	}
	if tenth := p.done * 10 / p.total; tenth > p.shown && p.done < p.total {
		p.shown = tenth
		fmt.Fprintf(p.w, "%s: %s of %s (%d%%), %s, ETA %s\n", p.what,
			ibytes(p.done), ibytes(p.total), p.done*100/p.total, rate(p.done, time.Since(p.began)), p.eta())
	}
}

func (p *progress) eta() time.Duration {
	el := time.Since(p.began)
	if p.done == 0 {
		return 0
	}
	return (time.Duration(float64(el) * float64(p.total-p.done) / float64(p.done))).Round(time.Second)
}

// finish ends the transfer's report.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}

// ibytes formats n bytes in binary units: "512 B", "32.0 MiB".
func ibytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// rate formats n bytes over d in MB/s (10^6 bytes a second).
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "- MB/s"
	}
	return fmt.Sprintf("%.1f MB/s", float64(n)/d.Seconds()/1e6)
}
