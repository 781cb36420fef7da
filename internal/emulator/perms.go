package emulator

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// permission is a permission named over REST: a kind (wire.RoleJoinLeaveGroup
// or wire.RoleSendToGroup) on one group, or on every group when target is
// "" (never a valid group name, see validateGroup).
type permission struct {
	kind   string
	target string
}

// Permission names of the REST API, mapped to the roles they stand for.
var permissionRoles = map[string]string{
	"joinLeaveGroup": wire.RoleJoinLeaveGroup,
	"sendToGroup":    wire.RoleSendToGroup,
}

// grants is what a connection may do with groups. The three sources live
// in separate fields, so that no group name can ever be read as a pattern
// or as "every group": a literal target is only compared for equality, and
// patterns come only from wildcard roles of the token or the connect
// handler. Guarded by Emulator.mu; patterns is never modified in place, so
// a copy of the slice may be matched after the lock is released.
type grants struct {
	every    map[string]struct{}     // kinds granted on every group
	groups   map[permission]struct{} // a kind on one group; target != ""
	patterns []rolePattern
	revision uint64 // counts revocations, so a check made without the lock can be confirmed under it
}

// maxPatternRunes bounds the total length of a connection's wildcard role
// patterns, and so the work of one permission check: at most
// 1,024 × maxPatternRunes steps for the longest group name.
const maxPatternRunes = 4096

// newGrants turns roles into grants.
func newGrants(roles []string) (grants, error) {
	g := grants{every: map[string]struct{}{}, groups: map[permission]struct{}{}}
	total := 0
	for _, r := range roles {
		for _, kind := range []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup} {
			switch {
			case r == kind:
				g.every[kind] = struct{}{}
			case strings.HasPrefix(r, kind+"s.") && len(r) > len(kind)+2:
				p := compilePattern(kind, r[len(kind)+2:])
				total += len(p.toks)
				g.patterns = append(g.patterns, p)
			case strings.HasPrefix(r, kind+".") && len(r) > len(kind)+1:
				g.groups[permission{kind: kind, target: r[len(kind)+1:]}] = struct{}{}
			}
		}
	}
	if total > maxPatternRunes {
		return grants{}, fmt.Errorf("the wildcard roles hold %d pattern characters; the emulator allows at most %d per connection", total, maxPatternRunes)
	}
	return g, nil
}

// grant adds a permission.
func (g *grants) grant(p permission) {
	if g.every == nil {
		g.every, g.groups = map[string]struct{}{}, map[permission]struct{}{}
	}
	if p.target == "" {
		g.every[p.kind] = struct{}{}
		return
	}
	g.groups[p] = struct{}{}
}

// revoke takes a permission away. Taking away the permission on every
// group takes away every grant of that kind, group-limited ones and
// wildcard roles included.
func (g *grants) revoke(p permission) {
	g.revision++
	if p.target != "" {
		delete(g.groups, p)
		return
	}
	delete(g.every, p.kind)
	for q := range g.groups {
		if q.kind == p.kind {
			delete(g.groups, q)
		}
	}
	kept := make([]rolePattern, 0, len(g.patterns))
	for _, q := range g.patterns {
		if q.kind != p.kind {
			kept = append(kept, q)
		}
	}
	g.patterns = kept
}

// literal reports whether the permission is granted without looking at
// patterns (constant time, so it may run under the engine's lock). The
// group "" asks for the permission on every group.
func (g *grants) literal(kind, group string) bool {
	if _, ok := g.every[kind]; ok {
		return true
	}
	if group == "" {
		return false
	}
	_, ok := g.groups[permission{kind: kind, target: group}]
	return ok
}

// matchAny reports whether a pattern of the kind matches the group. It
// takes O(len(group) × pattern length) steps and must run outside the
// engine's lock.
func matchAny(patterns []rolePattern, kind, group string) bool {
	if group == "" {
		return false
	}
	for _, p := range patterns {
		if p.kind == kind && p.match(group) {
			return true
		}
	}
	return false
}

