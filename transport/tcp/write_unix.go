//go:build unix

package tcp

import (
	"errors"
	"syscall"
)

// writeFD writes b[n:] to the non-blocking socket fd as far as it takes
// it without waiting, and returns how much of b is then written. A full
// socket is not an error.
func writeFD(fd uintptr, b []byte, n int) (int, error) {
	for n < len(b) {
		m, err := syscall.Write(int(fd), b[n:])
		if m > 0 {
			n += m
		}
		switch {
		case err == syscall.EINTR:
		case errors.Is(err, syscall.EAGAIN):
			return n, nil
		case err != nil:
			return n, err
		case m <= 0:
			return n, nil
		}
	}
	return n, nil
}
