package emulator

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// maxClientMessageBytes bounds one message read from a client.
const maxClientMessageBytes = 1 << 20

// eventTimeout bounds one call of the EventHandler.
const eventTimeout = 30 * time.Second

// offeredSubprotocols lists the values of Sec-WebSocket-Protocol in order.
func offeredSubprotocols(r *http.Request) []string {
	var out []string
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// chooseSubprotocol picks the subprotocol to echo and the protocol to
// speak. The first supported json subprotocol offered wins; a client that
// offers only other values is a simple WebSocket client and gets its first
// value echoed (strict clients such as the ws npm library require an echo);
// protobuf subprotocols are refused because the emulator does not speak
// them.
func chooseSubprotocol(offered []string) (echo string, kind protocolKind, err error) {
	for _, p := range offered {
		switch p {
		case wire.SubprotocolJSON:
			return p, protocolJSON, nil
		case wire.SubprotocolJSONReliable:
			return p, protocolReliable, nil
		}
	}
	for _, p := range offered {
		if p == wire.SubprotocolProtobuf || p == wire.SubprotocolProtobufReliable {
			return "", 0, fmt.Errorf("the emulator does not support the %s subprotocol: use %s or %s", p, wire.SubprotocolJSON, wire.SubprotocolJSONReliable)
		}
	}
	if len(offered) > 0 {
		return offered[0], protocolSimple, nil
	}
	return "", protocolSimple, nil
}

// serveClient handles /client/hubs/{hub} and /client/?hub=.
func (e *Emulator) serveClient(w http.ResponseWriter, r *http.Request) {
	hub := r.PathValue("hub")
	if hub == "" {
		hub = r.URL.Query().Get(wire.QueryHub)
	}
	if err := validateHub(hub); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidHub", err.Error())
		return
	}
	e.mu.RLock()
	closed := e.closed
	e.mu.RUnlock()
	if closed {
		writeError(w, http.StatusServiceUnavailable, "ServiceClosed", "the emulator is shutting down")
		return
	}
	echo, kind, err := chooseSubprotocol(offeredSubprotocols(r))
	if err != nil {
		writeError(w, http.StatusBadRequest, "UnsupportedSubprotocol", err.Error())
		return
	}
	q := r.URL.Query()
	if kind == protocolReliable && q.Get(wire.QueryConnectionID) != "" {
		e.recoverClient(w, r, hub, echo, q.Get(wire.QueryConnectionID), q.Get(wire.QueryReconnectionToken))
		return
	}
	claims, err := e.authenticateClient(r, hub)
	if err != nil {
		e.opts.logger.Info("client rejected", "hub", hub, "reason", err.Error())
		writeError(w, http.StatusUnauthorized, "Unauthorized", err.Error())
		return
	}
	c := &conn{
		e:           e,
		hub:         hub,
		id:          randomID(12),
		userID:      claims.userID,
		hasUser:     claims.hasUser,
		kind:        kind,
		subprotocol: echo,
		roles:       claims.roles,
		groups:      map[string]struct{}{},
	}
	groups, status, msg := e.runConnect(r, c, claims, offeredSubprotocols(r))
	if status != 0 {
		e.opts.logger.Info("client rejected by the connect handler", "hub", hub, "status", status)
		writeError(w, status, connectErrorCode(status), msg)
		return
	}
	kind, echo = c.kind, c.subprotocol
	if c.grants, err = newGrants(c.roles); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRoles", err.Error())
		return
	}
	if c.publishTo, err = publishGroup(q, kind, c.grants); err != nil {
		writeError(w, http.StatusForbidden, "Forbidden", err.Error())
		return
	}
	if kind == protocolReliable {
		c.reconnToken = randomID(32)
	}
	// Register before the handshake completes, so that a message sent the
	// moment the client sees its connection open is queued, not missed.
	p := e.newPhysical(nil)
	c.phys = p
	if kind != protocolSimple {
		p.queue = append(p.queue, c.connectedFrame())
	}
	if !e.register(c, groups) {
		writeError(w, http.StatusServiceUnavailable, "ServiceClosed", "the emulator is shutting down")
		return
	}
	ws, cork, err := e.accept(w, r, echo)
	if err != nil {
		c.mu.Lock()
		c.closed = true
		c.phys = nil
		c.mu.Unlock()
		e.detach(c)
		return
	}
	c.mu.Lock()
	p.ws, p.cork = ws, cork
	replaced := c.phys != p // a recovery won the race with this handshake
	c.mu.Unlock()
	if replaced {
		_ = ws.CloseNow()
		return
	}
	e.opts.logger.Debug("client connected", "hub", hub, "connectionId", c.id, "protocol", kind.String())
	e.notifyConnected(c)
	c.run(p)
}

func connectErrorCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	}
	return "ConnectRejected"
}

func (c *conn) connectedFrame() frame {
	m := connectedMessage{Type: wire.TypeSystem, Event: wire.SystemEventConnected, ConnectionID: c.id, ReconnectionToken: c.reconnToken}
	if c.hasUser {
		m.UserID = &c.userID
	}
	return controlFrame(m)
}

// accept completes the WebSocket handshake. The socket runs over a
// corkConn (see cork.go), which the writer corks while it drains a batch.
func (e *Emulator) accept(w http.ResponseWriter, r *http.Request, echo string) (*websocket.Conn, *corkConn, error) {
	var protos []string
	if echo != "" {
		protos = []string{echo}
	}
	cw := &corkingWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{Subprotocols: protos, InsecureSkipVerify: true})
	if err != nil {
		e.opts.logger.Info("websocket handshake failed", "error", err.Error())
		return nil, nil, err
	}
	ws.SetReadLimit(maxClientMessageBytes)
	return ws, cw.conn, nil
}

func (e *Emulator) newPhysical(ws *websocket.Conn) *physical {
	return &physical{ws: ws, wake: make(chan struct{}, 1), done: make(chan struct{}), room: make(chan struct{}, 1), writerDone: make(chan struct{})}
}

// publishGroup reads the sendToGroup mode of a simple client: the group its
// frames are published to, or "" for the default (frames are events).
func publishGroup(q url.Values, kind protocolKind, g grants) (string, error) {
	mode := q.Get(wire.QueryMode)
	if mode == "" {
		return "", nil
	}
	if mode != wire.ModeSendToGroup {
		return "", fmt.Errorf("unknown %s %q: the only mode is %s", wire.QueryMode, mode, wire.ModeSendToGroup)
	}
	if kind != protocolSimple {
		return "", fmt.Errorf("%s=%s is for simple WebSocket clients; json subprotocol clients send sendToGroup messages", wire.QueryMode, wire.ModeSendToGroup)
	}
	group := q.Get(wire.QueryGroup)
	if err := validateGroup(group); err != nil {
		return "", fmt.Errorf("%s=%s needs a valid %s query parameter: %v", wire.QueryMode, wire.ModeSendToGroup, wire.QueryGroup, err)
	}
	if !g.literal(wire.RoleSendToGroup, group) && !matchAny(g.patterns, wire.RoleSendToGroup, group) {
		return "", fmt.Errorf("publishing to group %q needs role %s or %s.%s in the token", group, wire.RoleSendToGroup, wire.RoleSendToGroup, group)
	}
	return group, nil
}

// recoverClient reattaches a reliable client to its logical connection and
// replays every unacknowledged message in order.
func (e *Emulator) recoverClient(w http.ResponseWriter, r *http.Request, hub, echo, id, token string) {
	ws, cork, err := e.accept(w, r, echo)
	if err != nil {
		return
	}
	c := e.lookup(hub, id)
	if c == nil || c.kind != protocolReliable || subtle.ConstantTimeCompare([]byte(c.reconnToken), []byte(token)) != 1 {
		_ = ws.Close(wire.ClosePolicyViolation, "the connection cannot be recovered: start a new one")
		return
	}
	p := e.newPhysical(ws)
	p.cork = cork
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.Close(wire.ClosePolicyViolation, "the connection cannot be recovered: start a new one")
		return
	}
	if c.recoverTimer != nil {
		c.recoverTimer.Stop()
		c.recoverTimer = nil
	}
	var oldWS *websocket.Conn
	if c.phys != nil {
		oldWS = c.phys.ws
	}
	p.queue = append(p.queue, c.connectedFrame())
	for _, f := range c.unacked {
		p.queue = append(p.queue, f)
		p.queueBytes += len(f.data)
	}
	c.phys = p
	p.signal()
	c.mu.Unlock()
	if oldWS != nil {
		_ = oldWS.CloseNow()
	}
	e.opts.logger.Debug("client recovered", "hub", hub, "connectionId", c.id)
	c.run(p)
}

