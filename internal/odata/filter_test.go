package odata

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// subjects are the connections every valid filter is matched against,
// in a fixed order so expected results read as lists of names.
var subjects = []struct {
	name string
	s    Subject
}{
	{"anon", Subject{ConnectionID: "c-anon"}},
	{"user1", Subject{UserID: "user1", HasUserID: true, ConnectionID: "123", Groups: []string{"group1"}, Protocol: "json.webpubsub.azure.v1"}},
	{"user2", Subject{UserID: "user2", HasUserID: true, ConnectionID: "c-user2", Groups: []string{"group1", "group2"}}},
	{"listener", Subject{UserID: "listener-7", HasUserID: true, ConnectionID: "c-listener", Groups: []string{"g"}}},
	{"obrien", Subject{UserID: "O'Brien", HasUserID: true, ConnectionID: "c-obrien", Groups: []string{"g", "group3"}}},
	{"abde", Subject{UserID: "user-ab-de", HasUserID: true, ConnectionID: "c-abde", Groups: []string{"group1", "group2", "group3"}}},
	{"x", Subject{UserID: "x", HasUserID: true, ConnectionID: "c-x", Groups: []string{"g"}, Protocol: "mqtt"}},
	{"upper", Subject{UserID: " USER1 ", HasUserID: true, ConnectionID: "c-upper"}},
}

// all returns every subject name except those listed.
func all(except ...string) []string {
	var names []string
	for _, s := range subjects {
		if !slices.Contains(except, s.name) {
			names = append(names, s.name)
		}
	}
	return names
}

