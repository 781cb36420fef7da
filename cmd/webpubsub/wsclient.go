package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// wsReadLimit bounds one incoming frame: a 1 MiB binary message grows by a
// third in base64, plus its envelope.
const wsReadLimit = 4 << 20

// inbound is one message from the service in json.webpubsub.azure.v1.
type inbound struct {
	Type         string          `json:"type"`
	Event        string          `json:"event,omitempty"`
	UserID       string          `json:"userId,omitempty"`
	ConnectionID string          `json:"connectionId,omitempty"`
	Message      string          `json:"message,omitempty"`
	From         string          `json:"from,omitempty"`
	Group        string          `json:"group,omitempty"`
	FromUserID   string          `json:"fromUserId,omitempty"`
	DataType     string          `json:"dataType,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
	AckID        *uint64         `json:"ackId,omitempty"`
	Success      *bool           `json:"success,omitempty"`
	Error        *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error,omitempty"`

	raw []byte // the frame as received
}

// text returns the data as a human reads it: the string of a text message,
// the compact JSON of a json message, the base64 of a binary one.
func (m inbound) text() string {
	switch m.DataType {
	case wire.DataTypeText, wire.DataTypeBinary, wire.DataTypeProtobuf:
		// A JSON string: the text, or the base64 of the bytes.
		var s string
		if json.Unmarshal(m.Data, &s) == nil {
			return s
		}
	}
	return string(m.Data)
}

// line renders a data message on one line: from, group, dataType, data.
// Text is quoted so that line breaks in it cannot break the line.
func (m inbound) line() string {
	from := m.From
	if m.From == wire.FromGroup {
		from += " " + strconv.Quote(m.Group)
		if m.FromUserID != "" {
			from += " (user " + strconv.Quote(m.FromUserID) + ")"
		}
	}
	data := m.text()
	if m.DataType == wire.DataTypeText {
		data = strconv.Quote(data)
	}
	return fmt.Sprintf("from %s, %s: %s", from, m.DataType, data)
}

// wsClient is a json.webpubsub.azure.v1 WebSocket client: it reads in the
// background, routes acks to their waiters and queues everything else.
type wsClient struct {
	conn         *websocket.Conn
	ConnectionID string
	UserID       string

	messages chan inbound // data and system messages, in arrival order
	done     chan struct{}
	readErr  error // set before done is closed

	nextAck atomic.Uint64
	mu      sync.Mutex
	waiters map[uint64]chan inbound
}

// dialWebPubSub connects to url (a client access URL) with the JSON
// subprotocol and waits for the "connected" system message.
func dialWebPubSub(ctx context.Context, url string) (*wsClient, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSON}})
	if err != nil {
		return nil, fmt.Errorf("connect the WebSocket client: %s", scrubSecrets(err.Error()))
	}
	if conn.Subprotocol() != wire.SubprotocolJSON {
		conn.Close(websocket.StatusProtocolError, "subprotocol")
		return nil, fmt.Errorf("the service did not accept the %s subprotocol", wire.SubprotocolJSON)
	}
	conn.SetReadLimit(wsReadLimit)
	c := &wsClient{
		conn:     conn,
		messages: make(chan inbound, 1024),
		done:     make(chan struct{}),
		waiters:  map[uint64]chan inbound{},
	}
	first, err := c.read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("wait for the connected message: %w", err)
	}
	if first.Type != wire.TypeSystem || first.Event != wire.SystemEventConnected {
		conn.CloseNow()
		return nil, fmt.Errorf("the service's first message was %q, not a connected system message", first.Type)
	}
	c.ConnectionID, c.UserID = first.ConnectionID, first.UserID
	go c.readLoop()
	return c, nil
}

func (c *wsClient) read(ctx context.Context) (inbound, error) {
	var m inbound
	typ, b, err := c.conn.Read(ctx)
	if err != nil {
		return m, err
	}
	if typ != websocket.MessageText {
		return m, errors.New("the service sent a binary frame on the JSON subprotocol")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("the service sent a frame that is not JSON: %w", err)
	}
	m.raw = b
	return m, nil
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	defer close(c.messages)
	for {
		m, err := c.read(context.Background())
		if err != nil {
			c.readErr = err
			return
		}
		if m.Type == wire.TypeAck && m.AckID != nil {
			c.mu.Lock()
			w := c.waiters[*m.AckID]
			delete(c.waiters, *m.AckID)
			c.mu.Unlock()
			if w != nil {
				w <- m
				continue
			}
		}
		select {
		case c.messages <- m:
		default:
			// Nobody reads fast enough: drop the connection rather than
			// grow without bound or lose messages silently.
			c.readErr = errors.New("more than 1024 messages waiting to be read")
			c.conn.Close(websocket.StatusPolicyViolation, "reader too slow")
			return
		}
	}
}

// err returns why reading stopped.
func (c *wsClient) err() error {
	<-c.done
	var ce websocket.CloseError
	if errors.As(c.readErr, &ce) {
		if ce.Reason != "" {
			return fmt.Errorf("the service closed the connection (%d %s)", ce.Code, ce.Reason)
		}
		return fmt.Errorf("the service closed the connection (%d)", ce.Code)
	}
	return c.readErr
}

// request sends msg with a fresh ackId and waits for its ack.
func (c *wsClient) request(ctx context.Context, msg map[string]any) error {
	id := c.nextAck.Add(1)
	msg["ackId"] = id
	w := make(chan inbound, 1)
	c.mu.Lock()
	c.waiters[id] = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, id)
		c.mu.Unlock()
	}()
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("send %s: %w", msg["type"], err)
	}
	select {
	case ack := <-w:
		if ack.Success != nil && *ack.Success {
			return nil
		}
		if ack.Error != nil {
			return fmt.Errorf("%s refused: %s: %s", msg["type"], ack.Error.Name, ack.Error.Message)
		}
		return fmt.Errorf("%s refused", msg["type"])
	case <-c.done:
		return fmt.Errorf("%s: no ack: %w", msg["type"], c.err())
	case <-ctx.Done():
		return fmt.Errorf("%s: no ack: %w", msg["type"], ctx.Err())
	}
}

// joinGroup joins group; the token needs a joinLeaveGroup role for it.
func (c *wsClient) joinGroup(ctx context.Context, group string) error {
	return c.request(ctx, map[string]any{"type": wire.TypeJoinGroup, "group": group})
}

// sendToGroup publishes a text message to group; the connection needs the
// sendToGroup permission for it.
func (c *wsClient) sendToGroup(ctx context.Context, group, text string) error {
	return c.request(ctx, map[string]any{"type": wire.TypeSendToGroup, "group": group, "dataType": wire.DataTypeText, "data": text})
}

// close ends the connection normally.
func (c *wsClient) close() {
	c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.done
}
