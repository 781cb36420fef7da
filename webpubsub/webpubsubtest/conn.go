package webpubsubtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// WebSocket subprotocols for WithSubprotocol.
const (
	// SubprotocolJSON is json.webpubsub.azure.v1, the default of Connect.
	SubprotocolJSON = "json.webpubsub.azure.v1"
	// SubprotocolReliableJSON is json.reliable.webpubsub.azure.v1: messages
	// carry sequence ids, which the Conn acknowledges.
	SubprotocolReliableJSON = "json.reliable.webpubsub.azure.v1"
	// SubprotocolNone makes a simple WebSocket client that receives raw
	// payloads and can only send events (raw frames).
	SubprotocolNone = ""
)

// DefaultTimeout bounds Next and the acknowledged operations of a Conn
// whose context has no deadline.
const DefaultTimeout = 5 * time.Second

type connectConfig struct {
	roles       []string
	groups      []string
	subprotocol string
	timeout     time.Duration
}

// ConnectOption configures Connect and Dial.
type ConnectOption func(*connectConfig)

// WithRoles gives the client roles, e.g. "webpubsub.joinLeaveGroup" or
// "webpubsub.sendToGroup.chat".
func WithRoles(roles ...string) ConnectOption {
	return func(c *connectConfig) { c.roles = append(c.roles, roles...) }
}

// WithGroups makes the client join groups when it connects.
func WithGroups(groups ...string) ConnectOption {
	return func(c *connectConfig) { c.groups = append(c.groups, groups...) }
}

// WithSubprotocol chooses the client protocol: SubprotocolJSON (default),
// SubprotocolReliableJSON or SubprotocolNone.
func WithSubprotocol(p string) ConnectOption {
	return func(c *connectConfig) { c.subprotocol = p }
}

// WithTimeout sets the Conn's default timeout (DefaultTimeout otherwise).
func WithTimeout(d time.Duration) ConnectOption {
	return func(c *connectConfig) { c.timeout = d }
}

// Message is a message a Conn received from the service.
type Message struct {
	// From is "group" for group messages and "server" for messages sent to
	// all, a user or a connection. Empty on simple WebSocket clients.
	From string
	// Group is the group of a group message.
	Group string
	// FromUserID is the user that published a group message from a client;
	// empty for messages sent over the REST API.
	FromUserID string
	// DataType is how Data was sent: DataJSON, DataText or DataBinary.
	DataType eventhandler.DataType
	// Data is the payload: JSON text, UTF-8 text or the binary bytes
	// (decoded from base64).
	Data []byte
	// SequenceID is set on the reliable subprotocol.
	SequenceID uint64
}

// Text returns the payload as a string.
func (m Message) Text() string { return string(m.Data) }

// DecodeJSON unmarshals a JSON payload into v.
func (m Message) DecodeJSON(v any) error {
	if m.DataType != wire.DataTypeJSON {
		return fmt.Errorf("webpubsubtest: the message has dataType %q, not json", m.DataType)
	}
	return json.Unmarshal(m.Data, v)
}

// Payload is data a Conn sends: build it with Text, JSON or Binary.
type Payload struct {
	dataType string
	data     json.RawMessage
	err      error
}

// Text is a text payload.
func Text(s string) Payload {
	b, _ := json.Marshal(s) // a string always marshals
	return Payload{dataType: wire.DataTypeText, data: b}
}

// JSON is a JSON payload of v (marshalled with encoding/json).
func JSON(v any) Payload {
	b, err := json.Marshal(v)
	return Payload{dataType: wire.DataTypeJSON, data: b, err: err}
}

// Binary is a binary payload.
func Binary(b []byte) Payload {
	enc, _ := json.Marshal(base64.StdEncoding.EncodeToString(b)) // a string always marshals
	return Payload{dataType: wire.DataTypeBinary, data: enc}
}