// validCases are filters that must parse, with their canonical form ("" when
// the input already is canonical) and the subjects they match.
var validCases = []struct {
	filter string
	canon  string
	match  []string
}{
	// Examples from the service documentation.
	{"startswith(userId, 'listener-')", "", []string{"listener"}},
	{"userId ne 'user1' and userId ne 'user2'", "", all("user1", "user2")},
	{"not('group1' in groups)", "not ('group1' in groups)", []string{"anon", "listener", "obrien", "x", "upper"}},
	{"'g' in groups and userId eq 'x'", "", []string{"x"}},
	{"userId eq 'O''Brien'", "", []string{"obrien"}},
	{"userId eq 'user1'", "", []string{"user1"}},
	{"userId eq null", "", []string{"anon"}},
	{"userId ne null", "", all("anon")},
	{"connectionId ne '123'", "", all("user1")},
	{"'group1' in groups or 'group2' in groups or 'group3' in groups", "", []string{"user1", "user2", "obrien", "abde"}},
	{"userId in ('user1', 'user2', 'user3') and 'group1' in groups", "", []string{"user1", "user2"}},
	{"userId eq 'user1' and connectionId ne '123'", "", nil},
	{"userId eq 'user1' and (not ('group1' in groups))", "userId eq 'user1' and not ('group1' in groups)", nil},
	{"userId eq 'user''1'", "", nil},
	{"length(userId) le 10 and length(userId) gt 3", "", all("anon", "x")},
	{"length(userId) gt 10 or length(userId) le 3", "", []string{"x"}},
	{"not endswith(userId, 'milk')", "", all()},
	{"length(userId) ge 10", "", []string{"listener", "abde"}},
	{"length(userId) lt 3", "", []string{"x"}},
	{"tolower(userId) eq 'user1'", "", []string{"user1"}},
	{"tolower(trim(userId)) eq 'user1'", "", []string{"user1", "upper"}},
	{"toupper(userId) eq 'USER1'", "", []string{"user1"}},
	{"trim(userId) eq 'USER1'", "", []string{"upper"}},
	{"substring(userId,5,2) eq 'ab'", "substring(userId, 5, 2) eq 'ab'", []string{"abde"}},
	{"endswith(userId,'de')", "endswith(userId, 'de')", []string{"abde"}},
	{"indexof(userId,'-ab-') ge 0", "indexof(userId, '-ab-') ge 0", []string{"abde"}},
	{"length(groups) gt 1", "", []string{"user2", "obrien", "abde"}},
	{"length(userId) gt 0 and length(userId) lt 3 or length(userId) gt 7 and length(userId) lt 10", "", []string{"x"}},
	{"((length(userId) gt 0) and (length(userId) lt 3)) or ((length(userId) gt 7) and (length(userId) lt 10))",
		"length(userId) gt 0 and length(userId) lt 3 or length(userId) gt 7 and length(userId) lt 10", []string{"x"}},
	{"not (length(userId) gt 5)", "", []string{"anon", "user1", "user2", "x"}},
	{"userId eq 'user1' or (not (startswith(userId,'user2')))", "userId eq 'user1' or not startswith(userId, 'user2')", all("user2")},
	// Literals, case and whitespace.
	{"true", "", all()},
	{"false", "", nil},
	{"not true", "", nil},
	{"null eq null", "", all()},
	{"'a' eq 'a' and userId eq 'x'", "", []string{"x"}},
	{"\tuserId\neq\r\n'x'  ", "userId eq 'x'", []string{"x"}},
	{"USERID EQ 'x' AND NOT ('g' IN (GROUPS))", "userId eq 'x' and not ('g' in groups)", nil},
	{"ConnectionID Eq 'c-x' Or UserId eq 'user2'", "connectionId eq 'c-x' or userId eq 'user2'", []string{"user2", "x"}},
	{"StartsWith(UserID,'user')", "startswith(userId, 'user')", []string{"user1", "user2", "abde"}},
	{"length('héllo') eq 5", "", all()},
	{"userId eq 'ünï'", "", nil},
	{"+5 eq length(userId)", "5 eq length(userId)", []string{"user1", "user2"}},
	// Protocol identifier.
	{"protocol eq 'json.webpubsub.azure.v1'", "", []string{"user1"}},
	{"protocol eq null", "", all("user1", "x")},
	{"PROTOCOL ne NULL", "protocol ne null", []string{"user1", "x"}},
	// Functions.
	{"contains(userId, 'ser')", "", []string{"user1", "user2", "abde"}},
	{"concat(userId, '!') eq 'x!'", "", []string{"x"}},
	{"concat(userId, null) eq null", "", all()},
	{"length(groups) eq 0", "", []string{"anon", "upper"}},
	{"substring(userId, 100) eq ''", "", all("anon")},
	{"substring(userId, -3, 2) eq 'us'", "", []string{"user1", "user2", "abde"}},
	{"substring(userId, 1, -1) eq ''", "", all("anon")},
	{"substring(userId, 5) eq '-de'", "", nil},
	{"substring(userId, 7) eq '-de'", "", []string{"abde"}},
	{"indexof(userId, 'zz') eq -1", "", all("anon")},
	{"indexof('héllo', 'l') eq 2", "", all()},
	// Ordinal string ordering and null ordering.
	{"userId gt 'user1'", "", []string{"user2", "x"}},
	{"userId lt 'a'", "", []string{"obrien", "upper"}},
	{"userId le 'user1'", "", []string{"user1", "listener", "obrien", "abde", "upper"}},
	{"userId ge null", "", []string{"anon"}},
	{"userId gt null", "", nil},
	{"length(userId) eq null", "", []string{"anon"}},
	// Booleans compared with eq/ne, and chained comparisons.
	{"startswith(userId,'user') eq true", "startswith(userId, 'user') eq true", []string{"user1", "user2", "abde"}},
	{"startswith(userId, 'user') ne false", "", []string{"user1", "user2", "abde"}},
	{"userId eq 'user1' eq false", "", all("user1")},
	{"true eq (userId eq 'x')", "", []string{"x"}},
	{"not not ('g' in groups)", "", []string{"listener", "obrien", "x"}},
	// in: lists and the collection form.
	{"connectionId in ('123', 'c-x')", "", []string{"user1", "x"}},
	{"'g' in (groups)", "'g' in groups", []string{"listener", "obrien", "x"}},
	{"'g' in ((groups))", "'g' in groups", []string{"listener", "obrien", "x"}},
	{"userId in (null, 'x')", "", []string{"anon", "x"}},
	{"userId in ('x')", "", []string{"x"}},
	{"length(userId) in (1, 7)", "", []string{"obrien", "x", "upper"}},
	{"userId in groups", "", nil},
	{"null in groups", "", nil},
	{"tolower(concat('G', '')) in groups", "", []string{"listener", "obrien", "x"}},
	// Precedence and parentheses.
	{"(userId eq 'a' or userId eq 'x') and 'g' in groups", "", []string{"x"}},
	{"userId eq 'a' or userId eq 'x' and 'g' in groups", "", []string{"x"}},
	{"'group1' in groups and 'group2' in groups and not ('group3' in groups)", "", []string{"user2"}},
	{"not (userId eq 'x' or userId eq 'user1')", "", all("x", "user1")},
	{"userId eq 'a' or (userId eq 'b' or userId eq 'x')", "userId eq 'a' or userId eq 'b' or userId eq 'x'", []string{"x"}},
	{"((userId)) eq ('x')", "userId eq 'x'", []string{"x"}},
}

