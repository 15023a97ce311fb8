//go:build !race

package node_test

// churnRace tells the churn simulation that the race detector is on: it
// multiplies the CPU a simulated hour costs several times over.
const churnRace = false
