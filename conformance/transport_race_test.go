//go:build race

package conformance_test

// transportRaceEnabled tells tests that the race detector is on.
const transportRaceEnabled = true
