package json

import "fmt"

// checkDepth returns an error when data opens more than max objects or
// arrays inside each other. It only counts brackets outside strings, so it
// is one cheap pass that runs before encoding/json sees the input;
// malformed input is left for the decoder to reject.
func checkDepth(data []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("nested deeper than %d levels", max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
