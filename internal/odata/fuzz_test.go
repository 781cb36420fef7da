package odata

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that every rejection is a
// *SyntaxError pointing inside the input, and that an accepted filter's
// canonical form parses back to the same canonical form and matches the same
// subjects.
func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.filter)
	}
	for _, tc := range invalidCases {
		if len(tc.filter) <= 200 {
			f.Add(tc.filter)
		}
	}
	// Chained 'in' lists once took 2^n to evaluate.
	f.Add("true" + strings.Repeat(" in (false, true)", 30))
	f.Add("concat(concat(userId, userId), concat(userId, userId)) in groups")
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error is %T, want *SyntaxError", src, err)
			}
			if maxCol := utf8.RuneCountInString(src) + 1; se.Column < 1 || se.Column > maxCol {
				t.Fatalf("Parse(%q): column %d outside 1..%d", src, se.Column, maxCol)
			}
			return
		}
		canon := flt.String()
		// The canonical form may be a little longer than the input (it adds
		// spaces), so the round trip parses without the length limit; the
		// depth limit still applies.
		root, err := parse(canon, 0)
		if err != nil {
			t.Fatalf("Parse(%q) gave canonical %q, which does not parse: %v", src, canon, err)
		}
		again := newFilter(root)
		if again.String() != canon {
			t.Fatalf("canonical form is not stable:\ninput  %q\nfirst  %q\nsecond %q", src, canon, again.String())
		}
		for _, s := range subjects {
			if flt.Match(s.s) != again.Match(s.s) {
				t.Fatalf("%q and its canonical form %q disagree on %s", src, canon, s.name)
			}
		}
	})
}