// run serves one WebSocket of the connection on goroutines of its own
// (reader and writer; the writer also sends the keep-alive pings) and
// returns at once. The HTTP handler then returns too, which frees the
// server's per-request state (its goroutine's deep stack, its buffers and
// the request) while the hijacked socket lives on: about a third of the
// memory of an idle connection.
func (c *conn) run(p *physical) {
	if !c.e.track(2) {
		_ = p.ws.Close(wire.CloseGoingAway, "the service is shutting down")
		c.physicalGone(p)
		return
	}
	ctx, cancel := context.WithCancel(c.e.ctx)
	p.signal()
	go func() { defer c.e.bg.Done(); c.writeLoop(ctx, p) }()
	go func() {
		defer c.e.bg.Done()
		defer cancel()
		c.readLoop(ctx, p)
		c.physicalGone(p)
	}()
}

func (c *conn) readLoop(ctx context.Context, p *physical) {
	for {
		if !c.waitForRoom(ctx, p) {
			return
		}
		typ, data, err := p.ws.Read(ctx)
		if err != nil {
			return
		}
		if c.isClosed() {
			continue // ended (e.g. for a bad frame): read on only until the close handshake ends
		}
		if typ == websocket.MessageText && !utf8.Valid(data) && c.kind == protocolSimple {
			c.invalidUTF8("the text frame is not valid UTF-8")
			continue // the next read ends when the close handshake does
		}
		if c.kind == protocolSimple {
			dt := wire.DataTypeText
			if typ == websocket.MessageBinary {
				dt = wire.DataTypeBinary
			}
			p := Payload{DataType: dt, Data: data}
			if c.publishTo != "" {
				if errName, msg := c.e.clientSendToGroup(c, c.publishTo, p, false); errName != "" {
					c.e.endConn(c, wire.ClosePolicyViolation, msg)
				}
				continue
			}
			c.handleEvent(ctx, wire.CEEventMessage, p, nil)
			continue
		}
		if typ != websocket.MessageText {
			c.protocolViolation("binary frames are not part of the " + c.kind.String() + " subprotocol")
			continue
		}
		var m clientMessage
		if err := json.Unmarshal(data, &m); err != nil {
			c.protocolViolation("the message is not a valid JSON object")
			continue
		}
		// encoding/json replaces invalid UTF-8 and lone surrogate escapes
		// in strings with U+FFFD, and keeps them as they are in raw data:
		// either way the message would not be what the client sent.
		if reason := invalidText(data); reason != "" {
			if m.AckID == nil {
				c.invalidUTF8(reason)
				continue
			}
			c.sendAck(m.AckID, wire.AckErrorBadRequest, reason+": send text as UTF-8")
			continue
		}
		c.handleMessage(ctx, &m)
	}
}

// isClosed reports whether the connection takes no more messages.
func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// dropPhysical marks the socket p gone. It returns true, with c.mu held,
// when p was the connection's current socket and the connection is still
// open, so the caller decides what the connection does next; otherwise it
// returns false with c.mu released (and a closed connection detached).
func (c *conn) dropPhysical(p *physical) bool {
	c.mu.Lock()
	p.gone = true
	close(p.done)
	if c.phys != p {
		c.mu.Unlock()
		return false
	}
	c.phys = nil
	if c.closed {
		c.mu.Unlock()
		c.e.detach(c)
		return false
	}
	return true
}

