package wsclient

// scanValue finds the end of the JSON value at b[i] in one pass, checking
// it as it goes: the JSON data of a message is neither copied nor decoded,
// only delimited and validated. It accepts only what encoding/json's Valid
// accepts (FuzzScanValue checks this); ok=false means "not taken here" —
// the frame then goes to encoding/json, which decides. A value nested
// deeper than maxScanDepth is not taken either.
func scanValue(b []byte, i int) (end int, ok bool) {
	const (
		wantValue = iota
		wantKey
		afterValue
	)
	var stack [maxScanDepth]byte // the open containers: '{' or '['
	depth, state := 0, wantValue
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		c := b[i]
		switch state {
		case wantKey:
			j, ok := scanString(b, i)
			if !ok {
				return i, false
			}
			i = skipSpace(b, j)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i, state = i+1, wantValue
		case wantValue:
			switch {
			case c == '{' || c == '[':
				if depth == maxScanDepth {
					return i, false
				}
				stack[depth] = c
				depth++
				i = skipSpace(b, i+1)
				switch {
				case i < len(b) && b[i] == c+2: // '{'+2 is '}', '['+2 is ']'
					depth, i, state = depth-1, i+1, afterValue
				case c == '{':
					state = wantKey
				}
			case c == '"':
				j, ok := scanString(b, i)
				if !ok {
					return i, false
				}
				i, state = j, afterValue
			case c == '-' || '0' <= c && c <= '9':
				j, ok := scanNumber(b, i)
				if !ok {
					return i, false
				}
				i, state = j, afterValue
			case hasWord(b, i, "true"):
				i, state = i+4, afterValue
			case hasWord(b, i, "false"):
				i, state = i+5, afterValue
			case hasWord(b, i, "null"):
				i, state = i+4, afterValue
			default:
				return i, false
			}
			if state == afterValue && depth == 0 {
				return i, true
			}
		case afterValue:
			switch top := stack[depth-1]; {
			case c == ',':
				i, state = i+1, wantValue
				if top == '{' {
					state = wantKey
				}
			case c == top+2:
				depth, i = depth-1, i+1
				if depth == 0 {
					return i, true
				}
			default:
				return i, false
			}
		}
	}
}

// maxScanDepth is the deepest nesting scanValue takes.
const maxScanDepth = 32

// hasWord reports whether b holds w at i.
func hasWord(b []byte, i int, w string) bool {
	return len(b)-i >= len(w) && string(b[i:i+len(w)]) == w
}

// scanString finds the end of the JSON string at b[i] (just past its
// closing quote), checking its escapes.
func scanString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; ; {
		j = plainEnd(b, j)
		if j >= len(b) {
			return j, false
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(b) {
				return j, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(b)-j < 6 || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return j, false
				}
				j += 6
			default:
				return j, false
			}
		case c < 0x20:
			return j, false
		default: // non-ASCII: encoding/json takes any byte from 0x20 up in a string
			j++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanNumber finds the end of the JSON number at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, bool) {
	digits := func(j int) int {
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(i + 1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}