// permitted reports whether connection c may join and leave
// (wire.RoleJoinLeaveGroup) or send to (wire.RoleSendToGroup) the group;
// group "" asks for the permission on every group. It takes the engine's
// lock only to read the grants and matches wildcard roles after releasing
// it. This is the one permission check of every client protocol.
func (e *Emulator) permitted(c *conn, kind, group string) bool {
	ok, patterns, _ := e.grantsOf(c, kind, group)
	return ok || matchAny(patterns, kind, group)
}

// lockIfPermitted is permitted for a change that must not outlive a
// revocation: it matches wildcard roles without the engine's lock, then
// takes the lock and, if no permission was revoked meanwhile, returns true
// with e.mu held for writing (else it checks again). It returns false,
// with the lock released, when the permission is missing.
func (e *Emulator) lockIfPermitted(c *conn, kind, group string) bool {
	for {
		ok, patterns, rev := e.grantsOf(c, kind, group)
		if !ok && !matchAny(patterns, kind, group) {
			return false
		}
		e.mu.Lock()
		if c.grants.revision == rev {
			return true
		}
		e.mu.Unlock()
	}
}

// grantsOf reads what permitted needs under the lock: whether a literal
// grant allows it, else the patterns to match, and the revision.
func (e *Emulator) grantsOf(c *conn, kind, group string) (bool, []rolePattern, uint64) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return c.grants.literal(kind, group), c.grants.patterns, c.grants.revision
}

// patToken is one element of a compiled role pattern.
type patToken struct {
	op rune // opLiteral, opOne, opSegment or opAny
	r  rune // the literal character
}

const (
	opLiteral rune = iota
	opOne          // ?: one character other than '.'
	opSegment      // *: any run of characters other than '.'
	opAny          // **: any run of characters
)

// rolePattern is a compiled wildcard role pattern: "*" matches within one
// dot-separated segment, "**" (or a longer run of stars) across segments,
// "?" one character other than '.'.
type rolePattern struct {
	kind string
	toks []patToken
}

func compilePattern(kind, s string) rolePattern {
	p := rolePattern{kind: kind}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '*':
			j := i
			for j < len(s) && s[j] == '*' {
				j++
			}
			op := opSegment
			if j-i > 1 {
				op = opAny
			}
			p.toks = append(p.toks, patToken{op: op})
			i = j
			continue
		case '?':
			p.toks = append(p.toks, patToken{op: opOne})
		default:
			p.toks = append(p.toks, patToken{op: opLiteral, r: r})
		}
		i += n
	}
	return p
}

// match simulates the pattern's automaton over the group, one character at
// a time, keeping the set of pattern positions reached: no backtracking,
// O(len(group) × len(pattern)) steps whatever the input.
func (p rolePattern) match(group string) bool {
	m := len(p.toks)
	var buf [2 * 64]bool
	var cur, next []bool
	if m+1 <= 64 {
		cur, next = buf[:m+1], buf[64:64+m+1]
	} else {
		cur, next = make([]bool, m+1), make([]bool, m+1)
	}
	cur[0] = true
	p.closure(cur)
	for _, r := range group {
		clear(next)
		alive := false
		for j, t := range p.toks {
			if !cur[j] {
				continue
			}
			switch t.op {
			case opLiteral:
				if r == t.r {
					next[j+1], alive = true, true
				}
			case opOne:
				if r != '.' {
					next[j+1], alive = true, true
				}
			case opSegment:
				if r != '.' {
					next[j], alive = true, true
				}
			case opAny:
				next[j], alive = true, true
			}
		}
		if !alive {
			return false
		}
		p.closure(next)
		cur, next = next, cur
	}
	return cur[m]
}

// closure adds the positions reachable without reading a character: past
// a star that matches nothing.
func (p rolePattern) closure(set []bool) {
	for j, t := range p.toks {
		if set[j] && (t.op == opSegment || t.op == opAny) {
			set[j+1] = true
		}
	}
}
