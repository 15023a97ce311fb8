// Package clock is the source of time that dhtkit's time-dependent parts take
// by injection: the node's timeouts and maintenance, store expiry.
//
// System reads the wall clock. Manual is a clock that moves only when told to,
// so tests drive expiry, refresh and republish without sleeping.
package clock
