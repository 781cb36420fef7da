package webpubsubtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
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
type AckError = wsclient.AckError

// ErrClosed is returned by a Conn whose WebSocket has ended.
var ErrClosed = errors.New("webpubsubtest: the connection is closed")

// Conn is a WebSocket client of the test server, for asserting what the
// code under test delivered. The JSON subprotocols run on a
// wsclient.Client that does not reconnect (a test sees every close);
// SubprotocolNone exchanges raw frames. It is safe for concurrent use.
type Conn struct {
	client      *wsclient.Client // the JSON subprotocols
	raw         *websocket.Conn  // SubprotocolNone
	userID      string
	subprotocol string
	timeout     time.Duration

	dialer  *trackingDialer
	mu      sync.Mutex
	code    int    // close code, once the connection ended
	reason  string // the service's disconnected message
	rawMsgs chan Message
	rawDone chan struct{}
	rawErr  error
}

// trackingDialer remembers the TCP connections of a Conn, so that Drop can
// break them, and refuses new ones after Drop.
type trackingDialer struct {
	mu      sync.Mutex
	conns   []net.Conn
	dropped bool
}

func (d *trackingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	dropped := d.dropped
	d.mu.Unlock()
	if dropped {
		return nil, errors.New("webpubsubtest: the connection was dropped")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.conns = append(d.conns, c)
	d.mu.Unlock()
	return c, nil
}

func (d *trackingDialer) drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropped = true
	for _, c := range d.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
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
	c, err := s.dialURL(ctx, s.clientURL(hub, tok), cfg)
	if c != nil && c.userID == "" {
		c.userID = userID
	}
	return c, err
}

