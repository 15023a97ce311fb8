package node

import "sync"

// forwardDups holds the forwarded queries a hop is handling, by the
// sender's address and transaction ID. A previous hop resends a query whose
// answer is slow or whose frame was lost; a resend that arrives while the
// query is still in progress is dropped (the answer it waits for is
// coming), and one that arrives after the answer went out runs again (the
// answer was lost). Entries live only while their query runs, so there are
// at most WorkLimits.Forwards of them.
type forwardDups struct {
	mu      sync.Mutex
	running map[forwardKey]struct{}
}

// forwardKey names one forwarded request as its receiver saw it.
type forwardKey struct {
	from string // the sender's binary address
	tx   uint64
}

func (d *forwardDups) init() { d.running = make(map[forwardKey]struct{}) }

// begin records k as running; it reports false if k already runs.
func (d *forwardDups) begin(k forwardKey) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.running[k]; ok {
		return false
	}
	d.running[k] = struct{}{}
	return true
}

// end forgets k.
func (d *forwardDups) end(k forwardKey) {
	d.mu.Lock()
	delete(d.running, k)
	d.mu.Unlock()
}