func TestParseAndMatch(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := Parse(tc.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.filter, err)
			}
			wantCanon := tc.canon
			if wantCanon == "" {
				wantCanon = tc.filter
			}
			if diff := cmp.Diff(wantCanon, f.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
			var got []string
			for _, s := range subjects {
				if f.Match(s.s) {
					got = append(got, s.name)
				}
			}
			if diff := cmp.Diff(tc.match, got); diff != "" {
				t.Errorf("matching subjects (-want +got):\n%s", diff)
			}
			again, err := Parse(f.String())
			if err != nil {
				t.Fatalf("Parse(String()) = %v", err)
			}
			if diff := cmp.Diff(f.String(), again.String()); diff != "" {
				t.Errorf("canonical form does not round-trip (-first +second):\n%s", diff)
			}
		})
	}
}

// invalidCases are filters Parse must reject with exactly this error.
var invalidCases = []struct {
	filter string
	want   string
}{
	{"", `filter: column 1: filter is empty; write a condition such as userId eq 'user1', or leave the filter out`},
	{" \t ", `filter: column 1: filter is empty; write a condition such as userId eq 'user1', or leave the filter out`},
	{"userId eq and", `filter: column 11: expected a string after 'eq', found keyword "and"; write a quoted value such as 'user1', or null`},
	{"userId gt", `filter: column 10: expected a string after 'gt', found the end of the filter; write a quoted value such as 'user1', or null`},
	{"length(userId) gt", `filter: column 18: expected an integer after 'gt', found the end of the filter; write a whole number such as 10`},
	{"userId eq 'a' and", `filter: column 18: expected a condition after 'and', found the end of the filter; for example userId eq 'user1'`},
	{"userId eq 5", `filter: column 8: cannot compare userId (a string) with an integer using 'eq'; quote the value to compare text: '5'`},
	{"length(userId) gt 'a'", `filter: column 16: cannot compare an integer with a string using 'gt'; the left side is a number, so compare it with a number such as 3`},
	{"not length(userId) gt 5", `filter: column 5: 'not' applies to a condition, but its operand is an integer; not binds tighter than comparisons, so put the comparison in parentheses, e.g. not (length(userId) gt 5)`},
	{"not userId eq 'x'", `filter: column 5: 'not' applies to a condition, but its operand is userId (a string); not binds tighter than comparisons, so put the comparison in parentheses, e.g. not (length(userId) gt 5)`},
	{"user in ('user1','user2')", `filter: column 1: unknown identifier "user"; a filter can use userId, connectionId, protocol and groups (did you mean userId?)`},
	{"userid eq 'a' and group eq 'g'", `filter: column 19: unknown identifier "group"; a filter can use userId, connectionId, protocol and groups (did you mean groups?)`},
	{"userId eq 'user1' or (not (startswith(userId,'user2'))", `filter: column 55: expected ')' to close the '(' at column 22, found the end of the filter`},
	{"userId eq 'abc", `filter: column 11: string literal is not closed; end it with ' (write '' for a quote inside the text)`},
	{"userId eq 'it''s", `filter: column 11: string literal is not closed; end it with ' (write '' for a quote inside the text)`},
	{"userId = 'a'", `filter: column 8: unexpected '='; compare with eq (for example userId eq 'user1')`},
	{"userId != 'a'", `filter: column 8: unexpected "!="; compare with ne (for example userId ne 'user1')`},
	{`userId eq "a"`, `filter: column 11: unexpected '"'; string literals use single quotes, for example 'user1'`},
	{"userId eq 'a' && userId eq 'b'", `filter: column 15: unexpected "&&"; combine conditions with and`},
	{"userId eq 'a' userId eq 'b'", `filter: column 15: expected 'and', 'or' or the end of the filter, found "userId"; join conditions with and/or`},
	{"userId eq 'a')", `filter: column 14: found ')' without a matching '('; remove it or add the missing '('`},
	{"userId", `filter: column 1: the filter must be a condition, but it is userId (a string); compare it, e.g. userId eq 'user1'`},
	{"groups", `filter: column 1: the filter must be a condition, but it is groups (a collection); test membership with 'name' in groups`},
	{"groups eq 'g'", `filter: column 1: groups is a collection and cannot be compared with 'eq'; test membership with 'name' in groups, or count with length(groups)`},
	{"'g' in userId", `filter: column 8: the right side of 'in' must be groups or a list in parentheses such as ('a', 'b'), found userId (a string)`},
	{"userId in ()", `filter: column 12: the list after 'in' is empty; list at least one value, e.g. userId in ('user1', 'user2')`},
	{"userId in ('a' 'b')", `filter: column 16: expected ',' or ')' in the list opened at column 11, found string 'b'`},
	{"userId in ('a', 5)", `filter: column 17: every item of the 'in' list must be a string to match the left side, userId (a string); found an integer`},
	{"true in ('a')", `filter: column 10: every item of the 'in' list must be a boolean to match the left side, a boolean; found a string`},
	{"null in (true)", `filter: column 1: the left side of 'in' is null, but the list holds conditions, which are never null; compare with true or false instead`},
	{"length(userId) >= 3", `filter: column 16: unexpected ">="; compare with ge or le`},
	{"userId < 'a'", `filter: column 8: unexpected "<"; compare with gt, ge, lt or le`},
	{"userId eq 'a' || true", `filter: column 15: unexpected "||"; combine conditions with or`},
	{"!true", `filter: column 1: unexpected '!'; negate a condition with not`},
	{"true in groups", `filter: column 1: groups holds strings, so the left side of 'in' must be a string, found a boolean; quote the group name, e.g. 'group1' in groups`},
	{"5 in groups", `filter: column 1: groups holds strings, so the left side of 'in' must be a string, found an integer; quote the group name, e.g. 'group1' in groups`},
	{"groups in groups", `filter: column 1: groups cannot be on the left of 'in'; write 'name' in groups`},
	{"foo(userId)", `filter: column 1: unknown function "foo"; supported functions are startswith, endswith, contains, length, indexof, tolower, toupper, trim, concat and substring`},
	{"startwith(userId, 'a')", `filter: column 1: unknown function "startwith"; supported functions are startswith, endswith, contains, length, indexof, tolower, toupper, trim, concat and substring (did you mean startswith?)`},
	{"startswith(userId)", `filter: column 1: startswith takes 2 arguments, got 1; usage: startswith(userId, 'prefix')`},
	{"substring(userId)", `filter: column 1: substring takes 2 or 3 arguments, got 1; usage: substring(userId, start) or substring(userId, start, length)`},
	{"trim() eq 'a'", `filter: column 1: trim takes 1 argument, got 0; usage: trim(userId)`},
	{"startswith(userId, 5)", `filter: column 20: argument 2 of startswith must be a string, found an integer; usage: startswith(userId, 'prefix')`},
	{"substring(userId, 'a') eq 'b'", `filter: column 19: argument 2 of substring must be an integer, found a string; usage: substring(userId, start) or substring(userId, start, length)`},
	{"length(5) gt 1", `filter: column 8: argument 1 of length must be a string or groups, found an integer; usage: length(userId) or length(groups)`},
	{"startswith(userId 'a')", `filter: column 19: expected ',' or ')' in the arguments of startswith, found string 'a'; usage: startswith(userId, 'prefix')`},
	{"userId(1) eq 'a'", `filter: column 1: userId is an identifier, not a function; remove the parentheses after it`},
	{"startswith eq 'a'", `filter: column 1: function startswith needs its arguments in parentheses: startswith(userId, 'prefix')`},
	{"userId eq 99999999999999999999", `filter: column 11: number 99999999999999999999 is out of range; integers must fit in 64 bits`},
	{"true gt false", `filter: column 6: 'gt' cannot order conditions; compare conditions only with eq or ne`},
	{"startswith(userId, 'a') eq null", `filter: column 25: a condition is never null, so 'eq null' cannot apply to it; compare with true or false`},
	{"userId eq 'a' and 5", `filter: column 19: 'and' combines conditions, but its right side is an integer; compare it, e.g. length(userId) gt 3`},
	{"groups or userId eq 'a'", `filter: column 1: 'or' combines conditions, but its left side is groups (a collection); test membership with 'name' in groups`},
	{"userId eq 'é' and x eq 1", `filter: column 19: unknown identifier "x"; a filter can use userId, connectionId, protocol and groups`},
	{"userId in groups, 'a'", `filter: column 17: expected 'and', 'or' or the end of the filter, found ","; join conditions with and/or`},
	{"- 1 eq 1", `filter: column 1: unexpected character '-'; a filter holds identifiers, quoted strings, numbers, parentheses and commas`},
	{"userId eq '\xff'", `filter: column 12: filter is not valid UTF-8; send it UTF-8 encoded (percent-encoded in a URL)`},
	{strings.Repeat("(", MaxDepth+1) + "true" + strings.Repeat(")", MaxDepth+1), `filter: column 65: filter nests deeper than 64 levels of parentheses, not and function calls; simplify it`},
	{strings.Repeat("not ", MaxDepth+1) + "true", `filter: column 257: filter nests deeper than 64 levels of parentheses, not and function calls; simplify it`},
	{"userId eq '" + strings.Repeat("a", MaxLength) + "'", `filter: column 4097: filter is 4108 bytes long, over the limit of 4096; simplify it or split the operation into several calls`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range invalidCases {
		name := tc.filter
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			f, err := Parse(tc.filter)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error %q", tc.filter, f, tc.want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, want *SyntaxError", err)
			}
			if se.Column < 1 {
				t.Errorf("Column = %d, want >= 1", se.Column)
			}
		})
	}
}