// physicalGone runs after a socket ends. A reliable connection waits for a
// reconnect for the recovery window; any other connection ends.
func (c *conn) physicalGone(p *physical) {
	if !c.dropPhysical(p) {
		return
	}
	if c.kind == protocolReliable {
		c.recoverTimer = time.AfterFunc(c.e.opts.recoveryWindow, func() {
			c.mu.Lock()
			if c.phys != nil || c.closed {
				c.mu.Unlock()
				return
			}
			c.closeLocked(wire.ClosePolicyViolation, "recovery window elapsed")
			c.mu.Unlock()
			c.e.detach(c)
		})
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.endReason == "" {
		c.endReason = "the client closed the connection"
	}
	c.mu.Unlock()
	c.e.detach(c)
}

// invalidUTF8 ends a connection whose text frame was not valid UTF-8, as
// RFC 6455 §8.1 requires.
func (c *conn) invalidUTF8(reason string) {
	c.e.opts.logger.Info("client sent invalid UTF-8", "hub", c.hub, "connectionId", c.id, "reason", reason)
	c.e.endConn(c, wire.CloseInvalidPayload, reason)
}

// invalidText tells why a JSON text is not valid Unicode text: invalid
// UTF-8, or a \u escape of a UTF-16 surrogate that is not part of a pair.
// It returns "" for valid text. The input must be valid JSON.
func invalidText(data []byte) string {
	if !utf8.Valid(data) {
		return "the message is not valid UTF-8"
	}
	inString := false
	for i := 0; i < len(data); i++ {
		switch b := data[i]; {
		case b == '"':
			inString = !inString
		case b == '\\' && inString:
			i++
			if data[i] != 'u' {
				continue
			}
			r := hex4(data[i+1 : i+5])
			i += 4
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return "the message holds a lone UTF-16 surrogate escape"
			case r >= 0xD800 && r <= 0xDBFF:
				if i+6 >= len(data) || data[i+1] != '\\' || data[i+2] != 'u' {
					return "the message holds a lone UTF-16 surrogate escape"
				}
				if lo := hex4(data[i+3 : i+7]); lo < 0xDC00 || lo > 0xDFFF {
					return "the message holds a lone UTF-16 surrogate escape"
				}
				i += 6
			}
		}
	}
	return ""
}

// hex4 decodes the four hex digits of a \u escape of valid JSON.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// protocolViolation ends a connection that sent an unreadable message.
func (c *conn) protocolViolation(reason string) {
	c.e.opts.logger.Info("client protocol violation", "hub", c.hub, "connectionId", c.id, "reason", reason)
	c.e.endConn(c, wire.ClosePolicyViolation, "invalid message: "+reason)
}

func (c *conn) sendAck(id *uint64, errName, msg string) {
	if id == nil {
		return
	}
	if errName == "" { // the common case, encoded without reflection
		b := make([]byte, 0, 64)
		b = append(b, `{"type":"`+wire.TypeAck+`","ackId":`...)
		b = strconv.AppendUint(b, *id, 10)
		b = append(b, `,"success":true}`...)
		c.sendControl(frame{data: b, checked: true})
		return
	}
	c.sendControl(controlFrame(ackMessage{Type: wire.TypeAck, AckID: *id, Error: &ackError{Name: errName, Message: msg}}))
}

func (c *conn) handleMessage(ctx context.Context, m *clientMessage) {
	switch m.Type {
	case wire.TypePing:
		c.sendControl(controlFrame(struct {
			Type string `json:"type"`
		}{wire.TypePong}))
		return
	case wire.TypeSequenceAck:
		if m.SequenceID == nil {
			c.protocolViolation("sequenceAck without sequenceId")
			return
		}
		if c.kind == protocolReliable {
			c.ack(*m.SequenceID)
		}
		return
	}
	if m.AckID != nil {
		c.ackMu.Lock()
		defer c.ackMu.Unlock()
	}
	if m.AckID != nil && !c.ackUnused(*m.AckID) {
		c.sendAck(m.AckID, wire.AckErrorDuplicate, fmt.Sprintf("ackId %d was already used by this connection", *m.AckID))
		return
	}
	errName, msg := c.execute(ctx, m)
	if errName == "" && m.AckID != nil {
		c.recordAck(*m.AckID)
	}
	c.sendAck(m.AckID, errName, msg)
}

// ackUnused reports whether id is still unused.
func (c *conn) ackUnused(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.acks.seen(id)
}

// execute runs a request message and returns the ack error name ("" on
// success) and message.
func (c *conn) execute(ctx context.Context, m *clientMessage) (string, string) {
	switch m.Type {
	case wire.TypeJoinGroup, wire.TypeLeaveGroup:
		if m.Group == nil {
			return wire.AckErrorBadRequest, "group is required"
		}
		if err := validateGroup(*m.Group); err != nil {
			return wire.AckErrorBadRequest, err.Error()
		}
		return c.e.clientJoinLeave(c, *m.Group, m.Type == wire.TypeJoinGroup)
	case wire.TypeSendToGroup:
		if m.Group == nil {
			return wire.AckErrorBadRequest, "group is required"
		}
		if err := validateGroup(*m.Group); err != nil {
			return wire.AckErrorBadRequest, err.Error()
		}
		p, err := decodeClientData(m.DataType, m.Data)
		if err != nil {
			return wire.AckErrorBadRequest, err.Error()
		}
		return c.e.clientSendToGroup(c, *m.Group, p, m.NoEcho)
	case wire.TypeEvent:
		if m.Event == nil || *m.Event == "" {
			return wire.AckErrorBadRequest, "event is required"
		}
		p, err := decodeClientData(m.DataType, m.Data)
		if err != nil {
			return wire.AckErrorBadRequest, err.Error()
		}
		return c.handleEvent(ctx, *m.Event, p, m.AckID)
	case "":
		return wire.AckErrorBadRequest, "type is required"
	}
	return wire.AckErrorBadRequest, fmt.Sprintf("unsupported message type %q", m.Type)
}

