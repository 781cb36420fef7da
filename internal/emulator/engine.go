package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/odata"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// hubState holds one hub's connections, users and groups. Guarded by
// Emulator.mu.
type hubState struct {
	conns  map[string]*conn
	users  map[string]map[string]*conn // user → connection id → conn
	groups map[string]map[string]*conn // group → connection id → conn
}

func (e *Emulator) hubLocked(name string) *hubState {
	h := e.hubs[name]
	if h == nil {
		h = &hubState{conns: map[string]*conn{}, users: map[string]map[string]*conn{}, groups: map[string]map[string]*conn{}}
		e.hubs[name] = h
	}
	return h
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// register adds a new logical connection and joins its initial groups.
func (e *Emulator) register(c *conn, groups []string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.registerLocked(c, groups)
}

// registerLocked is register for a caller that holds e.mu.
func (e *Emulator) registerLocked(c *conn, groups []string) bool {
	if e.closed {
		return false
	}
	h := e.hubLocked(c.hub)
	h.conns[c.id] = c
	if c.hasUser {
		m := h.users[c.userID]
		if m == nil {
			m = map[string]*conn{}
			h.users[c.userID] = m
		}
		m[c.id] = c
	}
	for _, g := range groups {
		e.joinLocked(h, c, g)
	}
	return true
}

func (e *Emulator) joinLocked(h *hubState, c *conn, group string) {
	if c.ended {
		return
	}
	m := h.groups[group]
	if m == nil {
		m = map[string]*conn{}
		h.groups[group] = m
	}
	m[c.id] = c
	c.groups[group] = struct{}{}
}

func (e *Emulator) leaveLocked(h *hubState, c *conn, group string) {
	if m := h.groups[group]; m != nil {
		delete(m, c.id)
		if len(m) == 0 {
			delete(h.groups, group)
		}
	}
	delete(c.groups, group)
}

// detach removes a connection from its hub, users and groups.
func (e *Emulator) detach(c *conn) {
	if e.detachLocked(c) {
		e.notifyDisconnected(c)
	}
}

// detachLocked does the work of detach under the lock and reports whether
// the connection was still attached.
func (e *Emulator) detachLocked(c *conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.ended {
		return false
	}
	c.ended = true
	h := e.hubLocked(c.hub)
	if h.conns[c.id] == c {
		delete(h.conns, c.id)
	}
	if m := h.users[c.userID]; c.hasUser && m != nil {
		delete(m, c.id)
		if len(m) == 0 {
			delete(h.users, c.userID)
		}
	}
	for g := range c.groups {
		e.leaveLocked(h, c, g)
	}
	if len(h.conns) == 0 && len(h.groups) == 0 {
		delete(e.hubs, c.hub)
	}
	e.opts.logger.Debug("connection ended", "hub", c.hub, "connectionId", c.id)
	return true
}

// removeConn detaches a connection that already stopped taking messages.
func (e *Emulator) removeConn(c *conn) { e.detach(c) }

// endConn ends a connection for good: it leaves the engine, its client gets
// a disconnected message (json protocols) and a close frame.
func (e *Emulator) endConn(c *conn, code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
	e.detach(c)
}

// lookup returns a live connection.
func (e *Emulator) lookup(hub, id string) *conn {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if h := e.hubs[hub]; h != nil {
		return h.conns[id]
	}
	return nil
}

// target selects connections for a send or bulk operation.
type target struct {
	excluded map[string]bool
	filter   *odata.Filter
}

func newTarget(excluded []string, f *odata.Filter) target {
	t := target{filter: f}
	if len(excluded) > 0 {
		t.excluded = make(map[string]bool, len(excluded))
		for _, id := range excluded {
			t.excluded[id] = true
		}
	}
	return t
}

// matchLocked reports whether c is selected. Caller holds e.mu.
func (t target) matchLocked(c *conn) bool {
	if t.excluded[c.id] {
		return false
	}
	if t.filter == nil {
		return true
	}
	return t.filter.Match(subjectLocked(c))
}

func subjectLocked(c *conn) odata.Subject {
	groups := make([]string, 0, len(c.groups))
	for g := range c.groups {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	return odata.Subject{UserID: c.userID, HasUserID: c.hasUser, ConnectionID: c.id, Groups: groups, Protocol: c.subprotocol}
}

// Scope of a send or close.
type scope int

const (
	scopeAll scope = iota
	scopeUser
	scopeConnection
	scopeGroup
)

// membersLocked lists the connections in a scope. Caller holds e.mu.
func (e *Emulator) membersLocked(hub string, s scope, name string) []*conn {
	h := e.hubs[hub]
	if h == nil {
		return nil
	}
	var m map[string]*conn
	switch s {
	case scopeAll:
		m = h.conns
	case scopeUser:
		m = h.users[name]
	case scopeGroup:
		m = h.groups[name]
	case scopeConnection:
		if c := h.conns[name]; c != nil {
			return []*conn{c}
		}
		return nil
	}
	out := make([]*conn, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

// send delivers d to every selected connection of a scope. noEcho skips
// the connection with that id.
func (e *Emulator) send(hub string, s scope, name string, t target, d *delivery, noEcho string) int {
	if !d.validText() {
		e.invalidDelivery()
		return 0
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	for _, c := range e.membersLocked(hub, s, name) {
		if c.id == noEcho || !t.matchLocked(c) {
			continue
		}
		c.deliver(d)
		n++
	}
	return n
}

// closeScope ends the selected connections of a scope.
func (e *Emulator) closeScope(hub string, s scope, name string, t target, reason string) {
	e.mu.RLock()
	var victims []*conn
	for _, c := range e.membersLocked(hub, s, name) {
		if t.matchLocked(c) {
			victims = append(victims, c)
		}
	}
	e.mu.RUnlock()
	if reason == "" {
		reason = "closed by the service"
	}
	for _, c := range victims {
		code := websocket.StatusCode(wire.CloseNormal)
		if c.kind == protocolReliable {
			code = wire.ClosePolicyViolation // do not let the client recover
		}
		e.endConn(c, code, reason)
	}
}

// exists reports whether a scope has any connection.
func (e *Emulator) exists(hub string, s scope, name string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	h := e.hubs[hub]
	if h == nil {
		return false
	}
	switch s {
	case scopeConnection:
		return h.conns[name] != nil
	case scopeUser:
		return len(h.users[name]) > 0
	case scopeGroup:
		return len(h.groups[name]) > 0
	}
	return len(h.conns) > 0
}

// addToGroup adds the connections of a scope to a group.
func (e *Emulator) addToGroups(hub string, s scope, name string, t target, groups []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hubs[hub]
	if h == nil {
		return
	}
	for _, c := range e.membersLocked(hub, s, name) {
		if t.matchLocked(c) {
			for _, g := range groups {
				e.joinLocked(h, c, g)
			}
		}
	}
}

// removeFromGroups removes the connections of a scope from groups; nil
// groups means every group.
func (e *Emulator) removeFromGroups(hub string, s scope, name string, t target, groups []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hubs[hub]
	if h == nil {
		return
	}
	for _, c := range e.membersLocked(hub, s, name) {
		if !t.matchLocked(c) {
			continue
		}
		gs := groups
		if gs == nil {
			for g := range c.groups {
				gs = append(gs, g)
			}
		}
		for _, g := range gs {
			e.leaveLocked(h, c, g)
		}
	}
}

// groupMembers lists a group's connections sorted by id.
func (e *Emulator) groupMembers(hub, group string) []*conn {
	e.mu.RLock()
	defer e.mu.RUnlock()
	m := e.membersLocked(hub, scopeGroup, group)
	slices.SortFunc(m, func(a, b *conn) int { return strings.Compare(a.id, b.id) })
	return m
}

// grant, revoke and check change or read a connection's permissions.
// Roles from the client's token count as granted permissions.
func (e *Emulator) grant(hub, id string, p permission) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.hubs[hub].conn(id)
	if c == nil {
		return false
	}
	c.grants.grant(p)
	return true
}

func (e *Emulator) revoke(hub, id string, p permission) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.hubs[hub].conn(id); c != nil {
		c.grants.revoke(p)
	}
}

func (e *Emulator) check(hub, id string, p permission) bool {
	c := e.lookup(hub, id)
	return c != nil && e.permitted(c, p.kind, p.target)
}

func (h *hubState) conn(id string) *conn {
	if h == nil {
		return nil
	}
	return h.conns[id]
}

// invalidDelivery reports a message that could not go into text frames
// although every source checks its input: a bug, logged, never sent.
func (e *Emulator) invalidDelivery() {
	e.opts.logger.Error("emulator bug: a message is not valid UTF-8 and was not sent")
}
