package main

import (
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/stretchr/testify/require"
)

func TestValueOverTheLimitFailsBeforeJoining(t *testing.T) {
	// Nothing listens at the bootstrap address: a put that tried to join
	// would fail for that reason instead.
	boot := "--bootstrap=" + deadAddr(t)
	tooLarge := strings.Repeat("x", msgenc.MaxValueSize+1)
	for _, args := range [][]string{
		{"put", boot, "k", "-"},
		{"put", boot, "--immutable", "-"},
	} {
		code, out, errOut := runCmdStdin(t, tooLarge, args...)
		require.Equal(t, 1, code, "%v", args)
		require.Empty(t, out)
		require.Contains(t, errOut, "value too large: stdin holds more than 524288 bytes", "%v", args)
		require.NotContains(t, errOut, "bootstrap", "%v: the size is checked first", args)
	}
}
