//go:build race

package cbor_test

// raceDetector tells allocation tests that the race detector is on: it
// drops a share of what sync.Pool is given, so pooled work allocates.
const raceDetector = true
