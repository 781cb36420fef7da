package wire

import "encoding/binary"

// ValidJSON reports whether b is exactly one JSON value with optional
// surrounding whitespace: the same answer as encoding/json.Valid (which
// does not check UTF-8 either, and allows nesting 10000 deep), about 7 to 40
// times faster on typical message bodies because the contents of strings
// are skipped eight bytes at a time instead of a state-machine call per
// byte. The REST client checks every RawJSON message with it (json.Valid
// took 5 ms per MiB, which made large sends several times slower than the
// bare limit), and wsclient every JSON data it receives (JSONValueEnd).
func ValidJSON(b []byte) bool {
	i, ok := jsonValue(b, skipJSONSpace(b, 0), 0)
	return ok && skipJSONSpace(b, i) == len(b)
}

// JSONValueEnd checks the JSON value that starts at b[i] (no whitespace
// before it) and returns the index just after it: what follows is not
// looked at. ok is true exactly when json.Valid accepts b[i:end].
func JSONValueEnd(b []byte, i int) (end int, ok bool) {
	return jsonValue(b, i, 0)
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// jsonPlain marks the bytes that may appear in a JSON string as they are:
// everything but '"', '\\' and control characters.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonValue checks the value starting at b[i] and returns the index after
// it.
func jsonValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{':
		return jsonObject(b, i+1, depth+1)
	case c == '[':
		return jsonArray(b, i+1, depth+1)
	case c == '"':
		return jsonString(b, i+1)
	case c == 't':
		return jsonLiteral(b, i, "true")
	case c == 'f':
		return jsonLiteral(b, i, "false")
	case c == 'n':
		return jsonLiteral(b, i, "null")
	case c == '-' || ('0' <= c && c <= '9'):
		return jsonNumber(b, i)
	}
	return i, false
}

func jsonObject(b []byte, i, depth int) (int, bool) {
	if depth > maxJSONDepth {
		return i, false
	}
	i = skipJSONSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		var ok bool
		if i, ok = jsonString(b, i+1); !ok {
			return i, false
		}
		i = skipJSONSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		if i, ok = jsonValue(b, skipJSONSpace(b, i+1), depth); !ok {
			return i, false
		}
		i = skipJSONSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func jsonArray(b []byte, i, depth int) (int, bool) {
	if depth > maxJSONDepth {
		return i, false
	}
	i = skipJSONSpace(b, i)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = jsonValue(b, i, depth); !ok {
			return i, false
		}
		i = skipJSONSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipJSONSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// jsonString checks a string whose opening quote is at b[i-1].
func jsonString(b []byte, i int) (int, bool) {
	for {
		// 32 and then eight bytes at a time while none of them is special; then at
		// most eight one by one (the word test may also stop at a byte
		// >= 0x80 that is plain).
		for i+32 <= len(b) {
			w := b[i : i+32 : i+32]
			if specialBytes(binary.LittleEndian.Uint64(w))|specialBytes(binary.LittleEndian.Uint64(w[8:]))|
				specialBytes(binary.LittleEndian.Uint64(w[16:]))|specialBytes(binary.LittleEndian.Uint64(w[24:])) != 0 {
				break
			}
			i += 32
		}
		for i+8 <= len(b) && specialBytes(binary.LittleEndian.Uint64(b[i:])) == 0 {
			i += 8
		}
		end := min(i+8, len(b))
		for i < end && jsonPlain[b[i]] {
			i++
		}
		if i == end && i < len(b) {
			continue
		}
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return i, false
				}
				i += 5
			default:
				return i, false
			}
		default: // a control character
			return i, false
		}
	}
}

// Bit tricks on eight bytes at once (Hacker's Delight; Anderson's bit
// twiddling hacks): a word has a zero byte when (v-lo)&^v&hi != 0, and a
// byte below n when (v-lo*n)&^v&hi != 0. Neither misses a byte.
const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// specialBytes is non-zero when a byte of x may be '"', '\\' or a control
// character.
func specialBytes(x uint64) uint64 {
	quote := x ^ (lo8 * '"')
	backslash := x ^ (lo8 * '\\')
	return ((quote-lo8)&^quote | (backslash-lo8)&^backslash | (x-lo8*0x20)&^x) & hi8
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func jsonLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// jsonNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
