package bencode

import (
	"errors"
	"strings"
	"testing"
)

func TestScanAcceptsCanonicalBencode(t *testing.T) {
	for _, in := range []string{
		"i0e", "i-1e", "i9223372036854775807e", "i-9223372036854775808e", "0:", "3:abc", "le", "de",
		"d1:ai1e1:bi2ee", "l0:i0eldeee", "d1:a0:2:aai1ee",
		strings.Repeat("l", 8) + strings.Repeat("e", 8),
	} {
		if err := scan([]byte(in), 8); err != nil {
			t.Errorf("scan(%q) = %v, want nil", in, err)
		}
	}
}

func TestScanRejectsMalformedOrNonCanonicalBencode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", errSyntax},
		{"x", errSyntax},
		{"i01e", errSyntax},
		{"i-0e", errSyntax},
		{"ie", errSyntax},
		{"i-e", errSyntax},
		{"i+1e", errSyntax},
		{"i1", errSyntax},
		{"i9223372036854775808e", errSyntax},
		{"i-9223372036854775809e", errSyntax},
		{"i12345678901234567890e", errSyntax},
		{"01:a", errSyntax},
		{"3:ab", errSyntax},
		{"999999999:x", errSyntax},
		{"4294967296:x", errSyntax},
		{"1", errSyntax},
		{"l", errSyntax},
		{"di1ei2ee", errSyntax},
		{"i1ei2e", errSyntax},
		{"d1:bi1e1:ai2ee", errKeyOrder},
		{"d1:ai1e1:ai2ee", errKeyOrder},
		{strings.Repeat("l", 9) + strings.Repeat("e", 9), errDeep},
		{strings.Repeat("d1:a", 9) + "i1e" + strings.Repeat("e", 9), errDeep},
	} {
		if err := scan([]byte(tc.in), 8); !errors.Is(err, tc.want) {
			t.Errorf("scan(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
}
