package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// wsReadLimit bounds one incoming frame: a 1 MiB binary message grows by a
// third in base64, plus its envelope.
const wsReadLimit = 4 << 20

// inbound is a message from the service in its JSON format, as listen
// prints it.
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

	raw []byte // the message as JSON
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
// Text is quoted and JSON compacted so that line breaks in them cannot
// break the line; control characters are escaped.
func (m inbound) line() string {
	from := m.From
	if m.From == wire.FromGroup {
		from += " " + strconv.Quote(m.Group)
		if m.FromUserID != "" {
			from += " (user " + strconv.Quote(m.FromUserID) + ")"
		}
	}
	data := m.text()
	switch m.DataType {
	case wire.DataTypeText:
		data = strconv.Quote(data)
	case wire.DataTypeJSON:
		// JSON may hold line breaks between its tokens.
		var b bytes.Buffer
		if json.Compact(&b, m.Data) == nil {
			data = b.String()
		}
	}
	// The service names the sender and the data type: escape what a
	// hostile one could use to drive the terminal.
	return escapeControls(fmt.Sprintf("from %s, %s: %s", from, m.DataType, data))
}

// wsClient is a listener on a wsclient.Client (reliable protocol: a
// dropped connection is recovered; a lost one ends the listener). It
// hands data messages, and the disconnected system event with the
// service's reason, to messages in arrival order.
type wsClient struct {
	c            *wsclient.Client
	ConnectionID string
	UserID       string

	messages chan inbound // closed when the client stopped
	quit     chan struct{}
	quitOnce sync.Once
	lost     error // why the connection was lost; set before messages closes
}

// dialWebPubSub connects to url (a client access URL) and waits for the
// service to confirm the connection.
func dialWebPubSub(ctx context.Context, url string) (*wsClient, error) {
	l := &wsClient{messages: make(chan inbound, 1024), quit: make(chan struct{})}
	put := func(m inbound) {
		select {
		case l.messages <- m:
		case <-l.quit:
		}
	}
	c, err := wsclient.New(url, &wsclient.Options{
		DisableAutoReconnect: true,
		ReadLimit:            wsReadLimit,
		OnMessage:            func(m wsclient.Message) { put(fromMessage(m)) },
		OnDisconnected: func(ev wsclient.DisconnectedEvent) {
			l.lost = ev.Err
			put(inbound{Type: wire.TypeSystem, Event: wire.SystemEventDisconnected, Message: ev.Message})
		},
		OnStopped: func(wsclient.StoppedEvent) { close(l.messages) },
	})
	if err == nil {
		err = c.Start(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("connect the WebSocket client: %s", scrubSecrets(err.Error()))
	}
	l.c, l.ConnectionID, l.UserID = c, c.ConnectionID(), c.UserID()
	return l, nil
}

// fromMessage renders a received message in the service's JSON format.
func fromMessage(m wsclient.Message) inbound {
	in := inbound{Type: wire.TypeMessage, From: m.From, Group: m.Group, FromUserID: m.FromUserID, DataType: string(m.DataType)}
	switch d := m.Data.(type) {
	case json.RawMessage:
		in.Data = d
	case string:
		in.Data, _ = json.Marshal(d) // a string always marshals
	case []byte:
		in.Data, _ = json.Marshal(base64.StdEncoding.EncodeToString(d))
	}
	in.raw, _ = json.Marshal(in) // only strings and valid JSON: always marshals
	return in
}

// err returns why the listener ended.
func (c *wsClient) err() error {
	<-c.c.Done()
	if c.lost != nil {
		return fmt.Errorf("the connection was lost: %s", scrubSecrets(c.lost.Error()))
	}
	return errors.New("the connection ended")
}

// joinGroup joins group; the token needs a joinLeaveGroup role for it.
func (c *wsClient) joinGroup(ctx context.Context, group string) error {
	return c.c.JoinGroup(ctx, group)
}

// sendToGroup publishes a text message to group; the connection needs the
// sendToGroup permission for it.
func (c *wsClient) sendToGroup(ctx context.Context, group, text string) error {
	return c.c.SendToGroup(ctx, group, wsclient.Text(text), nil)
}

// close ends the connection normally.
func (c *wsClient) close() {
	c.quitOnce.Do(func() { close(c.quit) })
	c.c.Stop()
}
