package odata

import "strings"

// Filter is a compiled filter expression. It is immutable and safe for
// concurrent use. A nil *Filter means "no filter": it matches every subject.
type Filter struct {
	root  boolNode
	canon string
}

// Subject is what a filter is evaluated against: one connection.
type Subject struct {
	// UserID is the connection's user id; it is meaningful only if HasUserID.
	UserID string
	// HasUserID is false for anonymous connections, whose userId is null.
	HasUserID bool
	// ConnectionID is the connection's id; it is never null.
	ConnectionID string
	// Groups are the groups the connection is in.
	Groups []string
	// Protocol is the connection's WebSocket subprotocol; empty means none,
	// which the filter sees as null.
	Protocol string
}

// Parse compiles a filter. It checks syntax and types, so a compiled filter
// never fails at match time. A rejected filter returns a *SyntaxError whose
// message names the 1-based column, what was expected there and how to fix
// it, for example:
//
//	filter: column 11: expected a string after 'eq', found keyword "and"; write a quoted value such as 'user1', or null
//
// Filters longer than [MaxLength] bytes or nested deeper than [MaxDepth]
// levels are rejected.
func Parse(s string) (*Filter, error) {
	root, err := parse(s, MaxLength)
	if err != nil {
		return nil, err
	}
	return newFilter(root), nil
}

func newFilter(root boolNode) *Filter {
	var b strings.Builder
	root.format(&b)
	return &Filter{root: root, canon: b.String()}
}

// String returns the canonical form of the filter: keywords and functions in
// lower case, identifiers spelled userId, connectionId, protocol and groups,
// single spaces between tokens and only the parentheses that precedence
// requires. Parsing the canonical form yields the same filter. A nil filter
// renders as "".
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.canon
}

// Match reports whether the connection described by s satisfies the filter.
// A nil filter matches every connection.
func (f *Filter) Match(s Subject) bool {
	if f == nil {
		return true
	}
	return f.root.evalBool(s)
}
