//go:build !unix

package node_test

import "testing"

// btRaiseFDLimit does nothing where there is no open-file limit to raise.
func btRaiseFDLimit(*testing.B, uint64) {}
