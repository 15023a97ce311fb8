// Package cli holds what the example commands share: the part flags that
// choose a node's built-in parts, the client flags that join a running
// network, argument parsing with flags in any position, and the exit-code
// conventions (0 success, 1 failure, 2 usage).
//
// It is internal to examples/: its API serves the example commands and may
// change with them.
package cli