func TestLimitsAccepted(t *testing.T) {
	tests := []struct {
		name   string
		filter string
	}{
		{"MaxDepth parentheses", strings.Repeat("(", MaxDepth) + "true" + strings.Repeat(")", MaxDepth)},
		{"MaxDepth nots", strings.Repeat("not ", MaxDepth) + "true"},
		{"MaxLength bytes", "userId eq '" + strings.Repeat("a", MaxLength-12) + "'"},
		{"long flat or-chain", strings.TrimSuffix(strings.Repeat("'g' in groups or ", 240), " or ")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.filter) > MaxLength {
				t.Fatalf("test filter is %d bytes, over MaxLength", len(tc.filter))
			}
			if _, err := Parse(tc.filter); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestNilFilterMatchesEverything(t *testing.T) {
	var f *Filter
	for _, s := range subjects {
		if !f.Match(s.s) {
			t.Errorf("nil filter does not match %s", s.name)
		}
	}
	if got := f.String(); got != "" {
		t.Errorf("nil filter String() = %q, want empty", got)
	}
}

func TestConcurrentMatch(t *testing.T) {
	f, err := Parse("'g' in groups and startswith(userId, 'l') or userId eq null")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([][]bool, 4)
	for i := range results {
		wg.Go(func() {
			for _, s := range subjects {
				results[i] = append(results[i], f.Match(s.s))
			}
		})
	}
	wg.Wait()
	want := []bool{true, false, false, true, false, false, false, false}
	for i, got := range results {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("goroutine %d (-want +got):\n%s", i, diff)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	const src = "userId in ('user1', 'user2', 'user3') and 'group1' in groups and not startswith(connectionId, 'x')"
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := Parse("userId in ('user1', 'user2', 'user3') and 'group1' in groups and not startswith(connectionId, 'x')")
	if err != nil {
		b.Fatal(err)
	}
	s := subjects[1].s
	for b.Loop() {
		if !f.Match(s) {
			b.Fatal("no match")
		}
	}
}

// TestChainedInIsLinear guards against evaluating the left side of an 'in'
// list once per item: a chain of n two-item lists would then cost 2^n.
func TestChainedInIsLinear(t *testing.T) {
	src := "true" + strings.Repeat(" in (false, true)", 200)
	f, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() { done <- f.Match(subjects[0].s) }()
	select {
	case got := <-done:
		if !got {
			t.Error("Match = false, want true")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Match did not finish in 10s: evaluation is not linear")
	}
}