// AckError is a failed acknowledgement from the service, e.g. Forbidden
// when the client lacks the permission to join a group.
type AckError struct {
	// Name is the error's name: Forbidden, BadRequest,
	// InternalServerError, ...
	Name string
	// Message is the service's description of the error.
	Message string
}

// Error names the ack error and its message.
func (e *AckError) Error() string { return "webpubsubtest: " + e.Name + ": " + e.Message }

// ErrClosed is returned by a Conn whose WebSocket has ended.
var ErrClosed = errors.New("webpubsubtest: the connection is closed")

// Conn is a small WebSocket client of the test server, for asserting what
// the code under test delivered. It is safe for concurrent use.
type Conn struct {
	ws          *websocket.Conn
	id          string
	userID      string
	subprotocol string
	timeout     time.Duration
	done        chan struct{}

	mu       sync.Mutex
	nextAck  uint64
	acks     map[uint64]chan *AckError
	queue    []Message
	arrived  chan struct{} // signalled when queue grows
	readErr  error
	closeMsg string
	maxSeq   uint64
}

// Connect opens a client connection to hub as userID ("" for an anonymous
// client) and closes it when the test ends. It fails the test on error.
func (s *Server) Connect(t testing.TB, hub, userID string, opts ...ConnectOption) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	c, err := s.Dial(ctx, hub, userID, opts...)
	if err != nil {
		t.Fatalf("webpubsubtest: connect to hub %q: %v", hub, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Dial opens a client connection; the caller must Close it.
func (s *Server) Dial(ctx context.Context, hub, userID string, opts ...ConnectOption) (*Conn, error) {
	cfg := connectConfig{subprotocol: SubprotocolJSON, timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	claims := jwt.MapClaims{
		wire.ClaimAudience: s.srv.URL + wire.ClientPathDefault + url.PathEscape(hub),
		wire.ClaimExpiry:   time.Now().Add(time.Hour).Unix(),
		wire.ClaimIssuedAt: time.Now().Unix(),
	}
	if userID != "" {
		claims[wire.ClaimSubject] = userID
	}
	if len(cfg.roles) > 0 {
		claims[wire.ClaimRole] = cfg.roles
	}
	if len(cfg.groups) > 0 {
		claims[wire.ClaimGroup] = cfg.groups
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.key))
	if err != nil {
		return nil, fmt.Errorf("signing the client token: %w", err)
	}
	var protos []string
	if cfg.subprotocol != "" {
		protos = []string{cfg.subprotocol}
	}
	ws, resp, err := websocket.Dial(ctx, s.clientURL(hub, tok), &websocket.DialOptions{Subprotocols: protos, HTTPClient: s.srv.Client()})
	if err != nil {
		return nil, refusedError(resp, err)
	}
	ws.SetReadLimit(-1)
	c := &Conn{
		ws: ws, userID: userID, subprotocol: cfg.subprotocol, timeout: cfg.timeout,
		done: make(chan struct{}), acks: map[uint64]chan *AckError{}, arrived: make(chan struct{}, 1),
	}
	if cfg.subprotocol != SubprotocolNone {
		// The first message is "connected", with the connection id.
		_, b, err := ws.Read(ctx)
		if err != nil {
			_ = ws.CloseNow()
			return nil, fmt.Errorf("waiting for the connected message: %w", err)
		}
		var m struct {
			Event        string `json:"event"`
			ConnectionID string `json:"connectionId"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Event != wire.SystemEventConnected {
			_ = ws.CloseNow()
			return nil, fmt.Errorf("the first message is not connected: %s", b)
		}
		c.id = m.ConnectionID
	}
	go c.readLoop()
	return c, nil
}

// ConnectionID returns the id the service gave the connection (empty for
// SubprotocolNone, whose clients are not told their id).
func (c *Conn) ConnectionID() string { return c.id }

// UserID returns the user the connection belongs to.
func (c *Conn) UserID() string { return c.userID }

// Close closes the connection normally and waits for its reader.
func (c *Conn) Close() error {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.done
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Drop ends the TCP connection abruptly, without a close handshake, as a
// network failure would.
func (c *Conn) Drop() {
	_ = c.ws.CloseNow()
	<-c.done
}

func (c *Conn) readLoop() {
	defer close(c.done)
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			for id, ch := range c.acks {
				ch <- &AckError{Name: "Closed", Message: "the connection closed before the ack arrived"}
				delete(c.acks, id)
			}
			c.mu.Unlock()
			c.signal()
			return
		}
		if c.subprotocol != SubprotocolJSON && c.subprotocol != SubprotocolReliableJSON {
			m := Message{DataType: wire.DataTypeText, Data: b}
			if typ == websocket.MessageBinary {
				m.DataType = wire.DataTypeBinary
			}
			c.push(m)
			continue
		}
		c.handle(b)
	}
}

func (c *Conn) signal() {
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}

func (c *Conn) push(m Message) {
	c.mu.Lock()
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	c.signal()
}

type serverMessage struct {
	Type       string          `json:"type"`
	Event      string          `json:"event"`
	Message    string          `json:"message"`
	AckID      uint64          `json:"ackId"`
	Success    bool            `json:"success"`
	Error      *AckError       `json:"error"`
	From       string          `json:"from"`
	Group      string          `json:"group"`
	FromUserID string          `json:"fromUserId"`
	DataType   string          `json:"dataType"`
	Data       json.RawMessage `json:"data"`
	SequenceID uint64          `json:"sequenceId"`
}

func (c *Conn) handle(b []byte) {
	var m serverMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return
	}
	switch m.Type {
	case wire.TypeAck:
		c.mu.Lock()
		ch := c.acks[m.AckID]
		delete(c.acks, m.AckID)
		c.mu.Unlock()
		if ch != nil {
			if m.Success || (m.Error != nil && m.Error.Name == wire.AckErrorDuplicate) {
				ch <- nil
			} else {
				if m.Error == nil {
					m.Error = &AckError{Name: "Unknown", Message: "the ack reported failure without an error"}
				}
				ch <- m.Error
			}
		}
	case wire.TypeSystem:
		if m.Event == wire.SystemEventDisconnected {
			c.mu.Lock()
			c.closeMsg = m.Message
			c.mu.Unlock()
		}
	case wire.TypeMessage:
		if m.SequenceID != 0 {
			c.mu.Lock()
			dup := m.SequenceID <= c.maxSeq
			if !dup {
				c.maxSeq = m.SequenceID
			}
			c.mu.Unlock()
			if dup {
				return
			}
			_ = c.write(context.Background(), map[string]any{"type": wire.TypeSequenceAck, "sequenceId": m.SequenceID})
		}
		msg := Message{From: m.From, Group: m.Group, FromUserID: m.FromUserID, DataType: eventhandler.DataType(m.DataType), SequenceID: m.SequenceID}
		switch m.DataType {
		case wire.DataTypeText:
			var s string
			_ = json.Unmarshal(m.Data, &s)
			msg.Data = []byte(s)
		case wire.DataTypeBinary, wire.DataTypeProtobuf:
			var s string
			_ = json.Unmarshal(m.Data, &s)
			msg.Data, _ = base64.StdEncoding.DecodeString(s)
		default:
			msg.Data = []byte(m.Data)
		}
		c.push(msg)
	}
}

func (c *Conn) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *Conn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// request sends a message with a fresh ackId and waits for its ack.
func (c *Conn) request(ctx context.Context, m map[string]any) error {
	if c.subprotocol != SubprotocolJSON && c.subprotocol != SubprotocolReliableJSON {
		return errors.New("webpubsubtest: a simple WebSocket client cannot send protocol messages: connect with SubprotocolJSON")
	}
	ch := make(chan *AckError, 1)
	c.mu.Lock()
	if c.readErr != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	c.nextAck++
	id := c.nextAck
	c.acks[id] = ch
	c.mu.Unlock()
	m["ackId"] = id
	if err := c.write(ctx, m); err != nil {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	select {
	case ae := <-ch:
		if ae != nil {
			return ae
		}
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return fmt.Errorf("webpubsubtest: waiting for the ack of %s: %w", m["type"], ctx.Err())
	}
}

// Join joins a group and waits for the service's ack.
func (c *Conn) Join(ctx context.Context, group string) error {
	return c.request(ctx, map[string]any{"type": wire.TypeJoinGroup, "group": group})
}

// Leave leaves a group and waits for the service's ack.
func (c *Conn) Leave(ctx context.Context, group string) error {
	return c.request(ctx, map[string]any{"type": wire.TypeLeaveGroup, "group": group})
}

// SendOptions are options of Conn.SendToGroup.
type SendOptions struct {
	// NoEcho keeps the message from the sending connection.
	NoEcho bool
}

// SendToGroup publishes to a group and waits for the ack. The connection
// needs the webpubsub.sendToGroup role (or a granted permission).
func (c *Conn) SendToGroup(ctx context.Context, group string, p Payload, opts *SendOptions) error {
	if p.err != nil {
		return fmt.Errorf("webpubsubtest: encoding the payload: %w", p.err)
	}
	m := map[string]any{"type": wire.TypeSendToGroup, "group": group, "dataType": p.dataType, "data": p.data}
	if opts != nil && opts.NoEcho {
		m["noEcho"] = true
	}
	return c.request(ctx, m)
}

// SendEvent sends a user event to the service's event handler and waits
// for the ack. On SubprotocolNone it writes the payload as a raw frame.
func (c *Conn) SendEvent(ctx context.Context, event string, p Payload) error {
	if p.err != nil {
		return fmt.Errorf("webpubsubtest: encoding the payload: %w", p.err)
	}
	if c.subprotocol != SubprotocolJSON && c.subprotocol != SubprotocolReliableJSON {
		ctx, cancel := c.bound(ctx)
		defer cancel()
		switch p.dataType {
		case wire.DataTypeBinary:
			var s string
			_ = json.Unmarshal(p.data, &s)
			raw, _ := base64.StdEncoding.DecodeString(s)
			return c.ws.Write(ctx, websocket.MessageBinary, raw)
		case wire.DataTypeText:
			var s string
			_ = json.Unmarshal(p.data, &s)
			return c.ws.Write(ctx, websocket.MessageText, []byte(s))
		}
		return c.ws.Write(ctx, websocket.MessageText, p.data)
	}
	return c.request(ctx, map[string]any{"type": wire.TypeEvent, "event": event, "dataType": p.dataType, "data": p.data})
}

// Receive returns the next data message, waiting until one arrives, the
// connection ends (ErrClosed, wrapped with the close reason) or ctx ends.
func (c *Conn) Receive(ctx context.Context) (Message, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return m, nil
		}
		readErr, reason := c.readErr, c.closeMsg
		c.mu.Unlock()
		if readErr != nil {
			if reason != "" {
				return Message{}, fmt.Errorf("%w: %s", ErrClosed, reason)
			}
			return Message{}, fmt.Errorf("%w: %v", ErrClosed, readErr)
		}
		select {
		case <-c.arrived:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// Next is Receive with the Conn's timeout; it fails the test when no
// message arrives.
func (c *Conn) Next(t testing.TB) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	m, err := c.Receive(ctx)
	if err != nil {
		t.Fatalf("webpubsubtest: connection %s: no message: %v", c.id, err)
	}
	return m
}

// ExpectNoMessage fails the test if a data message arrives within d.
func (c *Conn) ExpectNoMessage(t testing.TB, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.Receive(ctx); err == nil {
		t.Fatalf("webpubsubtest: connection %s: unexpected %s message %q", c.id, m.DataType, m.Data)
	}
}

// CloseStatus waits until the service ends the connection and returns the
// WebSocket close code and the reason of the service's disconnected
// message, if any.
func (c *Conn) CloseStatus(ctx context.Context) (code int, reason string, err error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(websocket.CloseStatus(c.readErr)), c.closeMsg, nil
}
