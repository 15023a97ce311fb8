package node

import "sync"

// forwardDups holds the forwarded queries a hop is handling, by the
// sender's address and transaction ID. A previous hop resends a query whose
// answer is slow or whose frame was lost; a resend that arrives while the
// query is still in progress is dropped (the answer it waits for is
// coming), and one that arrives after the answer went out runs again (the
// answer was lost). Entries live only while their query runs, so there are
// at most maxConcurrentForwards of them.
//
// It also holds the salts of the proxied queries the hop is handling: a
// proxied query ships no trace of the hops it passed, so a hop recognises
// one that comes back to it by its salt alone, and refuses it. Salts too
// are held only while their query runs.
type forwardDups struct {
	mu      sync.Mutex
	running map[forwardKey]struct{}
	salts   map[string]struct{}
}

// forwardKey names one forwarded request as its receiver saw it.
type forwardKey struct {
	from string // the sender's binary address
	tx   uint64
}

func (d *forwardDups) init() {
	d.running = make(map[forwardKey]struct{})
	d.salts = make(map[string]struct{})
}

// beginSalt records that a query with this salt passes here; it reports
// false if one already does: the query came back along a loop, or two
// branches of a fanned-out query met.
func (d *forwardDups) beginSalt(salt []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.salts[string(salt)]; ok {
		return false
	}
	d.salts[string(salt)] = struct{}{}
	return true
}

// holdsSalt reports whether a query with this salt passes here.
func (d *forwardDups) holdsSalt(salt []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.salts[string(salt)]
	return ok
}

// endSalt forgets salt.
func (d *forwardDups) endSalt(salt []byte) {
	d.mu.Lock()
	delete(d.salts, string(salt))
	d.mu.Unlock()
}

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
