package odata

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the static type of an expression.
type kind uint8

const (
	kindBool kind = iota
	kindString
	kindInt
	kindCollection
	kindNull // the literal null: fits where a string or an integer is expected
)

// article names a kind for error messages ("a string").
func (k kind) article() string {
	switch k {
	case kindBool:
		return "a boolean"
	case kindString:
		return "a string"
	case kindInt:
		return "an integer"
	case kindCollection:
		return "a collection"
	default:
		return "null"
	}
}

// Precedence levels used when printing, loosest first.
const (
	precOr = iota + 1
	precAnd
	precCompare
	precNot
	precAtom
)

// node is an element of a compiled filter.
type node interface {
	kind() kind
	prec() int
	format(b *strings.Builder)
}

// boolNode is a node that evaluates to true or false.
type boolNode interface {
	node
	evalBool(s Subject) bool
}

// strNode is a node that evaluates to a string; ok is false for null.
type strNode interface {
	node
	evalStr(s Subject) (v string, ok bool)
}

// intNode is a node that evaluates to an integer; ok is false for null.
type intNode interface {
	node
	evalInt(s Subject) (v int64, ok bool)
}

// formatChild writes n, in parentheses when it binds looser than min.
func formatChild(b *strings.Builder, n node, min int) {
	if n.prec() < min {
		b.WriteByte('(')
		n.format(b)
		b.WriteByte(')')
		return
	}
	n.format(b)
}

// --- literals and identifiers ---

type boolLit bool

func (boolLit) kind() kind                  { return kindBool }
func (boolLit) prec() int                   { return precAtom }
func (l boolLit) evalBool(Subject) bool     { return bool(l) }
func (l boolLit) format(b *strings.Builder) { b.WriteString(strconv.FormatBool(bool(l))) }

type strLit string

func (strLit) kind() kind                       { return kindString }
func (strLit) prec() int                        { return precAtom }
func (l strLit) evalStr(Subject) (string, bool) { return string(l), true }
func (l strLit) format(b *strings.Builder)      { writeQuoted(b, string(l)) }

type intLit int64

func (intLit) kind() kind                      { return kindInt }
func (intLit) prec() int                       { return precAtom }
func (l intLit) evalInt(Subject) (int64, bool) { return int64(l), true }
func (l intLit) format(b *strings.Builder)     { b.WriteString(strconv.FormatInt(int64(l), 10)) }

type nullLit struct{}

func (nullLit) kind() kind                     { return kindNull }
func (nullLit) prec() int                      { return precAtom }
func (nullLit) evalStr(Subject) (string, bool) { return "", false }
func (nullLit) evalInt(Subject) (int64, bool)  { return 0, false }
func (nullLit) format(b *strings.Builder)      { b.WriteString("null") }

// field is a string identifier of the connection.
type field uint8

const (
	fieldUserID field = iota
	fieldConnectionID
	fieldProtocol
)

var fieldNames = [...]string{fieldUserID: "userId", fieldConnectionID: "connectionId", fieldProtocol: "protocol"}

func (field) kind() kind                  { return kindString }
func (field) prec() int                   { return precAtom }
func (f field) format(b *strings.Builder) { b.WriteString(fieldNames[f]) }
func (f field) evalStr(s Subject) (string, bool) {
	switch f {
	case fieldUserID:
		return s.UserID, s.HasUserID
	case fieldConnectionID:
		return s.ConnectionID, true
	default:
		return s.Protocol, s.Protocol != ""
	}
}

// groupsRef is the groups collection of the connection.
type groupsRef struct{}

func (groupsRef) kind() kind                { return kindCollection }
func (groupsRef) prec() int                 { return precAtom }
func (groupsRef) format(b *strings.Builder) { b.WriteString("groups") }

// --- logical operators ---

type notNode struct{ x boolNode }

func (notNode) kind() kind                { return kindBool }
func (notNode) prec() int                 { return precNot }
func (n notNode) evalBool(s Subject) bool { return !n.x.evalBool(s) }
func (n notNode) format(b *strings.Builder) {
	b.WriteString("not ")
	formatChild(b, n.x, precNot)
}

// logicNode is an and/or chain; nested chains of the same operator are
// flattened when built, so the canonical form has no redundant parentheses.
type logicNode struct {
	or bool
	xs []boolNode
}

func newLogic(or bool, l, r boolNode) *logicNode {
	n := &logicNode{or: or}
	for _, x := range []boolNode{l, r} {
		if c, ok := x.(*logicNode); ok && c.or == or {
			n.xs = append(n.xs, c.xs...)
		} else {
			n.xs = append(n.xs, x)
		}
	}
	return n
}

