package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// tokenKind classifies a lexical token.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokWord
	tokString
	tokInt
	tokLParen
	tokRParen
	tokComma
)

// token is one lexical unit of a filter.
type token struct {
	kind tokenKind
	pos  int    // byte offset of the first character in the source
	raw  string // the token as written
	word string // lower-cased raw text, for tokWord
	str  string // unescaped value, for tokString
	num  int64  // value, for tokInt
}

// describe renders the token for "found ..." in error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end of the filter"
	case tokWord:
		if isKeyword(t.word) {
			return fmt.Sprintf("keyword %q", t.raw)
		}
		return fmt.Sprintf("%q", t.raw)
	case tokString:
		raw := t.raw
		if r := []rune(raw); len(r) > 24 {
			raw = string(r[:20]) + "...'"
		}
		return "string " + raw
	case tokInt:
		return "number " + t.raw
	default:
		return fmt.Sprintf("%q", t.raw)
	}
}

// keywords are the reserved words of the grammar, lower-cased.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true,
	"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true,
	"null": true, "true": true, "false": true,
}

func isKeyword(w string) bool { return keywords[w] }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isWordChar(c byte) bool { return isWordStart(c) || isDigit(c) }

// lex splits src into tokens, ending with a tokEOF token.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i == len(src) {
			return append(toks, token{kind: tokEOF, pos: i}), nil
		}
		start := i
		c := src[i]
		switch {
		case c == '(':
			toks = append(toks, token{kind: tokLParen, pos: i, raw: "("})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, pos: i, raw: ")"})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, pos: i, raw: ","})
			i++
		case c == '\'':
			val, end, ok := lexString(src, i)
			if !ok {
				return nil, errorAt(src, start, "string literal is not closed; end it with ' (write '' for a quote inside the text)")
			}
			toks = append(toks, token{kind: tokString, pos: start, raw: src[start:end], str: val})
			i = end
		case isDigit(c) || (c == '+' || c == '-') && i+1 < len(src) && isDigit(src[i+1]):
			i++
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			raw := src[start:i]
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return nil, errorAt(src, start, fmt.Sprintf("number %s is out of range; integers must fit in 64 bits", raw))
			}
			toks = append(toks, token{kind: tokInt, pos: start, raw: raw, num: n})
		case isWordStart(c):
			for i < len(src) && isWordChar(src[i]) {
				i++
			}
			raw := src[start:i]
			toks = append(toks, token{kind: tokWord, pos: start, raw: raw, word: strings.ToLower(raw)})
		default:
			return nil, errorAt(src, start, unexpectedChar(src[start:]))
		}
	}
}

// lexString scans a single-quoted literal whose opening quote is src[i].
// It returns the unescaped value and the offset just past the closing quote.
func lexString(src string, i int) (val string, end int, ok bool) {
	var b strings.Builder
	i++ // opening quote
	for i < len(src) {
		j := strings.IndexByte(src[i:], '\'')
		if j < 0 {
			return "", 0, false
		}
		b.WriteString(src[i : i+j])
		i += j + 1
		if i < len(src) && src[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i, true
	}
	return "", 0, false
}

// unexpectedChar explains a character the grammar does not allow, with the
// OData spelling of what the writer probably meant.
func unexpectedChar(rest string) string {
	switch {
	case strings.HasPrefix(rest, "=="), strings.HasPrefix(rest, "="):
		return "unexpected '='; compare with eq (for example userId eq 'user1')"
	case strings.HasPrefix(rest, "!="), strings.HasPrefix(rest, "<>"):
		return fmt.Sprintf("unexpected %q; compare with ne (for example userId ne 'user1')", rest[:2])
	case strings.HasPrefix(rest, ">="), strings.HasPrefix(rest, "<="):
		return fmt.Sprintf("unexpected %q; compare with ge or le", rest[:2])
	case strings.HasPrefix(rest, ">"), strings.HasPrefix(rest, "<"):
		return fmt.Sprintf("unexpected %q; compare with gt, ge, lt or le", rest[:1])
	case strings.HasPrefix(rest, "&&"):
		return "unexpected \"&&\"; combine conditions with and"
	case strings.HasPrefix(rest, "||"):
		return "unexpected \"||\"; combine conditions with or"
	case strings.HasPrefix(rest, "!"):
		return "unexpected '!'; negate a condition with not"
	case strings.HasPrefix(rest, `"`):
		return `unexpected '"'; string literals use single quotes, for example 'user1'`
	}
	r := []rune(rest)[0]
	return fmt.Sprintf("unexpected character %q; a filter holds identifiers, quoted strings, numbers, parentheses and commas", r)
}
