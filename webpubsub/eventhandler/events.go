package eventhandler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Handlers holds the callbacks for the four kinds of event. Every field is
// optional; a nil field gets the default answer:
//
//   - OnConnect nil: the connection is accepted as is (204 No Content); the
//     service keeps the user id, roles and groups from the client's token.
//   - OnEvent nil: the event is acknowledged with 204 and nothing is sent
//     back to the client.
//   - OnConnected / OnDisconnected nil: the notification is acknowledged.
//
// The callbacks run on the request's goroutine with the request's context;
// the service waits for the blocking ones (OnConnect, OnEvent). Return
// promptly: the service times out slow handlers.
type Handlers struct {
	// OnConnect decides whether a client may connect. Return a nil response
	// to accept the connection unchanged, a *ConnectResponse to set its user
	// id, groups, roles, subprotocol or state, or an error to reject it: use
	// Reject to choose the status and message the client sees; any other
	// error rejects with 500 and a generic message (the error is logged, not
	// sent).
	OnConnect func(ctx context.Context, req *ConnectRequest) (*ConnectResponse, error)

	// OnConnected is told that a client completed its WebSocket handshake.
	// The handler answers 200 once it returns; the service only logs
	// failures of this event.
	OnConnected func(ctx context.Context, ev *ConnectedEvent)

	// OnEvent handles a user event: a frame from a simple WebSocket client
	// (event name "message") or an "event" message from a PubSub client
	// (event name chosen by the client). Return a nil response to
	// acknowledge without a reply, an *EventResponse to send data back to
	// the client or change the connection state, or an error: the service
	// then drops the client's connection. Reject chooses the status and
	// message; any other error answers 500 with a generic message.
	OnEvent func(ctx context.Context, ev *UserEvent) (*EventResponse, error)

	// OnDisconnected is told that a client's connection ended. The service
	// sends it for every connection whose connect event succeeded; the
	// handler answers 200 once it returns.
	OnDisconnected func(ctx context.Context, ev *DisconnectedEvent)
}

// ConnectionContext is what every event tells about the connection and the
// request itself, taken from the CloudEvents headers.
type ConnectionContext struct {
	Hub          string // ce-hub
	ConnectionID string // ce-connectionId
	UserID       string // ce-userId; empty for anonymous connections and in connect events without a user
	EventName    string // ce-eventName, or derived from ce-type when the header is absent
	Subprotocol  string // ce-subprotocol; empty for simple WebSocket clients
	Origin       string // WebHook-Request-Origin: the service host that sent the event

	// MQTT is set for the events of MQTT clients (ce-subprotocol mqtt with
	// a ce-physicalConnectionId) and nil for WebSocket clients.
	MQTT *MQTTConnection

	// State is the connection state the service keeps for this connection
	// (decoded ce-connectionState); nil when there is none. To change it,
	// use the state methods of ConnectResponse or EventResponse.
	State State

	// Signature is the raw ce-signature header. The handler has already
	// checked it unless validation was turned off.
	Signature Signature

	SpecVersion string    // ce-specversion
	AWPSVersion string    // ce-awpsversion
	Type        string    // ce-type, e.g. "azure.webpubsub.user.message"
	Source      string    // ce-source, e.g. "/hubs/chat/client/<connection id>"
	ID          string    // ce-id
	Time        time.Time // ce-time; zero when absent or not a recognised timestamp
}

// Signature is a ce-signature header value: "sha256=<hex>" per access key,
// comma-separated. A signature stays valid for its connection id, so it is
// as sensitive as a token: every fmt verb prints it redacted; convert it
// with string(sig) to see the value.
type Signature string

// String returns "[REDACTED]" (or "" for an empty signature).
func (s Signature) String() string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// GoString is String, so %#v does not reveal the value either.
func (s Signature) GoString() string { return s.String() }

// Format makes every fmt verb print the redacted form.
func (s Signature) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// ConnectRequest is the blocking connect event: a client asks to connect.
type ConnectRequest struct {
	ConnectionContext
	// Claims of the client's access token, by claim type. A claim given once
	// is a one-element slice.
	Claims map[string][]string
	// Query holds the query parameters of the client's connect URL.
	Query map[string][]string
	// Headers holds the HTTP headers of the client's WebSocket request.
	Headers map[string][]string
	// Subprotocols the client offered, in its order of preference.
	Subprotocols []string
	// ClientCertificates the client presented, when client certificates are
	// enabled on the service.
	ClientCertificates []ClientCertificate
	// MQTT is what an MQTT client's CONNECT packet said (the body's mqtt
	// object); nil for WebSocket clients. Reject an MQTT client with
	// RejectMQTT to choose its CONNACK code; Reject works too and sends
	// the code the official handlers map its status to.
	MQTT *MQTTConnectProperties
}

