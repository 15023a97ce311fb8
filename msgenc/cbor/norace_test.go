//go:build !race

package cbor_test

// raceDetector: see race_test.go.
const raceDetector = false
