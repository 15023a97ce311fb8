// Package cli holds what the example commands share, so that a flag means
// the same in every one of them: the part flags every node takes (Parts),
// the flags of commands that run full nodes (Server: the routing table and
// the store) and of commands that join as clients (Client: where to join,
// for how long), --identity (Identity), argument parsing with flags in any
// position, usage texts that write flags as --name, and the exit-code
// conventions (0 success, 1 failure, 2 usage).
//
// It is internal to examples/: its API serves the example commands and may
// change with them.
package cli
