package bencode

import (
	"errors"
	"fmt"
)

// Scan errors. They are wrapped with the offset where scanning stopped.
var (
	errSyntax   = errors.New("malformed bencode")
	errDeep     = errors.New("nested too deep")
	errKeyOrder = errors.New("dictionary keys not in strictly ascending order")
)

// scanner checks that a frame is exactly one canonical bencode value before
// bencode-go decodes it: every string length fits in the bytes that follow,
// integers fit in an int64 and have no leading zeros, dictionary keys are
// strings in ascending order without repeats, and nesting stays within a
// bound. bencode-go itself allocates whatever a length prefix claims and
// would decode integers it cannot represent, so it never sees input this
// scanner rejects. The scanner does not allocate.
type scanner struct {
	data     []byte
	pos      int
	maxDepth int
}

// scan checks data; see scanner.
func scan(data []byte, maxDepth int) error {
	s := scanner{data: data, maxDepth: maxDepth}
	if err := s.value(1); err != nil {
		return fmt.Errorf("at offset %d: %w", s.pos, err)
	}
	if s.pos != len(data) {
		return fmt.Errorf("at offset %d: %w: trailing data", s.pos, errSyntax)
	}
	return nil
}

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return errSyntax
	}
	switch c := s.data[s.pos]; {
	case c == 'i':
		s.pos++
		return s.integer()
	case c >= '0' && c <= '9':
		_, _, err := s.str()
		return err
	case c == 'l', c == 'd':
		if depth > s.maxDepth {
			return errDeep
		}
		s.pos++
		var prevKey []byte
		for first := true; ; first = false {
			if s.pos >= len(s.data) {
				return errSyntax
			}
			if s.data[s.pos] == 'e' {
				s.pos++
				return nil
			}
			if c == 'd' {
				start, end, err := s.str()
				if err != nil {
					return err
				}
				key := s.data[start:end]
				if !first && string(key) <= string(prevKey) {
					return errKeyOrder
				}
				prevKey = key
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
	default:
		return errSyntax
	}
}

// integer reads the digits and 'e' of an integer whose 'i' was consumed.
func (s *scanner) integer() error {
	neg := false
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		neg = true
		s.pos++
	}
	start := s.pos
	var u uint64
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		if s.pos-start >= 19 { // 19 digits always fit; a 20th never does in an int64
			return errSyntax
		}
		u = u*10 + uint64(s.data[s.pos]-'0')
		s.pos++
	}
	n := s.pos - start
	switch {
	case n == 0, s.pos >= len(s.data), s.data[s.pos] != 'e':
		return errSyntax
	case n > 1 && s.data[start] == '0', neg && u == 0: // leading zero, -0
		return errSyntax
	case !neg && u > 1<<63-1, neg && u > 1<<63:
		return errSyntax
	}
	s.pos++
	return nil
}

// str reads a string and returns the bounds of its bytes.
func (s *scanner) str() (start, end int, err error) {
	digits := s.pos
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		if s.pos-digits >= 8 { // longer than any frame we accept
			return 0, 0, errSyntax
		}
		n = n*10 + int(s.data[s.pos]-'0')
		s.pos++
	}
	switch {
	case s.pos == digits, s.pos >= len(s.data), s.data[s.pos] != ':':
		return 0, 0, errSyntax
	case s.pos-digits > 1 && s.data[digits] == '0':
		return 0, 0, errSyntax
	}
	s.pos++
	if n > len(s.data)-s.pos {
		return 0, 0, fmt.Errorf("%w: string of %d bytes, %d left", errSyntax, n, len(s.data)-s.pos)
	}
	start = s.pos
	s.pos += n
	return start, s.pos, nil
}
