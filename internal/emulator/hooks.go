package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// ConnectHandler decides whether a client may connect, like the service's
// "connect" event. The EventHandler given to WithEventHandler may implement
// it.
type ConnectHandler interface {
	// HandleConnect runs after the client's token is verified and before
	// the WebSocket handshake completes. A nil response accepts the client
	// as its token says. An error rejects it: a *ConnectError chooses the
	// HTTP status, any other error gives 500.
	HandleConnect(ctx context.Context, req ConnectRequest) (*ConnectResponse, error)
}

// ConnectRequest describes a client that is about to connect.
type ConnectRequest struct {
	Hub          string
	ConnectionID string
	UserID       string   // from the token's sub claim; empty for anonymous clients
	Roles        []string // from the token
	Groups       []string // from the token
	// Subprotocols are the subprotocols the client offered, in order.
	Subprotocols []string
	// Claims holds every claim of the token, each value as strings (a JSON
	// array gives one string per element).
	Claims map[string][]string
	// Query is the connect URL's query without the access token.
	Query map[string][]string
	// Headers are the handshake's headers without Authorization.
	Headers map[string][]string
	// MQTT describes an MQTT client's CONNECT packet; nil for WebSocket
	// clients.
	MQTT *MQTTConnect
}

// MQTTConnect is what the upstream connect event of an MQTT client tells
// beyond a WebSocket client's.
type MQTTConnect struct {
	// PhysicalConnectionID identifies the network connection
	// (ce-physicalConnectionId).
	PhysicalConnectionID string
	// ProtocolVersion is the CONNECT packet's protocol level: 4 (3.1.1)
	// or 5 (5.0).
	ProtocolVersion int
	// Username and Password are the packet's; nil when absent.
	Username *string
	Password []byte
	// UserProperties are the packet's user properties (5.0).
	UserProperties []wire.CEMQTTUserProperty
}

// ConnectResponse changes how an accepted client is connected.
type ConnectResponse struct {
	// UserID, when non-nil, replaces the token's user id ("" makes the
	// client anonymous).
	UserID *string
	// Roles are granted in addition to the token's roles.
	Roles []string
	// Groups are joined in addition to the token's groups.
	Groups []string
	// Subprotocol picks one of the offered subprotocols; "" keeps the
	// emulator's choice.
	Subprotocol string
	// MQTTUserProperties go to an MQTT 5.0 client in its CONNACK packet.
	MQTTUserProperties []wire.CEMQTTUserProperty
}

// ConnectError rejects a client with an HTTP status (401 when StatusCode
// is 0) and a message.
type ConnectError struct {
	StatusCode int
	Message    string
	// MQTTCode is the CONNACK code for a rejected MQTT client: the code the
	// event handler answered, or the one its status maps to; 0 for
	// WebSocket clients.
	MQTTCode int
	// MQTTUserProperties go to an MQTT 5.0 client in its CONNACK packet.
	MQTTUserProperties []wire.CEMQTTUserProperty
}

// Error returns the message.
func (e *ConnectError) Error() string { return e.Message }

// LifecycleHandler is told when connections start and end, like the
// service's "connected" and "disconnected" events. The EventHandler given
// to WithEventHandler may implement it. The calls for one connection never
// overlap and come in order: HandleConnected, then HandleDisconnected.
// They run on their own goroutines and do not delay the client.
type LifecycleHandler interface {
	HandleConnected(ctx context.Context, info ConnectionInfo)
	HandleDisconnected(ctx context.Context, info ConnectionInfo, reason string)
}

// ConnectionInfo identifies a connection in lifecycle calls.
type ConnectionInfo struct {
	Hub          string
	ConnectionID string
	UserID       string
	Subprotocol  string // empty for simple WebSocket clients
	// MQTT is set for MQTT clients; nil for WebSocket clients.
	MQTT *MQTTSession
}

// MQTTSession identifies an MQTT client's session and network connection
// in lifecycle calls.
type MQTTSession struct {
	PhysicalConnectionID string // ce-physicalConnectionId
	SessionID            string // ce-sessionId
	// Disconnect tells how the session ended; set in HandleDisconnected.
	Disconnect *wire.CEMQTTDisconnectedProperties
}

func (c *conn) info() ConnectionInfo {
	sp := c.subprotocol
	if c.kind == protocolSimple {
		sp = ""
	}
	info := ConnectionInfo{Hub: c.hub, ConnectionID: c.id, UserID: c.userID, Subprotocol: sp}
	if c.mq != nil {
		c.mu.Lock()
		c.mq.eventInfoLocked(&info)
		c.mu.Unlock()
	}
	return info
}