func (*logicNode) kind() kind { return kindBool }
func (n *logicNode) prec() int {
	if n.or {
		return precOr
	}
	return precAnd
}
func (n *logicNode) evalBool(s Subject) bool {
	for _, x := range n.xs {
		if x.evalBool(s) == n.or {
			return n.or
		}
	}
	return !n.or
}
func (n *logicNode) format(b *strings.Builder) {
	op := " and "
	if n.or {
		op = " or "
	}
	for i, x := range n.xs {
		if i > 0 {
			b.WriteString(op)
		}
		formatChild(b, x, n.prec()+1)
	}
}

// --- comparisons ---

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opGt
	opGe
	opLt
	opLe
)

var cmpOps = map[string]cmpOp{"eq": opEq, "ne": opNe, "gt": opGt, "ge": opGe, "lt": opLt, "le": opLe}
var cmpNames = [...]string{opEq: "eq", opNe: "ne", opGt: "gt", opGe: "ge", opLt: "lt", opLe: "le"}

// compareNullable applies op to two values that may be null. c is the
// ordinary three-way comparison, used only when both are present.
func compareNullable(op cmpOp, lok, rok bool, c int) bool {
	if !lok || !rok {
		both := !lok && !rok
		switch op {
		case opEq, opGe, opLe:
			return both
		case opNe:
			return !both
		default:
			return false
		}
	}
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	default:
		return c <= 0
	}
}

func formatBinary(b *strings.Builder, l node, op string, r node) {
	formatChild(b, l, precCompare)
	b.WriteByte(' ')
	b.WriteString(op)
	b.WriteByte(' ')
	formatChild(b, r, precCompare+1)
}

type cmpStr struct {
	op   cmpOp
	l, r strNode
}

func (cmpStr) kind() kind                  { return kindBool }
func (cmpStr) prec() int                   { return precCompare }
func (c cmpStr) format(b *strings.Builder) { formatBinary(b, c.l, cmpNames[c.op], c.r) }
func (c cmpStr) evalBool(s Subject) bool {
	l, lok := c.l.evalStr(s)
	r, rok := c.r.evalStr(s)
	return compareNullable(c.op, lok, rok, strings.Compare(l, r))
}

type cmpInt struct {
	op   cmpOp
	l, r intNode
}

func (cmpInt) kind() kind                  { return kindBool }
func (cmpInt) prec() int                   { return precCompare }
func (c cmpInt) format(b *strings.Builder) { formatBinary(b, c.l, cmpNames[c.op], c.r) }
func (c cmpInt) evalBool(s Subject) bool {
	l, lok := c.l.evalInt(s)
	r, rok := c.r.evalInt(s)
	cmp := 0
	if l < r {
		cmp = -1
	} else if l > r {
		cmp = 1
	}
	return compareNullable(c.op, lok, rok, cmp)
}

// cmpBool compares two conditions; only eq and ne are allowed.
type cmpBool struct {
	ne   bool
	l, r boolNode
}

func (cmpBool) kind() kind { return kindBool }
func (cmpBool) prec() int  { return precCompare }
func (c cmpBool) format(b *strings.Builder) {
	op := "eq"
	if c.ne {
		op = "ne"
	}
	formatBinary(b, c.l, op, c.r)
}
func (c cmpBool) evalBool(s Subject) bool { return (c.l.evalBool(s) == c.r.evalBool(s)) != c.ne }

// inGroups tests membership of a string in the connection's groups.
type inGroups struct{ l strNode }

func (inGroups) kind() kind                  { return kindBool }
func (inGroups) prec() int                   { return precCompare }
func (n inGroups) format(b *strings.Builder) { formatBinary(b, n.l, "in", groupsRef{}) }
func (n inGroups) evalBool(s Subject) bool {
	v, ok := n.l.evalStr(s)
	return ok && slices.Contains(s.Groups, v)
}

// inList tests whether the left side equals one of the listed values. The
// left side is evaluated once, so chained lists stay linear in cost. Exactly
// one of the typed groups of fields is set, by the kind of the list.
type inList struct {
	l     node
	items []node

	ls    strNode
	strs  []strNode
	li    intNode
	ints  []intNode
	lb    boolNode
	bools []boolNode
}

func (inList) kind() kind { return kindBool }
func (inList) prec() int  { return precCompare }
func (n inList) format(b *strings.Builder) {
	formatChild(b, n.l, precCompare)
	b.WriteString(" in (")
	for i, it := range n.items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.format(b)
	}
	b.WriteByte(')')
}
func (n inList) evalBool(s Subject) bool {
	switch {
	case n.ls != nil:
		l, lok := n.ls.evalStr(s)
		for _, it := range n.strs {
			if r, rok := it.evalStr(s); compareNullable(opEq, lok, rok, strings.Compare(l, r)) {
				return true
			}
		}
	case n.li != nil:
		l, lok := n.li.evalInt(s)
		for _, it := range n.ints {
			if r, rok := it.evalInt(s); lok == rok && (!lok || l == r) {
				return true
			}
		}
	default:
		l := n.lb.evalBool(s)
		for _, it := range n.bools {
			if it.evalBool(s) == l {
				return true
			}
		}
	}
	return false
}

