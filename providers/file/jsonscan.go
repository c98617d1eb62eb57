package file

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The NDJSON formats we read (COF, Sonar FDNS) are flat objects of short
// strings and numbers, tens of millions of them per file. encoding/json
// allocates a value per field and dominates the indexing time, so this is
// a small strict scanner for one flat JSON object that hands out the raw
// bytes of each member without copying. Nested arrays and objects are
// returned as raw spans and decoded by the caller with encoding/json.
// Everything the scanner accepts is valid JSON (the fuzz target checks it).

// jsonKind is the kind of a member value.
type jsonKind uint8

const (
	kindString  jsonKind = iota + 1 // raw bytes between the quotes, no escapes
	kindEscaped                     // a string with escapes: raw span including the quotes
	kindNumber
	kindLiteral // true, false, null
	kindArray   // raw span including brackets
	kindObject  // raw span including braces
)

var errNotObject = errors.New("not a JSON object")

// scanObject calls fn for each member of the JSON object in line. Member
// keys with escapes are decoded; values are raw (see jsonKind).
func scanObject(line []byte, fn func(key []byte, kind jsonKind, val []byte) error) error {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errNotObject
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return trailing(line, i+1)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return fmt.Errorf("expected a member name at byte %d", i+1)
		}
		end, escaped, err := scanString(line, i)
		if err != nil {
			return err
		}
		key := line[i+1 : end-1]
		if escaped {
			var s string
			if err := json.Unmarshal(line[i:end], &s); err != nil {
				return fmt.Errorf("bad member name at byte %d", i+1)
			}
			key = []byte(s)
		}
		i = skipWS(line, end)
		if i >= len(line) || line[i] != ':' {
			return fmt.Errorf("expected ':' at byte %d", i+1)
		}
		i = skipWS(line, i+1)
		if i >= len(line) {
			return errors.New("unexpected end of line")
		}
		var kind jsonKind
		var val []byte
		switch c := line[i]; {
		case c == '"':
			end, escaped, err := scanString(line, i)
			if err != nil {
				return err
			}
			if escaped {
				kind, val = kindEscaped, line[i:end]
			} else {
				kind, val = kindString, line[i+1:end-1]
			}
			i = end
		case c == '-' || (c >= '0' && c <= '9'):
			end, err := scanNumber(line, i)
			if err != nil {
				return err
			}
			kind, val = kindNumber, line[i:end]
			i = end
		case c == 't' || c == 'f' || c == 'n':
			end := scanLiteral(line, i)
			if end < 0 {
				return fmt.Errorf("invalid literal at byte %d", i+1)
			}
			kind, val = kindLiteral, line[i:end]
			i = end
		case c == '[' || c == '{':
			end, err := skipNested(line, i)
			if err != nil {
				return err
			}
			if !json.Valid(line[i:end]) {
				return fmt.Errorf("invalid nested value at byte %d", i+1)
			}
			kind, val = kindArray, line[i:end]
			if c == '{' {
				kind = kindObject
			}
			i = end
		default:
			return fmt.Errorf("unexpected %q at byte %d", c, i+1)
		}
		if err := fn(key, kind, val); err != nil {
			return err
		}
		i = skipWS(line, i)
		if i >= len(line) {
			return errors.New("unexpected end of line")
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
		case '}':
			return trailing(line, i+1)
		default:
			return fmt.Errorf("expected ',' or '}' at byte %d", i+1)
		}
	}
}

func trailing(line []byte, i int) error {
	if skipWS(line, i) != len(line) {
		return fmt.Errorf("unexpected data after the object at byte %d", i+1)
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanString returns the index just past the closing quote of the string
// starting at b[i] == '"', and whether it contains escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		if plainStringByte[c] {
			continue // the common case: one table lookup per byte
		}
		switch {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return 0, false, errors.New("unterminated string")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+5 >= len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return 0, false, fmt.Errorf("bad \\u escape at byte %d", j+1)
				}
				j += 5
			default:
				return 0, false, fmt.Errorf("bad escape at byte %d", j+1)
			}
		default:
			return 0, false, fmt.Errorf("control character in string at byte %d", j+1)
		}
	}
	return 0, false, errors.New("unterminated string")
}

// plainStringByte marks the bytes that need no attention inside a JSON
// string: not a quote, a backslash or a control character.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber checks the JSON number grammar from b[i].
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, fmt.Errorf("invalid number at byte %d", start+1)
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, fmt.Errorf("invalid number at byte %d", start+1)
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, fmt.Errorf("invalid number at byte %d", start+1)
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int) int {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
			return i + len(lit)
		}
	}
	return -1
}

// skipNested returns the index just past the array or object starting at
// b[i], respecting strings. Validity is checked by the caller.
func skipNested(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			end, _, err := scanString(b, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '[', '{':
			depth++
			if depth > 64 {
				return 0, errors.New("nesting too deep")
			}
		case ']', '}':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errors.New("unterminated array or object")
}