// ClientCertificate is a client certificate presented on connect.
type ClientCertificate struct {
	Thumbprint string // SHA-1 thumbprint
	Content    string // PEM; empty when the service does not forward it
}

// ConnectedEvent is the non-blocking connected event: a client completed its
// WebSocket handshake.
type ConnectedEvent struct {
	ConnectionContext
}

// DisconnectedEvent is the non-blocking disconnected event.
type DisconnectedEvent struct {
	ConnectionContext
	// Reason is the service's description of why the connection ended;
	// empty for a normal close.
	Reason string
	// MQTT tells how an MQTT client's session ended (the body's mqtt
	// object); nil for WebSocket clients.
	MQTT *MQTTDisconnect
}

// DataType says how a user event's data, or a reply's data, is encoded. It
// matches the client protocol's dataType and the HTTP Content-Type.
type DataType string

// The data types, with the Content-Type each travels as.
const (
	DataText   DataType = "text"   // text/plain (UTF-8)
	DataJSON   DataType = "json"   // application/json
	DataBinary DataType = "binary" // application/octet-stream
)

// UserEvent is a blocking user event.
type UserEvent struct {
	ConnectionContext
	// DataType is taken from the request's Content-Type.
	DataType DataType
	// Data is the body as sent: UTF-8 text, a JSON document (already checked
	// to be valid JSON) or raw bytes.
	Data []byte
}

// Text returns the data as a string.
func (e *UserEvent) Text() string { return string(e.Data) }

// DecodeJSON unmarshals JSON data into v. It fails when the event's data type
// is not DataJSON.
func (e *UserEvent) DecodeJSON(v any) error {
	if e.DataType != DataJSON {
		return fmt.Errorf("eventhandler: event %q carries %s data, not json", e.EventName, e.DataType)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("eventhandler: decode json data of event %q: %w", e.EventName, err)
	}
	return nil
}

// ConnectResponse accepts a connection and tells the service how to set it
// up. Empty fields leave the service's defaults (from the client's token).
// Every string must be valid UTF-8 and each group 1 to 1,024 characters,
// not only whitespace; otherwise the handler answers 500 and logs which
// field is wrong (JSON would turn invalid bytes into U+FFFD, naming another
// user, group or role). Its state methods (SetState, DeleteState, ClearState) change the
// connection state.
type ConnectResponse struct {
	// UserID the connection belongs to. Required for anonymous clients: the
	// service drops a connection without a user id from its token or here.
	UserID string
	// Groups the connection joins right away.
	Groups []string
	// Roles granted to a PubSub client, e.g. "webpubsub.joinLeaveGroup".
	Roles []string
	// Subprotocol chosen for the WebSocket handshake. It must be one of
	// ConnectRequest.Subprotocols; leave it empty to choose none.
	Subprotocol string
	// MQTTUserProperties go to an MQTT 5.0 client in its CONNACK packet;
	// ignored for WebSocket clients.
	MQTTUserProperties []MQTTUserProperty

	StateUpdate
}

// EventResponse is a successful answer to a user event. When DataType or
// Data is set, the service delivers Data to the client as a message from the
// server; its state methods (SetState, DeleteState, ClearState) change the
// connection state.
type EventResponse struct {
	// DataType of Data. The zero value sends binary data.
	DataType DataType
	// Data goes back to the client. With DataJSON it must be a valid JSON
	// document; with DataText or DataJSON, valid UTF-8 (the client gets it
	// in a text frame). Otherwise the handler answers 500 and logs why.
	Data []byte

	StateUpdate
}

// TextReply returns a response that sends s back to the client as text.
func TextReply(s string) *EventResponse {
	return &EventResponse{DataType: DataText, Data: []byte(s)}
}

// BinaryReply returns a response that sends b back to the client as binary
// data.
func BinaryReply(b []byte) *EventResponse {
	return &EventResponse{DataType: DataBinary, Data: b}
}

// JSONReply returns a response that sends v, marshalled with encoding/json,
// back to the client as JSON. The error is the marshalling error, so
// "return eventhandler.JSONReply(v)" works in an OnEvent callback.
func JSONReply(v any) (*EventResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("eventhandler: marshal json reply: %w", err)
	}
	return &EventResponse{DataType: DataJSON, Data: b}, nil
}
