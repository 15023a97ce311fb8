package conformance

import (
	"errors"
	"fmt"
	"sync"
)

// closeCallers is how many goroutines call Close at once in the close-once
// rules.
const closeCallers = 4

// closeOnce checks the Close rule every dhtkit part shares (kvstore.Store,
// transport.Transport, node.Node): of concurrent calls to Close exactly one
// is the first and returns nil, and the others, like every later call,
// return an error matching errClosed. The callers are released together,
// so that the calls overlap as much as the scheduler lets them.
func closeOnce(closeFn func() error, errClosed error) error {
	start := make(chan struct{})
	errs := make([]error, closeCallers)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = closeFn()
		})
	}
	close(start)
	wg.Wait()
	first := 0
	for _, err := range errs {
		switch {
		case err == nil:
			first++
		case !errors.Is(err, errClosed):
			return fmt.Errorf("concurrent Close = %w, want nil from the first and %v from the others", err, errClosed)
		}
	}
	if first != 1 {
		return fmt.Errorf("%d of %d concurrent calls to Close returned nil, want exactly 1 (the others %v)", first, closeCallers, errClosed)
	}
	if err := closeFn(); !errors.Is(err, errClosed) {
		return fmt.Errorf("Close after Close = %v, want %v", err, errClosed)
	}
	return nil
}