// ConnectURL opens a client connection with a client access URL, e.g.
// one the code under test handed out with webpubsub.Client's
// ClientAccessToken, and closes it when the test ends. WithSubprotocol and
// WithTimeout apply; roles and groups come from the URL's token. It fails
// the test on error.
func (s *Server) ConnectURL(t testing.TB, clientURL string, opts ...ConnectOption) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	c, err := s.DialURL(ctx, clientURL, opts...)
	if err != nil {
		t.Fatalf("webpubsubtest: connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// DialURL is ConnectURL for use outside a test; the caller must Close the
// connection.
func (s *Server) DialURL(ctx context.Context, clientURL string, opts ...ConnectOption) (*Conn, error) {
	cfg := connectConfig{subprotocol: SubprotocolJSON, timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.roles) > 0 || len(cfg.groups) > 0 {
		return nil, errors.New("webpubsubtest: WithRoles and WithGroups do not apply to DialURL: the URL's token holds the roles and groups")
	}
	return s.dialURL(ctx, clientURL, cfg)
}

func (s *Server) dialURL(ctx context.Context, clientURL string, cfg connectConfig) (*Conn, error) {
	d := &trackingDialer{}
	tr := s.srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = d.dial
	hc := &http.Client{Transport: tr}
	c := &Conn{subprotocol: cfg.subprotocol, timeout: cfg.timeout, dialer: d}
	if cfg.subprotocol != SubprotocolJSON && cfg.subprotocol != SubprotocolReliableJSON {
		var protos []string
		if cfg.subprotocol != "" {
			protos = []string{cfg.subprotocol}
		}
		ws, _, err := websocket.Dial(ctx, clientURL, &websocket.DialOptions{Subprotocols: protos, HTTPClient: hc})
		if err != nil {
			return nil, err
		}
		ws.SetReadLimit(-1)
		c.raw, c.rawMsgs, c.rawDone = ws, make(chan Message, 1024), make(chan struct{})
		go c.readRaw()
		return c, nil
	}
	client, err := wsclient.New(clientURL, &wsclient.Options{
		Protocol:             wsclient.Protocol(cfg.subprotocol),
		DisableAutoReconnect: true,
		HTTPClient:           hc,
		ReadLimit:            1 << 30,
		ReceiveQueue:         1 << 16,
		OnDisconnected: func(ev wsclient.DisconnectedEvent) {
			c.mu.Lock()
			c.code, c.reason = int(websocket.CloseStatus(ev.Err)), ev.Message
			c.mu.Unlock()
		},
	})
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	c.client, c.userID = client, client.UserID()
	return c, nil
}

// ConnectionID returns the id the service gave the connection (empty for
// SubprotocolNone, whose clients are not told their id).
func (c *Conn) ConnectionID() string {
	if c.client == nil {
		return ""
	}
	return c.client.ConnectionID()
}

// UserID returns the user the connection belongs to.
func (c *Conn) UserID() string { return c.userID }

// Close closes the connection normally and waits for its goroutines.
func (c *Conn) Close() error {
	if c.raw != nil {
		err := c.raw.Close(websocket.StatusNormalClosure, "")
		<-c.rawDone
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		return err
	}
	c.client.Stop()
	return nil
}

// Drop ends the TCP connection abruptly, without a close handshake, as a
// network failure would. The Conn does not recover: a reliable
// connection stays in the service for its recovery window.
func (c *Conn) Drop() {
	c.dialer.drop()
	if c.raw != nil {
		_ = c.raw.CloseNow()
		<-c.rawDone
		return
	}
	c.client.Stop()
}

func (c *Conn) readRaw() {
	defer close(c.rawDone)
	for {
		typ, b, err := c.raw.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.rawErr, c.code = err, int(websocket.CloseStatus(err))
			c.mu.Unlock()
			return
		}
		m := Message{DataType: wire.DataTypeText, Data: b}
		if typ == websocket.MessageBinary {
			m.DataType = wire.DataTypeBinary
		}
		select {
		case c.rawMsgs <- m:
		default:
			c.mu.Lock()
			c.rawErr = errors.New("webpubsubtest: more than 1024 raw messages unread")
			c.mu.Unlock()
			_ = c.raw.CloseNow()
			return
		}
	}
}

func (c *Conn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

var errSimple = errors.New("webpubsubtest: a simple WebSocket client cannot send protocol messages: connect with SubprotocolJSON")

// closedErr turns the client's stop into ErrClosed with the reason.
func (c *Conn) closedErr(err error) error {
	if !errors.Is(err, wsclient.ErrStopped) {
		return err
	}
	c.mu.Lock()
	reason := c.reason
	c.mu.Unlock()
	if reason != "" {
		return fmt.Errorf("%w: %s", ErrClosed, reason)
	}
	return fmt.Errorf("%w: %v", ErrClosed, err)
}

// Join joins a group and waits for the service's ack.
func (c *Conn) Join(ctx context.Context, group string) error {
	if c.client == nil {
		return errSimple
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.closedErr(c.client.JoinGroup(ctx, group))
}

// Leave leaves a group and waits for the service's ack.
func (c *Conn) Leave(ctx context.Context, group string) error {
	if c.client == nil {
		return errSimple
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.closedErr(c.client.LeaveGroup(ctx, group))
}

// SendOptions are options of Conn.SendToGroup.
type SendOptions struct {
	// NoEcho keeps the message from the sending connection.
	NoEcho bool
}

// payload converts p for wsclient.
func (p Payload) payload() wsclient.Payload {
	switch p.dataType {
	case wire.DataTypeText:
		var s string
		_ = json.Unmarshal(p.data, &s)
		return wsclient.Text(s)
	case wire.DataTypeBinary:
		return wsclient.Binary(p.bytes())
	}
	return wsclient.RawJSON(p.data)
}

// bytes returns the raw bytes of a binary payload, the text of a text
// one and the JSON of a JSON one.
func (p Payload) bytes() []byte {
	switch p.dataType {
	case wire.DataTypeBinary:
		var s string
		_ = json.Unmarshal(p.data, &s)
		raw, _ := base64.StdEncoding.DecodeString(s)
		return raw
	case wire.DataTypeText:
		var s string
		_ = json.Unmarshal(p.data, &s)
		return []byte(s)
	}
	return p.data
}

// SendToGroup publishes to a group and waits for the ack. The connection
// needs the webpubsub.sendToGroup role (or a granted permission).
func (c *Conn) SendToGroup(ctx context.Context, group string, p Payload, opts *SendOptions) error {
	if p.err != nil {
		return fmt.Errorf("webpubsubtest: encoding the payload: %w", p.err)
	}
	if c.client == nil {
		return errSimple
	}
	var o wsclient.SendToGroupOptions
	if opts != nil {
		o.NoEcho = opts.NoEcho
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.closedErr(c.client.SendToGroup(ctx, group, p.payload(), &o))
}

// SendEvent sends a user event to the service's event handler and waits
// for the ack. On SubprotocolNone it writes the payload as a raw frame.
func (c *Conn) SendEvent(ctx context.Context, event string, p Payload) error {
	if p.err != nil {
		return fmt.Errorf("webpubsubtest: encoding the payload: %w", p.err)
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	if c.raw != nil {
		typ := websocket.MessageText
		if p.dataType == wire.DataTypeBinary {
			typ = websocket.MessageBinary
		}
		return c.raw.Write(ctx, typ, p.bytes())
	}
	return c.closedErr(c.client.SendEvent(ctx, event, p.payload(), nil))
}

// Receive returns the next data message, waiting until one arrives, the
// connection ends (ErrClosed, wrapped with the close reason) or ctx ends.
func (c *Conn) Receive(ctx context.Context) (Message, error) {
	if c.raw != nil {
		select {
		case m := <-c.rawMsgs:
			return m, nil
		default:
		}
		select {
		case m := <-c.rawMsgs:
			return m, nil
		case <-c.rawDone:
			c.mu.Lock()
			err := c.rawErr
			c.mu.Unlock()
			return Message{}, fmt.Errorf("%w: %v", ErrClosed, err)
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
	m, err := c.client.Receive(ctx)
	if err != nil {
		return Message{}, c.closedErr(err)
	}
	return Message{From: m.From, Group: m.Group, FromUserID: m.FromUserID, DataType: eventhandler.DataType(m.DataType), Data: m.Bytes(), SequenceID: m.SequenceID}, nil
}

// Next is Receive with the Conn's timeout; it fails the test when no
// message arrives.
func (c *Conn) Next(t testing.TB) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	m, err := c.Receive(ctx)
	if err != nil {
		t.Fatalf("webpubsubtest: connection %s: no message: %v", c.ConnectionID(), err)
	}
	return m
}

// ExpectNoMessage fails the test if a data message arrives within d.
func (c *Conn) ExpectNoMessage(t testing.TB, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.Receive(ctx); err == nil {
		t.Fatalf("webpubsubtest: connection %s: unexpected %s message %q", c.ConnectionID(), m.DataType, m.Data)
	}
}

// CloseStatus waits until the service ends the connection and returns the
// WebSocket close code and the reason of the service's disconnected
// message, if any.
func (c *Conn) CloseStatus(ctx context.Context) (code int, reason string, err error) {
	var done <-chan struct{} = c.rawDone
	if c.client != nil {
		done = c.client.Done()
	}
	select {
	case <-done:
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason, nil
}