// runConnect asks the ConnectHandler, if any, about a new client and
// applies its answer to c. It returns the HTTP status and message of a
// rejection.
func (e *Emulator) runConnect(r *http.Request, c *conn, cc clientClaims, offered []string) (groups []string, status int, msg string) {
	groups = cc.groups
	h, ok := e.opts.eventHandler.(ConnectHandler)
	if !ok {
		return groups, 0, ""
	}
	req := ConnectRequest{
		Hub: c.hub, ConnectionID: c.id, UserID: c.userID,
		Roles: cc.roles, Groups: cc.groups, Subprotocols: offered,
		Claims: claimStrings(cc.raw), Query: map[string][]string{}, Headers: map[string][]string{},
	}
	for k, v := range r.URL.Query() {
		if k != wire.QueryAccessToken {
			req.Query[k] = v
		}
	}
	for k, v := range r.Header {
		if k != http.CanonicalHeaderKey(wire.HeaderAuthorization) {
			req.Headers[k] = v
		}
	}
	req.Headers["Host"] = []string{r.Host} // net/http keeps it out of r.Header
	if c.mq != nil {
		req.MQTT = c.mq.connectInfo
	}
	ctx, cancel := context.WithTimeout(r.Context(), eventTimeout)
	defer cancel()
	resp, err := h.HandleConnect(ctx, req)
	if err != nil {
		var ce *ConnectError
		if errors.As(err, &ce) {
			if c.mq != nil && ce.MQTTCode != 0 { // the CONNACK code ("MQTT CloudEvents" page)
				c.mq.refusal = &mqttRefusal{code311: byte(ce.MQTTCode), code5: byte(ce.MQTTCode), reason: ce.Message, props: ce.MQTTUserProperties}
			}
			if ce.StatusCode == 0 {
				return nil, http.StatusUnauthorized, ce.Message
			}
			return nil, ce.StatusCode, ce.Message
		}
		return nil, http.StatusInternalServerError, "the connect handler failed: " + err.Error()
	}
	if resp == nil {
		return groups, 0, ""
	}
	if c.mq != nil {
		c.mq.ackProps = resp.MQTTUserProperties
	}
	if resp.UserID != nil {
		c.userID, c.hasUser = *resp.UserID, *resp.UserID != ""
	}
	if len(resp.Roles) > 0 {
		c.roles = append(append([]string(nil), c.roles...), resp.Roles...)
	}
	for _, g := range resp.Groups {
		if err := validateGroup(g); err != nil {
			return nil, http.StatusInternalServerError, fmt.Sprintf("the connect handler returned an invalid group: %v", err)
		}
	}
	groups = append(append([]string(nil), groups...), resp.Groups...)
	if resp.Subprotocol != "" {
		offeredIt := false
		for _, p := range offered {
			offeredIt = offeredIt || p == resp.Subprotocol
		}
		if !offeredIt {
			return nil, http.StatusInternalServerError, fmt.Sprintf("the connect handler chose subprotocol %q, which the client did not offer", resp.Subprotocol)
		}
		_, kind, err := chooseSubprotocol([]string{resp.Subprotocol})
		if err != nil {
			return nil, http.StatusInternalServerError, "the connect handler chose an unsupported subprotocol: " + err.Error()
		}
		c.subprotocol, c.kind = resp.Subprotocol, kind
	}
	return groups, 0, ""
}

// claimStrings renders token claims as strings.
func claimStrings(claims jwt.MapClaims) map[string][]string {
	out := make(map[string][]string, len(claims))
	for k, v := range claims {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				out[k] = append(out[k], claimString(e))
			}
		default:
			out[k] = []string{claimString(x)}
		}
	}
	return out
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// notifyConnected tells the LifecycleHandler that c is connected.
func (e *Emulator) notifyConnected(c *conn) {
	h, ok := e.opts.eventHandler.(LifecycleHandler)
	if !ok {
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	done := make(chan struct{})
	c.connectedDone = done
	c.mu.Unlock()
	info := c.info()
	if !e.track(1) {
		return // shutting down: no disconnected call follows either
	}
	go func() {
		defer e.bg.Done()
		defer close(done)
		ctx, cancel := context.WithTimeout(e.ctx, eventTimeout)
		defer cancel()
		h.HandleConnected(ctx, info)
	}()
}

// notifyDisconnected tells the LifecycleHandler that c ended, after its
// connected call returned. Connections never announced are not reported.
func (e *Emulator) notifyDisconnected(c *conn) {
	h, ok := e.opts.eventHandler.(LifecycleHandler)
	if !ok {
		return
	}
	c.mu.Lock()
	done, reason := c.connectedDone, c.endReason
	c.mu.Unlock()
	if done == nil {
		return
	}
	info := c.info()
	e.background(func() {
		<-done
		ctx, cancel := context.WithTimeout(e.ctx, eventTimeout)
		defer cancel()
		h.HandleDisconnected(ctx, info, reason)
	})
}