// --- functions ---

func formatCall(b *strings.Builder, name string, args ...node) {
	b.WriteString(name)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		a.format(b)
	}
	b.WriteByte(')')
}

// strPredicate is startswith, endswith or contains.
type strPredicate struct {
	name string
	fn   func(s, sub string) bool
	a, c strNode
}

func (strPredicate) kind() kind                  { return kindBool }
func (strPredicate) prec() int                   { return precAtom }
func (f strPredicate) format(b *strings.Builder) { formatCall(b, f.name, f.a, f.c) }
func (f strPredicate) evalBool(s Subject) bool {
	a, aok := f.a.evalStr(s)
	c, cok := f.c.evalStr(s)
	return aok && cok && f.fn(a, c)
}

// strMap is tolower, toupper or trim.
type strMap struct {
	name string
	fn   func(string) string
	a    strNode
}

func (strMap) kind() kind                  { return kindString }
func (strMap) prec() int                   { return precAtom }
func (f strMap) format(b *strings.Builder) { formatCall(b, f.name, f.a) }
func (f strMap) evalStr(s Subject) (string, bool) {
	a, ok := f.a.evalStr(s)
	if !ok {
		return "", false
	}
	return f.fn(a), true
}

type concatFn struct{ a, c strNode }

func (concatFn) kind() kind                  { return kindString }
func (concatFn) prec() int                   { return precAtom }
func (f concatFn) format(b *strings.Builder) { formatCall(b, "concat", f.a, f.c) }
func (f concatFn) evalStr(s Subject) (string, bool) {
	a, aok := f.a.evalStr(s)
	c, cok := f.c.evalStr(s)
	if !aok || !cok {
		return "", false
	}
	return a + c, true
}

type indexofFn struct{ a, c strNode }

func (indexofFn) kind() kind                  { return kindInt }
func (indexofFn) prec() int                   { return precAtom }
func (f indexofFn) format(b *strings.Builder) { formatCall(b, "indexof", f.a, f.c) }
func (f indexofFn) evalInt(s Subject) (int64, bool) {
	a, aok := f.a.evalStr(s)
	c, cok := f.c.evalStr(s)
	if !aok || !cok {
		return 0, false
	}
	i := strings.Index(a, c)
	if i < 0 {
		return -1, true
	}
	return int64(utf8.RuneCountInString(a[:i])), true
}

type lengthStr struct{ a strNode }

func (lengthStr) kind() kind                  { return kindInt }
func (lengthStr) prec() int                   { return precAtom }
func (f lengthStr) format(b *strings.Builder) { formatCall(b, "length", f.a) }
func (f lengthStr) evalInt(s Subject) (int64, bool) {
	a, ok := f.a.evalStr(s)
	if !ok {
		return 0, false
	}
	return int64(utf8.RuneCountInString(a)), true
}

type lengthGroups struct{}

func (lengthGroups) kind() kind                { return kindInt }
func (lengthGroups) prec() int                 { return precAtom }
func (lengthGroups) format(b *strings.Builder) { formatCall(b, "length", groupsRef{}) }
func (lengthGroups) evalInt(s Subject) (int64, bool) {
	return int64(len(s.Groups)), true
}

// substringFn is substring(p, start) or substring(p, start, length); n is
// nil in the two-argument form.
type substringFn struct {
	a        strNode
	start, n intNode
}

func (substringFn) kind() kind { return kindString }
func (substringFn) prec() int  { return precAtom }
func (f substringFn) format(b *strings.Builder) {
	if f.n == nil {
		formatCall(b, "substring", f.a, f.start)
		return
	}
	formatCall(b, "substring", f.a, f.start, f.n)
}
func (f substringFn) evalStr(s Subject) (string, bool) {
	a, ok := f.a.evalStr(s)
	start, sok := f.start.evalInt(s)
	if !ok || !sok {
		return "", false
	}
	r := []rune(a)
	size := int64(len(r))
	start = min(max(start, 0), size)
	end := size
	if f.n != nil {
		n, nok := f.n.evalInt(s)
		if !nok {
			return "", false
		}
		end = start + min(max(n, 0), size-start)
	}
	return string(r[start:end]), true
}

// writeQuoted writes s as a string literal, doubling quotes inside it.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
}
