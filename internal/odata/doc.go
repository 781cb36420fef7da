// Package odata parses and evaluates the OData filter subset that Azure Web
// PubSub accepts in the filter query parameter of the send operations and in
// the filter field of :addToGroups and :removeFromGroups.
//
// A filter is compiled once with [Parse] and then matched against many
// connections with [Filter.Match]. Parse checks syntax and types up front, so
// a filter that parses never fails at match time, and its errors name the
// 1-based column, what was expected and how to fix it.
//
// # Grammar
//
// Keywords, identifiers and function names are case-insensitive; whitespace
// (space, tab, CR, LF) may appear between any two tokens.
//
//	filter      = expr                         (must be boolean)
//	expr        = and { "or" and }
//	and         = compare { "and" compare }
//	compare     = unary { cmpop unary | "in" inlist }
//	cmpop       = "eq" | "ne" | "gt" | "ge" | "lt" | "le"
//	inlist      = collection | "(" expr { "," expr } ")"
//	collection  = "groups" | "(" collection ")"
//	unary       = "not" unary | primary
//	primary     = "(" expr ")" | literal | identifier | function
//	identifier  = "userId" | "connectionId" | "protocol" | "groups"
//	literal     = string | integer | "true" | "false" | "null"
//	string      = "'" { any character except "'" | "''" } "'"
//	integer     = [ "+" | "-" ] digit { digit }
//	function    = name "(" expr { "," expr } ")"
//
// Precedence, from tightest to loosest: not, comparisons (eq ne gt ge lt le
// in), and, or. So "not length(userId) gt 5" applies not to an integer and is
// rejected; write "not (length(userId) gt 5)".
//
// # Types
//
// userId, connectionId and protocol are strings; groups is a collection of
// strings. userId is null for anonymous connections and protocol is null for
// connections without a subprotocol; connectionId is never null.
//
// Functions (p, q are strings, n, m integers):
//
//	startswith(p, q) endswith(p, q) contains(p, q)   boolean
//	length(p) length(groups) indexof(p, q)           integer
//	tolower(p) toupper(p) trim(p) concat(p, q)        string
//	substring(p, n) substring(p, n, m)                string
//
// Lengths and indexes count Unicode code points. substring clamps its start
// and length to the string, so it never fails.
//
// # Semantics
//
// Every condition is either true or false. Strings compare by code point
// (ordinal, case-sensitive). eq and ne treat null as a value: "userId eq null"
// is true for anonymous connections and "userId ne 'a'" is true for them too.
// gt and lt are false when either side is null; ge and le are true only when
// both sides are null or the ordinary comparison holds. A function given a
// null string returns null; a boolean function given null returns false, so
// "not startswith(userId, 'x')" matches anonymous connections. "x in groups"
// tests membership; "x in ('a', 'b')" is true when x equals one of the items.
//
// # Limits
//
// A filter may be at most [MaxLength] bytes long and nest at most [MaxDepth]
// levels of parentheses, not and function calls; longer or deeper filters
// get a [SyntaxError], never a stack overflow. Matching evaluates each node
// at most once, so its cost is linear in the size of the filter.
//
// # Canonical form
//
// [Filter.String] prints keywords and functions in lower case, identifiers
// as userId, connectionId, protocol and groups, single spaces between tokens,
// ", " between arguments, and only the parentheses that precedence requires
// ("'g' in (groups)" becomes "'g' in groups"; "a and (b and c)" becomes
// "a and b and c"). Parsing the canonical form gives the same canonical form.
package odata
