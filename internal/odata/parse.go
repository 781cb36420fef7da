package odata

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// parser is a recursive-descent parser that type-checks as it builds.
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

// operandCtx says where an operand is expected, for error messages.
type operandCtx struct {
	after string // what precedes the operand, e.g. "'eq'"; empty at the start
	want  kind   // the expected kind, when known (hasWant)
	has   bool
}

// expr is a parsed node with the byte offset where it starts.
type expr struct {
	n   node
	pos int
}

// parse compiles src; maxLen bounds its length in bytes (0 = unbounded).
func parse(src string, maxLen int) (boolNode, error) {
	if maxLen > 0 && len(src) > maxLen {
		return nil, errorAt(src, maxLen, fmt.Sprintf("filter is %d bytes long, over the limit of %d; simplify it or split the operation into several calls", len(src), maxLen))
	}
	if !utf8.ValidString(src) {
		off := 0
		for off < len(src) {
			r, size := utf8.DecodeRuneInString(src[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		return nil, errorAt(src, off, "filter is not valid UTF-8; send it UTF-8 encoded (percent-encoded in a URL)")
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	if p.peek().kind == tokEOF {
		return nil, errorAt(src, 0, "filter is empty; write a condition such as userId eq 'user1', or leave the filter out")
	}
	e, err := p.parseOr(operandCtx{})
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, p.errAt(t.pos, "found ')' without a matching '('; remove it or add the missing '('")
		}
		return nil, p.errAt(t.pos, fmt.Sprintf("expected 'and', 'or' or the end of the filter, found %s; join conditions with and/or", t.describe()))
	}
	if e.n.kind() != kindBool {
		return nil, p.errAt(e.pos, fmt.Sprintf("the filter must be a condition, but it is %s; %s", describeNode(e.n), conditionHint(e.n)))
	}
	return e.n.(boolNode), nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) peekWord(w string) bool {
	t := p.peek()
	return t.kind == tokWord && t.word == w
}

func (p *parser) errAt(pos int, msg string) *SyntaxError { return errorAt(p.src, pos, msg) }

// enter counts one nesting level at pos and fails beyond MaxDepth.
func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(pos, fmt.Sprintf("filter nests deeper than %d levels of parentheses, not and function calls; simplify it", MaxDepth))
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseOr(ctx operandCtx) (expr, error) {
	return p.parseChain(ctx, "or", p.parseAnd)
}

func (p *parser) parseAnd(ctx operandCtx) (expr, error) {
	return p.parseChain(ctx, "and", p.parseCompare)
}

// parseChain parses operand (word operand)*, for the logical operators "or"
// and "and", each operand parsed by the next tighter level.
func (p *parser) parseChain(ctx operandCtx, word string, operand func(operandCtx) (expr, error)) (expr, error) {
	l, err := operand(ctx)
	if err != nil {
		return expr{}, err
	}
	for p.peekWord(word) {
		op := p.next()
		r, err := operand(operandCtx{after: "'" + op.raw + "'"})
		if err != nil {
			return expr{}, err
		}
		lb, rb, err := p.bothBool(op.raw, l, r)
		if err != nil {
			return expr{}, err
		}
		l.n = newLogic(word == "or", lb, rb)
	}
	return l, nil
}

// bothBool checks that both operands of and/or are conditions.
func (p *parser) bothBool(op string, l, r expr) (boolNode, boolNode, error) {
	for i, e := range []expr{l, r} {
		if e.n.kind() != kindBool {
			side := "left"
			if i == 1 {
				side = "right"
			}
			return nil, nil, p.errAt(e.pos, fmt.Sprintf("'%s' combines conditions, but its %s side is %s; %s", op, side, describeNode(e.n), conditionHint(e.n)))
		}
	}
	return l.n.(boolNode), r.n.(boolNode), nil
}

func (p *parser) parseCompare(ctx operandCtx) (expr, error) {
	l, err := p.parseUnary(ctx)
	if err != nil {
		return expr{}, err
	}
	for {
		t := p.peek()
		if t.kind != tokWord {
			return l, nil
		}
		if op, ok := cmpOps[t.word]; ok {
			p.next()
			rctx := operandCtx{after: "'" + t.raw + "'"}
			if k := l.n.kind(); k == kindString || k == kindInt {
				rctx.want, rctx.has = k, true
			}
			r, err := p.parseUnary(rctx)
			if err != nil {
				return expr{}, err
			}
			n, err := p.buildCompare(op, t, l, r)
			if err != nil {
				return expr{}, err
			}
			l.n = n
			continue
		}
		if t.word == "in" {
			p.next()
			n, err := p.parseIn(t, l)
			if err != nil {
				return expr{}, err
			}
			l.n = n
			continue
		}
		return l, nil
	}
}

// buildCompare type-checks "l op r".
func (p *parser) buildCompare(op cmpOp, opTok token, l, r expr) (node, error) {
	for _, e := range []expr{l, r} {
		if e.n.kind() == kindCollection {
			return nil, p.errAt(e.pos, fmt.Sprintf("groups is a collection and cannot be compared with '%s'; test membership with 'name' in groups, or count with length(groups)", opTok.raw))
		}
	}
	lk, rk := l.n.kind(), r.n.kind()
	switch {
	case (lk == kindString || lk == kindNull) && (rk == kindString || rk == kindNull):
		return cmpStr{op: op, l: l.n.(strNode), r: r.n.(strNode)}, nil
	case (lk == kindInt || lk == kindNull) && (rk == kindInt || rk == kindNull):
		return cmpInt{op: op, l: l.n.(intNode), r: r.n.(intNode)}, nil
	case lk == kindBool && rk == kindBool:
		if op != opEq && op != opNe {
			return nil, p.errAt(opTok.pos, fmt.Sprintf("'%s' cannot order conditions; compare conditions only with eq or ne", opTok.raw))
		}
		return cmpBool{ne: op == opNe, l: l.n.(boolNode), r: r.n.(boolNode)}, nil
	case lk == kindBool && rk == kindNull, lk == kindNull && rk == kindBool:
		return nil, p.errAt(opTok.pos, fmt.Sprintf("a condition is never null, so '%s null' cannot apply to it; compare with true or false", opTok.raw))
	}
	msg := fmt.Sprintf("cannot compare %s with %s using '%s'", describeNode(l.n), describeNode(r.n), opTok.raw)
	switch {
	case lk == kindString && rk == kindInt:
		if lit, ok := r.n.(intLit); ok {
			msg += fmt.Sprintf("; quote the value to compare text: '%d'", int64(lit))
		} else {
			msg += "; both sides must be strings"
		}
	case lk == kindInt && rk == kindString:
		msg += "; the left side is a number, so compare it with a number such as 3"
	default:
		msg += "; both sides must have the same type"
	}
	return nil, p.errAt(opTok.pos, msg)
}

// parseIn parses the right side of "l in ...", after the 'in' keyword.
func (p *parser) parseIn(inTok token, l expr) (node, error) {
	lk := l.n.kind()
	if lk == kindCollection {
		return nil, p.errAt(l.pos, "groups cannot be on the left of 'in'; write 'name' in groups")
	}
	if p.peek().kind != tokLParen {
		r, err := p.parseUnary(operandCtx{after: "'" + inTok.raw + "'"})
		if err != nil {
			return nil, err
		}
		if r.n.kind() != kindCollection {
			return nil, p.errAt(r.pos, fmt.Sprintf("the right side of 'in' must be groups or a list in parentheses such as ('a', 'b'), found %s", describeNode(r.n)))
		}
		return p.buildInGroups(inTok, l)
	}
	open := p.next()
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.peek().kind == tokRParen {
		return nil, p.errAt(p.peek().pos, "the list after 'in' is empty; list at least one value, e.g. userId in ('user1', 'user2')")
	}
	var items []expr
	for {
		after := "'('"
		if len(items) > 0 {
			after = "','"
		}
		ctx := operandCtx{after: after}
		if lk == kindString || lk == kindInt {
			ctx.want, ctx.has = lk, true
		}
		it, err := p.parseOr(ctx)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		t := p.next()
		if t.kind == tokRParen {
			break
		}
		if t.kind != tokComma {
			return nil, p.errAt(t.pos, fmt.Sprintf("expected ',' or ')' in the list opened at column %d, found %s", errorAt(p.src, open.pos, "").Column, t.describe()))
		}
	}
	if len(items) == 1 && items[0].n.kind() == kindCollection {
		return p.buildInGroups(inTok, l)
	}
	return p.buildInList(inTok, l, items)
}

func (p *parser) buildInGroups(inTok token, l expr) (node, error) {
	switch l.n.kind() {
	case kindString, kindNull:
		return inGroups{l: l.n.(strNode)}, nil
	}
	return nil, p.errAt(l.pos, fmt.Sprintf("groups holds strings, so the left side of '%s' must be a string, found %s; quote the group name, e.g. 'group1' in groups", inTok.raw, describeNode(l.n)))
}

func (p *parser) buildInList(inTok token, l expr, items []expr) (node, error) {
	// The list's kind is the first non-null kind among l and the items.
	k := kindNull
	for _, e := range append([]expr{l}, items...) {
		if ek := e.n.kind(); ek != kindNull {
			k = ek
			break
		}
	}
	if k == kindNull {
		k = kindString
	}
	n := inList{l: l.n}
	for _, it := range items {
		ik := it.n.kind()
		switch {
		case ik == kindCollection:
			return nil, p.errAt(it.pos, "groups cannot be an item of an 'in' list; test membership with 'name' in groups")
		case ik != k && !(ik == kindNull && k != kindBool):
			return nil, p.errAt(it.pos, fmt.Sprintf("every item of the '%s' list must be %s to match the left side, %s; found %s", inTok.raw, k.article(), describeNode(l.n), describeNode(it.n)))
		}
		n.items = append(n.items, it.n)
		switch k {
		case kindString:
			n.strs = append(n.strs, it.n.(strNode))
		case kindInt:
			n.ints = append(n.ints, it.n.(intNode))
		default:
			n.bools = append(n.bools, it.n.(boolNode))
		}
	}
	if lk := l.n.kind(); lk != k && !(lk == kindNull && k != kindBool) {
		// Only null can get here: it is compatible with everything but conditions.
		return nil, p.errAt(l.pos, fmt.Sprintf("the left side of '%s' is %s, but the list holds conditions, which are never null; compare with true or false instead", inTok.raw, describeNode(l.n)))
	}
	switch k {
	case kindString:
		n.ls = l.n.(strNode)
	case kindInt:
		n.li = l.n.(intNode)
	default:
		n.lb = l.n.(boolNode)
	}
	return n, nil
}

func (p *parser) parseUnary(ctx operandCtx) (expr, error) {
	if !p.peekWord("not") {
		return p.parsePrimary(ctx)
	}
	t := p.next()
	if err := p.enter(t.pos); err != nil {
		return expr{}, err
	}
	defer p.leave()
	x, err := p.parseUnary(operandCtx{after: "'" + t.raw + "'"})
	if err != nil {
		return expr{}, err
	}
	if x.n.kind() != kindBool {
		return expr{}, p.errAt(x.pos, fmt.Sprintf("'%s' applies to a condition, but its operand is %s; not binds tighter than comparisons, so put the comparison in parentheses, e.g. not (length(userId) gt 5)", t.raw, describeNode(x.n)))
	}
	return expr{n: notNode{x: x.n.(boolNode)}, pos: t.pos}, nil
}

func (p *parser) parsePrimary(ctx operandCtx) (expr, error) {
	t := p.peek()
	switch t.kind {
	case tokLParen:
		p.next()
		if err := p.enter(t.pos); err != nil {
			return expr{}, err
		}
		defer p.leave()
		e, err := p.parseOr(operandCtx{after: "'('", want: ctx.want, has: ctx.has})
		if err != nil {
			return expr{}, err
		}
		if c := p.next(); c.kind != tokRParen {
			return expr{}, p.errAt(c.pos, fmt.Sprintf("expected ')' to close the '(' at column %d, found %s", errorAt(p.src, t.pos, "").Column, c.describe()))
		}
		e.pos = t.pos
		return e, nil
	case tokString:
		p.next()
		return expr{n: strLit(t.str), pos: t.pos}, nil
	case tokInt:
		p.next()
		return expr{n: intLit(t.num), pos: t.pos}, nil
	case tokWord:
		switch t.word {
		case "true", "false":
			p.next()
			return expr{n: boolLit(t.word == "true"), pos: t.pos}, nil
		case "null":
			p.next()
			return expr{n: nullLit{}, pos: t.pos}, nil
		}
		if isKeyword(t.word) {
			break
		}
		p.next()
		if p.peek().kind == tokLParen {
			return p.parseCall(t)
		}
		switch t.word {
		case "userid":
			return expr{n: fieldUserID, pos: t.pos}, nil
		case "connectionid":
			return expr{n: fieldConnectionID, pos: t.pos}, nil
		case "protocol":
			return expr{n: fieldProtocol, pos: t.pos}, nil
		case "groups":
			return expr{n: groupsRef{}, pos: t.pos}, nil
		}
		if _, ok := functions[t.word]; ok {
			return expr{}, p.errAt(t.pos, fmt.Sprintf("function %s needs its arguments in parentheses: %s", t.raw, functions[t.word].usage))
		}
		msg := fmt.Sprintf("unknown identifier %q; a filter can use userId, connectionId, protocol and groups", t.raw)
		if s := suggest(t.word, "userId", "connectionId", "protocol", "groups"); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return expr{}, p.errAt(t.pos, msg)
	}
	return expr{}, p.errAt(t.pos, missingOperand(ctx, t))
}

// missingOperand explains that token t cannot start the operand ctx expects.
func missingOperand(ctx operandCtx, t token) string {
	what := "a condition"
	hint := "for example userId eq 'user1'"
	if ctx.has {
		switch ctx.want {
		case kindString:
			what, hint = "a string", "write a quoted value such as 'user1', or null"
		case kindInt:
			what, hint = "an integer", "write a whole number such as 10"
		}
	}
	msg := "expected " + what
	if ctx.after != "" {
		msg += " after " + ctx.after
	}
	return fmt.Sprintf("%s, found %s; %s", msg, t.describe(), hint)
}

// parseCall parses the arguments of function name (already consumed).
func (p *parser) parseCall(name token) (expr, error) {
	fn, ok := functions[name.word]
	if !ok {
		if isField(name.word) {
			return expr{}, p.errAt(name.pos, fmt.Sprintf("%s is an identifier, not a function; remove the parentheses after it", name.raw))
		}
		msg := fmt.Sprintf("unknown function %q; supported functions are %s", name.raw, functionList())
		if s := suggest(name.word, functionNames...); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return expr{}, p.errAt(name.pos, msg)
	}
	open := p.next()
	if err := p.enter(open.pos); err != nil {
		return expr{}, err
	}
	defer p.leave()
	var args []expr
	if p.peek().kind == tokRParen {
		p.next()
	} else {
		for {
			after := fmt.Sprintf("'%s('", name.raw)
			if len(args) > 0 {
				after = fmt.Sprintf("',' in %s(...)", name.raw)
			}
			a, err := p.parseOr(operandCtx{after: after})
			if err != nil {
				return expr{}, err
			}
			args = append(args, a)
			t := p.next()
			if t.kind == tokRParen {
				break
			}
			if t.kind != tokComma {
				return expr{}, p.errAt(t.pos, fmt.Sprintf("expected ',' or ')' in the arguments of %s, found %s; usage: %s", name.raw, t.describe(), fn.usage))
			}
		}
	}
	if len(args) < fn.minArgs || len(args) > fn.maxArgs {
		return expr{}, p.errAt(name.pos, fmt.Sprintf("%s takes %s, got %d; usage: %s", name.raw, fn.arity(), len(args), fn.usage))
	}
	n, err := fn.build(&callArgs{p: p, name: name, fn: fn, args: args})
	if err != nil {
		return expr{}, err
	}
	return expr{n: n, pos: name.pos}, nil
}

func isField(w string) bool {
	switch w {
	case "userid", "connectionid", "protocol", "groups":
		return true
	}
	return false
}

// describeNode names the kind of n for messages, naming identifiers.
func describeNode(n node) string {
	switch v := n.(type) {
	case field:
		return fmt.Sprintf("%s (a string)", fieldNames[v])
	case groupsRef:
		return "groups (a collection)"
	case nullLit:
		return "null"
	}
	return n.kind().article()
}

// conditionHint suggests how to turn a non-boolean operand into a condition.
func conditionHint(n node) string {
	switch n.kind() {
	case kindCollection:
		return "test membership with 'name' in groups"
	case kindInt:
		return "compare it, e.g. length(userId) gt 3"
	default:
		return "compare it, e.g. userId eq 'user1'"
	}
}

// callArgs gives a function's builder typed access to its arguments.
type callArgs struct {
	p    *parser
	name token
	fn   *function
	args []expr
}

func (c *callArgs) typeErr(i int, want string) error {
	a := c.args[i]
	return c.p.errAt(a.pos, fmt.Sprintf("argument %d of %s must be %s, found %s; usage: %s", i+1, c.name.raw, want, describeNode(a.n), c.fn.usage))
}

func (c *callArgs) str(i int) (strNode, error) {
	switch c.args[i].n.kind() {
	case kindString, kindNull:
		return c.args[i].n.(strNode), nil
	}
	return nil, c.typeErr(i, "a string")
}

func (c *callArgs) int(i int) (intNode, error) {
	switch c.args[i].n.kind() {
	case kindInt, kindNull:
		return c.args[i].n.(intNode), nil
	}
	return nil, c.typeErr(i, "an integer")
}

// function describes one supported function.
type function struct {
	minArgs, maxArgs int
	usage            string
	build            func(c *callArgs) (node, error)
}

func (f *function) arity() string {
	switch {
	case f.minArgs != f.maxArgs:
		return fmt.Sprintf("%d or %d arguments", f.minArgs, f.maxArgs)
	case f.minArgs == 1:
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", f.minArgs)
}

func predicate(name string, fn func(s, sub string) bool, usage string) *function {
	return &function{minArgs: 2, maxArgs: 2, usage: usage, build: func(c *callArgs) (node, error) {
		a, err := c.str(0)
		if err != nil {
			return nil, err
		}
		b, err := c.str(1)
		if err != nil {
			return nil, err
		}
		return strPredicate{name: name, fn: fn, a: a, c: b}, nil
	}}
}

func mapper(name string, fn func(string) string) *function {
	return &function{minArgs: 1, maxArgs: 1, usage: name + "(userId)", build: func(c *callArgs) (node, error) {
		a, err := c.str(0)
		if err != nil {
			return nil, err
		}
		return strMap{name: name, fn: fn, a: a}, nil
	}}
}

// functions lists the supported functions by lower-case name.
var functions = map[string]*function{
	"startswith": predicate("startswith", strings.HasPrefix, "startswith(userId, 'prefix')"),
	"endswith":   predicate("endswith", strings.HasSuffix, "endswith(userId, 'suffix')"),
	"contains":   predicate("contains", strings.Contains, "contains(userId, 'part')"),
	"tolower":    mapper("tolower", strings.ToLower),
	"toupper":    mapper("toupper", strings.ToUpper),
	"trim":       mapper("trim", strings.TrimSpace),
	"concat": {minArgs: 2, maxArgs: 2, usage: "concat(userId, 'suffix')", build: func(c *callArgs) (node, error) {
		a, err := c.str(0)
		if err != nil {
			return nil, err
		}
		b, err := c.str(1)
		if err != nil {
			return nil, err
		}
		return concatFn{a: a, c: b}, nil
	}},
	"indexof": {minArgs: 2, maxArgs: 2, usage: "indexof(userId, 'part')", build: func(c *callArgs) (node, error) {
		a, err := c.str(0)
		if err != nil {
			return nil, err
		}
		b, err := c.str(1)
		if err != nil {
			return nil, err
		}
		return indexofFn{a: a, c: b}, nil
	}},
	"length": {minArgs: 1, maxArgs: 1, usage: "length(userId) or length(groups)", build: func(c *callArgs) (node, error) {
		if c.args[0].n.kind() == kindCollection {
			return lengthGroups{}, nil
		}
		a, err := c.str(0)
		if err != nil {
			return nil, c.typeErr(0, "a string or groups")
		}
		return lengthStr{a: a}, nil
	}},
	"substring": {minArgs: 2, maxArgs: 3, usage: "substring(userId, start) or substring(userId, start, length)", build: func(c *callArgs) (node, error) {
		a, err := c.str(0)
		if err != nil {
			return nil, err
		}
		start, err := c.int(1)
		if err != nil {
			return nil, err
		}
		f := substringFn{a: a, start: start}
		if len(c.args) == 3 {
			if f.n, err = c.int(2); err != nil {
				return nil, err
			}
		}
		return f, nil
	}},
}

// functionNames lists the supported functions in the order messages use.
var functionNames = []string{"startswith", "endswith", "contains", "length", "indexof", "tolower", "toupper", "trim", "concat", "substring"}

// functionList renders the supported function names for messages.
func functionList() string {
	return strings.Join(functionNames[:len(functionNames)-1], ", ") + " and " + functionNames[len(functionNames)-1]
}

// suggest returns the candidate closest to the lower-case word w, if it is
// a plausible misspelling (a prefix either way, or at most two edits away).
func suggest(w string, candidates ...string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(w) >= 3 && (strings.HasPrefix(lc, w) || strings.HasPrefix(w, lc)) {
			return c
		}
		if d := editDistance(w, lc); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
