package main

import (
	"fmt"
	"io"
	"os"
)

// progress reports long work on stderr: on a terminal as one line rewritten
// in place, elsewhere (logs, tests) as a line at every eighth of the work.
type progress struct {
	w   io.Writer
	tty bool
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

// step reports that done of total items of what are finished.
func (p *progress) step(what string, done, total int) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s %d/%d", what, done, total)
		return
	}
	if done%max(1, total/8) == 0 || done == total {
		fmt.Fprintf(p.w, "%s %d/%d\n", what, done, total)
	}
}

// say reports a phase with no count.
func (p *progress) say(what string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", what)
		return
	}
	fmt.Fprintln(p.w, what)
}

// done clears the progress line on a terminal.
func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
