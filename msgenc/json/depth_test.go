package json

import (
	"strings"
	"testing"
)

func TestCheckDepthCountsOnlyBracketsOutsideStrings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		fail bool
	}{
		{`[[]]`, 2, false},
		{`[[[]]]`, 2, true},
		{`{"a":{"b":[1]}}`, 3, false},
		{`{"a":{"b":[[1]]}}`, 3, true},
		{`{"m":"[[[[[[[[[[{{{{{{"}`, 1, false},
		{`{"m":"\"[[[[[[[[["}`, 1, false},
		{`{"m":"\\"}[[`, 1, true}, // the string ends after the escaped backslash
		{`]]]][[`, 2, false},      // malformed, left for the decoder
		{strings.Repeat("[", 9), 8, true},
	} {
		err := checkDepth([]byte(tc.in), tc.max)
		if (err != nil) != tc.fail {
			t.Errorf("checkDepth(%s, %d) = %v, want failure %t", tc.in, tc.max, err, tc.fail)
		}
	}
}
