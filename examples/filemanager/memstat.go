package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// peakRSS returns this process's peak resident set size in bytes, as Linux
// reports it in /proc/self/status (VmHWM), and false where that cannot be
// read. getrusage's ru_maxrss would not do: it keeps the peak of the
// process the program was started from when that shared its memory until
// exec, as Go's os/exec does.
func peakRSS() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// peakNote is ", peak memory 19.2 MiB", or "" where it cannot be known.
func peakNote() string {
	if n, ok := peakRSS(); ok {
		return ", peak memory " + ibytes(n)
	}
	return ""
}
