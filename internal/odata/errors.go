package odata

import (
	"fmt"
	"unicode/utf8"
)

// MaxLength is the longest filter, in bytes, that [Parse] accepts.
const MaxLength = 4096

// MaxDepth is the deepest nesting of parentheses, not operators and function
// calls that [Parse] accepts.
const MaxDepth = 64

// SyntaxError reports a filter that [Parse] rejected. Its message names the
// column, what was wrong and how to fix it.
type SyntaxError struct {
	// Column is the 1-based position, in characters, where the problem was found.
	Column int
	// Msg describes the problem and the fix, without the "filter: column N:" prefix.
	Msg string
}

// Error returns "filter: column N: <problem>".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: column %d: %s", e.Column, e.Msg)
}

// errorAt builds a SyntaxError for byte offset pos of src.
func errorAt(src string, pos int, msg string) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	return &SyntaxError{Column: utf8.RuneCountInString(src[:pos]) + 1, Msg: msg}
}
