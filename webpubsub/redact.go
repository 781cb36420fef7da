package webpubsub

import (
	"regexp"
	"strings"
)

// redactedMarker replaces every secret removed from text.
const redactedMarker = "[REDACTED]"

// jwtPattern matches compact JWS strings, and any run that starts like one
// (a JWT cut off by the excerpt bound), so they can be removed from text
// that came from the network before it reaches an error or a log. The
// separator may also appear percent-encoded.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(?:(?:\.|%2[eE])[A-Za-z0-9_-]*){0,2}`)

// redactTokens replaces JWTs in s with a marker. It is for text the client
// made itself (a URL, a transport error); text from a response goes
// through redact.
func redactTokens(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	return jwtPattern.ReplaceAllString(s, redactedMarker)
}

// minScrubLen is the shortest secret removed by value; shorter strings
// would mangle ordinary text and are not real keys or tokens.
const minScrubLen = 8

// redact is the one filter every string taken from a response passes
// before it reaches a ResponseError (its error code, message excerpt,
// header values), a log line or a transport error: a hostile service or
// proxy may echo the Authorization header or the access key anywhere.
//
// It makes s valid UTF-8, undoes the escapes a JSON or URL encoder may
// have applied to the characters keys and tokens are made of ("\u002e",
// "\/", "%2B", also nested), then removes every secret (the access key,
// the bearer token) and everything shaped like a JWT. The decoded escapes
// only ever stand for such plain characters, so the text stays readable.
func redact(s string, secrets []string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for range 8 { // nested encodings: a few rounds, each one shrinks s
		d, changed := unescapePlain(s)
		if !changed {
			break
		}
		s = d
	}
	for _, sec := range secrets {
		if len(sec) >= minScrubLen && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redactedMarker)
		}
	}
	return redactTokens(s)
}

// plainByte reports whether c is a character keys and tokens are made of:
// the base64 and base64url alphabets, '.', '=' and '~'.
func plainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '=' || c == '.' || c == '_' || c == '-' || c == '~'
}

// unescapePlain decodes "\/", "\uXXXX" and "%XX" where they stand for a
// plainByte ("%25" too, so nested percent-encodings come apart in the next
// round); every other byte and escape is kept as is. It runs in linear
// time.
func unescapePlain(s string) (string, bool) {
	if strings.IndexByte(s, '\\') < 0 && strings.IndexByte(s, '%') < 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteString(`\\`) // an escaped backslash starts no escape
			i++
			continue
		case c == '\\' && i+1 < len(s) && s[i+1] == '/':
			b.WriteByte('/')
			i++
			changed = true
			continue
		case c == '\\' && i+5 < len(s) && s[i+1] == 'u' && s[i+2] == '0' && s[i+3] == '0':
			if d, ok := hexByte(s[i+4], s[i+5]); ok && plainByte(d) {
				b.WriteByte(d)
				i += 5
				changed = true
				continue
			}
		case c == '%' && i+2 < len(s):
			if d, ok := hexByte(s[i+1], s[i+2]); ok && (plainByte(d) || d == '%') { // "%25" too: nested encodings
				b.WriteByte(d)
				i += 2
				changed = true
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String(), changed
}

// hexByte decodes two hex digits.
func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexVal(hi)
	l, ok2 := hexVal(lo)
	return h<<4 | l, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