// maxClientGroups bounds the groups a client joins with joinGroup messages
// (each name up to 1,024 characters): the connection's memory stays
// bounded whatever it sends. Groups added over REST count too, but the
// application adding them is never refused.
const maxClientGroups = 10000

// clientJoinLeave joins or leaves a group for a client, if its grants
// allow it. Wildcard roles are matched without the engine's lock; the
// join then happens under it only if no permission was revoked meanwhile
// (else the check runs again), so a join never outlives a revocation that
// came before it.
func (e *Emulator) clientJoinLeave(c *conn, group string, join bool) (string, string) {
	if !e.lockIfPermitted(c, wire.RoleJoinLeaveGroup, group) {
		return wire.AckErrorForbidden, fmt.Sprintf("the connection has no permission to join or leave group %q: give it role %s or %s.%s", group, wire.RoleJoinLeaveGroup, wire.RoleJoinLeaveGroup, group)
	}
	if c.ended {
		e.mu.Unlock()
		return wire.AckErrorNotFound, "the connection has ended"
	}
	if _, in := c.groups[group]; join && !in && len(c.groups) >= maxClientGroups {
		e.mu.Unlock()
		return wire.AckErrorBadRequest, fmt.Sprintf("the connection is in %d groups, as many as a client may join: leave one first", len(c.groups))
	}
	h := e.hubLocked(c.hub)
	if join {
		e.joinLocked(h, c, group)
	} else {
		e.leaveLocked(h, c, group)
	}
	e.mu.Unlock()
	return "", ""
}

func (e *Emulator) clientSendToGroup(c *conn, group string, p Payload, noEcho bool) (string, string) {
	if !e.permitted(c, wire.RoleSendToGroup, group) {
		return wire.AckErrorForbidden, fmt.Sprintf("the connection has no permission to send to group %q: give it role %s or %s.%s", group, wire.RoleSendToGroup, wire.RoleSendToGroup, group)
	}
	d := &delivery{from: wire.FromGroup, group: group, fromUserID: c.userID, hasFrom: c.hasUser, payload: p}
	skip := ""
	if noEcho {
		skip = c.id
	}
	e.send(c.hub, scopeGroup, group, target{}, d, skip)
	return "", ""
}

// handleEvent passes a client event to the EventHandler.
func (c *conn) handleEvent(ctx context.Context, name string, p Payload, ackID *uint64) (string, string) {
	h := c.e.opts.eventHandler
	if h == nil {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, eventTimeout)
	defer cancel()
	ev := Event{Hub: c.hub, ConnectionID: c.id, UserID: c.userID, Subprotocol: c.subprotocol, Name: name, Payload: p}
	if c.kind == protocolSimple {
		ev.Subprotocol = ""
	}
	reply, err := h.HandleEvent(ctx, ev)
	if err != nil {
		errName, msg := wire.AckErrorInternal, err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			errName, msg = wire.AckErrorTimeout, "the event handler did not answer in time"
		}
		if errors.Is(err, ErrCloseConnection) {
			// The failed ack goes out before the close; the caller's
			// second ack is dropped because the connection is closed.
			c.sendAck(ackID, errName, msg)
			c.e.endConn(c, wire.ClosePolicyViolation, "the event handler failed: "+err.Error())
		}
		return errName, msg
	}
	if reply != nil {
		if reply.DataType != wire.DataTypeBinary && !utf8.Valid(reply.Data) {
			c.e.opts.logger.Warn("the event handler's reply is not valid UTF-8; it is not sent", "hub", c.hub, "event", name, "connectionId", c.id)
			return wire.AckErrorInternal, "the event handler's reply is not valid UTF-8"
		}
		c.deliver(&delivery{from: wire.FromServer, payload: *reply})
	}
	return "", ""
}
