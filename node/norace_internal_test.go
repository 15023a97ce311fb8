//go:build !race

package node

// raceDetector: see race_internal_test.go.
const raceDetector = false
