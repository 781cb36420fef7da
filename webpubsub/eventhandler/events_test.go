package eventhandler_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

const (
	conn1      = "0f9c97a2-f0bf-4706-afe8-7a14e0797b11"
	simpleConn = "X2tqL8kQ1V6e3rYwZ0bN5g"
	stateKeyA  = "eyJrZXkiOiJhIn0=" // base64 of {"key":"a"}, as in the service's docs
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// bothSignatures is the ce-signature value of the testdata requests.
func bothSignatures(connectionID string) string {
	return sign(primaryKey, connectionID) + "," + sign(secondaryKey, connectionID)
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestConnectFullRequest(t *testing.T) {
	var c calls
	resp := &eventhandler.ConnectResponse{
		UserID:      "ana",
		Groups:      []string{"lobby", "news"},
		Roles:       []string{"webpubsub.joinLeaveGroup.lobby", "webpubsub.sendToGroup.lobby"},
		Subprotocol: "json.webpubsub.azure.v1",
	}
	if err := resp.SetState("room", "lobby"); err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, c.handlers(resp, nil, nil))

	got := serve(h, loadRequest(t, "connect.http"))

	wantResult := result{
		Status:          http.StatusOK,
		ContentType:     "application/json; charset=utf-8",
		ConnectionState: b64(`{"room":"lobby"}`),
		Body: `{"userId":"ana","groups":["lobby","news"],` +
			`"roles":["webpubsub.joinLeaveGroup.lobby","webpubsub.sendToGroup.lobby"],"subprotocol":"json.webpubsub.azure.v1"}`,
	}
	if diff := cmp.Diff(wantResult, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	want := &eventhandler.ConnectRequest{
		ConnectionContext: eventhandler.ConnectionContext{
			Hub:          "chat",
			ConnectionID: conn1,
			UserID:       "ana",
			EventName:    "connect",
			Origin:       serviceHost,
			Signature:    eventhandler.Signature(bothSignatures(conn1)),
			SpecVersion:  "1.0",
			AWPSVersion:  "1.0",
			Type:         "azure.webpubsub.sys.connect",
			Source:       "/hubs/chat/client/" + conn1,
			ID:           "8e3a1f0c-3b7e-4c43-9a4e-1a3c9d7c2b51",
			Time:         at("2021-01-01T00:00:00Z"),
		},
		Claims: map[string][]string{
			"sub":  {"ana"},
			"role": {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"},
			"aud":  {"https://demo.webpubsub.azure.com/client/hubs/chat"},
		},
		Query: map[string][]string{
			"access_token": {"<token>"},
			"room":         {"lobby"},
		},
		Headers: map[string][]string{
			"Origin":                 {"https://app.example.com"},
			"Sec-WebSocket-Protocol": {"json.webpubsub.azure.v1, json.reliable.webpubsub.azure.v1"},
		},
		Subprotocols: []string{"json.webpubsub.azure.v1", "json.reliable.webpubsub.azure.v1"},
		ClientCertificates: []eventhandler.ClientCertificate{{
			Thumbprint: "3F6C2B1E9A0D47C5B8E1F2A3D4C5B6A7980F1E2D",
			Content:    "-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgIU\r\n-----END CERTIFICATE-----",
		}},
	}
	if c.n != 1 {
		t.Fatalf("OnConnect called %d times, want 1", c.n)
	}
	if diff := cmp.Diff(want, c.connect); diff != "" {
		t.Errorf("ConnectRequest (-want +got):\n%s", diff)
	}
}

// The request shape of @azure/web-pubsub-express's tests: ce-event instead
// of ce-eventName, an HTTP date in ce-time, lowercase header names, "{}".
func TestConnectExpressTestShape(t *testing.T) {
	var c calls
	h, err := eventhandler.New("hub", c.handlers(nil, nil, nil),
		eventhandler.WithAccessKeys(primaryKey), eventhandler.WithAllowedOrigins("xxx.webpubsub.azure.com"))
	if err != nil {
		t.Fatal(err)
	}
	got := serve(h, loadRequest(t, "connect_express.http"))
	if diff := cmp.Diff(result{Status: http.StatusNoContent}, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	want := &eventhandler.ConnectRequest{ConnectionContext: eventhandler.ConnectionContext{
		Hub:          "hub",
		ConnectionID: "conn1",
		EventName:    "connect",
		Origin:       "xxx.webpubsub.azure.com",
		Signature:    eventhandler.Signature(sign(primaryKey, "conn1")),
		SpecVersion:  "1.0",
		AWPSVersion:  "1.0",
		Type:         "azure.webpubsub.sys.connect",
		Source:       "/hubs/hub/client/conn1",
		ID:           "1",
		Time:         at("2021-01-01T00:00:00Z"),
	}}
	if diff := cmp.Diff(want, c.connect); diff != "" {
		t.Errorf("ConnectRequest (-want +got):\n%s", diff)
	}
}

func TestConnectResponses(t *testing.T) {
	withState := &eventhandler.ConnectResponse{}
	if err := withState.SetState("n", 1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		handlers func(*calls) eventhandler.Handlers
		want     result
	}{
		{
			name:     "no OnConnect accepts",
			handlers: func(*calls) eventhandler.Handlers { return eventhandler.Handlers{} },
			want:     result{Status: http.StatusNoContent},
		},
		{
			name:     "nil response accepts unchanged",
			handlers: func(c *calls) eventhandler.Handlers { return c.handlers(nil, nil, nil) },
			want:     result{Status: http.StatusNoContent},
		},
		{
			name:     "state only",
			handlers: func(c *calls) eventhandler.Handlers { return c.handlers(withState, nil, nil) },
			want:     result{Status: http.StatusNoContent, ConnectionState: b64(`{"n":1}`)},
		},
		{
			name: "user id only",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(&eventhandler.ConnectResponse{UserID: "bo"}, nil, nil)
			},
			want: result{Status: http.StatusOK, ContentType: "application/json; charset=utf-8", Body: `{"userId":"bo"}`},
		},
		{
			name: "reject 401",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(nil, nil, eventhandler.Reject(http.StatusUnauthorized, "token revoked"))
			},
			want: result{Status: http.StatusUnauthorized, ContentType: "text/plain; charset=utf-8", Body: "token revoked\n"},
		},
		{
			name: "reject 403 wrapped",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(nil, nil, fmt.Errorf("check: %w", eventhandler.Reject(http.StatusForbidden, "banned")))
			},
			want: result{Status: http.StatusForbidden, ContentType: "text/plain; charset=utf-8", Body: "banned\n"},
		},
		{
			name: "reject 400",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(nil, nil, eventhandler.Reject(http.StatusBadRequest, "room missing"))
			},
			want: result{Status: http.StatusBadRequest, ContentType: "text/plain; charset=utf-8", Body: "room missing\n"},
		},
		{
			name: "reject 500",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(nil, nil, eventhandler.Reject(http.StatusInternalServerError, "try later"))
			},
			want: result{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: "try later\n"},
		},
		{
			name: "reject other 4xx maps to 400",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(nil, nil, eventhandler.Reject(http.StatusTooManyRequests, "slow down"))
			},
			want: result{Status: http.StatusBadRequest, ContentType: "text/plain; charset=utf-8", Body: "slow down\n"},
		},
		{
			name: "reject other status maps to 500",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(nil, nil, eventhandler.Reject(http.StatusOK, "odd"))
			},
			want: result{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: "odd\n"},
		},
		{
			name:     "plain error hides details",
			handlers: func(c *calls) eventhandler.Handlers { return c.handlers(nil, nil, errBoom) },
			want:     result{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: "the event handler failed\n"},
		},
		{
			name: "subprotocol not offered",
			handlers: func(c *calls) eventhandler.Handlers {
				return c.handlers(&eventhandler.ConnectResponse{Subprotocol: "mqtt"}, nil, nil)
			},
			want: result{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: "the event handler failed\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			h := newHandler(t, tt.handlers(&c))
			if diff := cmp.Diff(tt.want, serve(h, loadRequest(t, "connect.http"))); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConnected(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	if diff := cmp.Diff(result{Status: http.StatusOK}, serve(h, loadRequest(t, "connected.http"))); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	want := &eventhandler.ConnectedEvent{ConnectionContext: eventhandler.ConnectionContext{
		Hub:          "chat",
		ConnectionID: conn1,
		UserID:       "ana",
		EventName:    "connected",
		Subprotocol:  "json.webpubsub.azure.v1",
		Origin:       serviceHost,
		State:        eventhandler.State{"key": json.RawMessage(`"a"`)},
		Signature:    eventhandler.Signature(bothSignatures(conn1)),
		SpecVersion:  "1.0",
		AWPSVersion:  "1.0",
		Type:         "azure.webpubsub.sys.connected",
		Source:       "/hubs/chat/client/" + conn1,
		ID:           "2",
		Time:         at("2021-01-01T00:00:01Z"),
	}}
	if diff := cmp.Diff(want, c.conn); diff != "" {
		t.Errorf("ConnectedEvent (-want +got):\n%s", diff)
	}
}

func TestDisconnected(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	if diff := cmp.Diff(result{Status: http.StatusOK}, serve(h, loadRequest(t, "disconnected.http"))); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	want := &eventhandler.DisconnectedEvent{
		ConnectionContext: eventhandler.ConnectionContext{
			Hub:          "chat",
			ConnectionID: conn1,
			UserID:       "ana",
			EventName:    "disconnected",
			Subprotocol:  "json.webpubsub.azure.v1",
			Origin:       serviceHost,
			State:        eventhandler.State{"key": json.RawMessage(`"a"`)},
			Signature:    eventhandler.Signature(bothSignatures(conn1)),
			SpecVersion:  "1.0",
			AWPSVersion:  "1.0",
			Type:         "azure.webpubsub.sys.disconnected",
			Source:       "/hubs/chat/client/" + conn1,
			ID:           "5",
			Time:         at("2021-01-01T00:10:00Z"),
		},
		Reason: "The client closed the connection with status 1000.",
	}
	if diff := cmp.Diff(want, c.disc); diff != "" {
		t.Errorf("DisconnectedEvent (-want +got):\n%s", diff)
	}
}

func TestNotificationsWithoutCallbacks(t *testing.T) {
	h := newHandler(t, eventhandler.Handlers{})
	for _, name := range []string{"connected.http", "disconnected.http"} {
		if diff := cmp.Diff(result{Status: http.StatusOK}, serve(h, loadRequest(t, name))); diff != "" {
			t.Errorf("%s: response (-want +got):\n%s", name, diff)
		}
	}
}

func TestDisconnectedEmptyBody(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	req := loadRequest(t, "disconnected.http")
	req.Body, req.ContentLength = http.NoBody, 0
	if got := serve(h, req); got.Status != http.StatusOK {
		t.Fatalf("status %d, want 200 (%s)", got.Status, got.Body)
	}
	if c.disc == nil || c.disc.Reason != "" {
		t.Errorf("DisconnectedEvent = %+v, want one with an empty reason", c.disc)
	}
}

func userContext(file string) eventhandler.ConnectionContext {
	switch file {
	case "message_text.http", "message_binary.http":
		id := map[string]string{"message_text.http": "3", "message_binary.http": "4"}[file]
		ts := map[string]string{"message_text.http": "2021-01-01T00:00:02Z", "message_binary.http": "2021-01-01T00:00:03Z"}[file]
		return eventhandler.ConnectionContext{
			Hub: "chat", ConnectionID: simpleConn, UserID: "bo", EventName: "message", Origin: serviceHost,
			Signature: eventhandler.Signature(bothSignatures(simpleConn)), SpecVersion: "1.0", AWPSVersion: "1.0",
			Type: "azure.webpubsub.user.message", Source: "/hubs/chat/client/" + simpleConn, ID: id, Time: at(ts),
		}
	}
	c := eventhandler.ConnectionContext{
		Hub: "chat", ConnectionID: conn1, UserID: "ana", Subprotocol: "json.webpubsub.azure.v1", Origin: serviceHost,
		Signature: eventhandler.Signature(bothSignatures(conn1)), SpecVersion: "1.0", AWPSVersion: "1.0", Source: "/client/" + conn1,
	}
	switch file {
	case "event_json.http":
		c.EventName, c.ID, c.Time = "chat", "6", at("2021-01-01T00:00:04Z")
		c.State = eventhandler.State{"key": json.RawMessage(`"a"`)}
	case "event_text.http":
		c.EventName, c.ID, c.Time = "greet", "7", at("2021-01-01T00:00:05Z")
	case "event_binary.http":
		c.EventName, c.ID, c.Time = "upload", "8", at("2021-01-01T00:00:06Z")
	}
	c.Type = "azure.webpubsub.user." + c.EventName
	return c
}

func TestUserEvents(t *testing.T) {
	tests := []struct {
		file     string
		dataType eventhandler.DataType
		data     string
	}{
		{"message_text.http", eventhandler.DataText, "héllo from a simple WebSocket client"},
		{"message_binary.http", eventhandler.DataBinary, "\x00\x01\x02\xff\xfe\x7f\x80A"},
		{"event_json.http", eventhandler.DataJSON, "{\n    \"hello\": \"world\"\n}"},
		{"event_text.http", eventhandler.DataText, "text data"},
		{"event_binary.http", eventhandler.DataBinary, "hello world"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var got *eventhandler.UserEvent
			echo := eventhandler.Handlers{OnEvent: func(_ context.Context, e *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
				got = e
				return &eventhandler.EventResponse{DataType: e.DataType, Data: e.Data}, nil
			}}
			res := serve(newHandler(t, echo), loadRequest(t, tt.file))
			want := &eventhandler.UserEvent{ConnectionContext: userContext(tt.file), DataType: tt.dataType, Data: []byte(tt.data)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("UserEvent (-want +got):\n%s", diff)
			}
			contentType := map[eventhandler.DataType]string{
				eventhandler.DataText:   "text/plain; charset=utf-8",
				eventhandler.DataJSON:   "application/json; charset=utf-8",
				eventhandler.DataBinary: "application/octet-stream",
			}[tt.dataType]
			if diff := cmp.Diff(result{Status: http.StatusOK, ContentType: contentType, Body: tt.data}, res); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserEventResponses(t *testing.T) {
	jsonReply, err := eventhandler.JSONReply(map[string]any{"ok": true, "n": 2})
	if err != nil {
		t.Fatal(err)
	}
	merged := eventhandler.TextReply("saved")
	if err := merged.SetState("count", 3); err != nil {
		t.Fatal(err)
	}
	replaced := &eventhandler.EventResponse{}
	replaced.ClearState()
	if err := replaced.SetState("only", "this"); err != nil {
		t.Fatal(err)
	}
	cleared := &eventhandler.EventResponse{}
	cleared.ClearState()
	deleted := &eventhandler.EventResponse{}
	deleted.DeleteState("key")

	textType := "text/plain; charset=utf-8"
	tests := []struct {
		name  string
		reply *eventhandler.EventResponse
		err   error
		want  result
	}{
		{"nil acknowledges", nil, nil, result{Status: http.StatusNoContent}},
		{"empty acknowledges", &eventhandler.EventResponse{}, nil, result{Status: http.StatusNoContent}},
		{"text", eventhandler.TextReply("hi"), nil, result{Status: http.StatusOK, ContentType: textType, Body: "hi"}},
		{"empty text is still a reply", eventhandler.TextReply(""), nil, result{Status: http.StatusOK, ContentType: textType}},
		{"json", jsonReply, nil, result{Status: http.StatusOK, ContentType: "application/json; charset=utf-8", Body: `{"n":2,"ok":true}`}},
		{"binary", eventhandler.BinaryReply([]byte{1, 2}), nil, result{Status: http.StatusOK, ContentType: "application/octet-stream", Body: "\x01\x02"}},
		{"zero data type is binary", &eventhandler.EventResponse{Data: []byte("raw")}, nil,
			result{Status: http.StatusOK, ContentType: "application/octet-stream", Body: "raw"}},
		{"state merges into the current state", merged, nil,
			result{Status: http.StatusOK, ContentType: textType, ConnectionState: b64(`{"count":3,"key":"a"}`), Body: "saved"}},
		{"clear then set replaces", replaced, nil, result{Status: http.StatusNoContent, ConnectionState: b64(`{"only":"this"}`)}},
		{"clear sends an empty object", cleared, nil, result{Status: http.StatusNoContent, ConnectionState: b64(`{}`)}},
		{"delete", deleted, nil, result{Status: http.StatusNoContent, ConnectionState: b64(`{}`)}},
		{"reject drops the connection", nil, eventhandler.Reject(http.StatusBadRequest, "unknown command"),
			result{Status: http.StatusBadRequest, ContentType: textType, Body: "unknown command\n"}},
		{"error", nil, errBoom, result{Status: http.StatusInternalServerError, ContentType: textType, Body: "the event handler failed\n"}},
		{"invalid json reply", &eventhandler.EventResponse{DataType: eventhandler.DataJSON, Data: []byte("{nope")}, nil,
			result{Status: http.StatusInternalServerError, ContentType: textType, Body: "the event handler failed\n"}},
		{"unknown data type", &eventhandler.EventResponse{DataType: "xml", Data: []byte("<a/>")}, nil,
			result{Status: http.StatusInternalServerError, ContentType: textType, Body: "the event handler failed\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			h := newHandler(t, c.handlers(nil, tt.reply, tt.err))
			if diff := cmp.Diff(tt.want, serve(h, loadRequest(t, "event_json.http"))); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if c.n != 1 {
				t.Errorf("OnEvent called %d times, want 1", c.n)
			}
		})
	}
}

func TestUserEventWithoutCallback(t *testing.T) {
	h := newHandler(t, eventhandler.Handlers{})
	if diff := cmp.Diff(result{Status: http.StatusNoContent}, serve(h, loadRequest(t, "event_text.http"))); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestUserEventDecode(t *testing.T) {
	ev := &eventhandler.UserEvent{
		ConnectionContext: eventhandler.ConnectionContext{EventName: "chat"},
		DataType:          eventhandler.DataJSON,
		Data:              []byte(`{"hello":"world"}`),
	}
	var v struct{ Hello string }
	if err := ev.DecodeJSON(&v); err != nil || v.Hello != "world" {
		t.Errorf("DecodeJSON = %v, %+v; want nil, world", err, v)
	}
	if got := ev.Text(); got != `{"hello":"world"}` {
		t.Errorf("Text() = %q", got)
	}
	var n int
	if err := ev.DecodeJSON(&n); err == nil {
		t.Error("DecodeJSON into int: want an error")
	}
	ev.DataType = eventhandler.DataText
	if err := ev.DecodeJSON(&v); err == nil {
		t.Error("DecodeJSON of text data: want an error")
	}
}

func TestJSONReplyError(t *testing.T) {
	if _, err := eventhandler.JSONReply(make(chan int)); err == nil {
		t.Error("JSONReply(chan): want an error")
	}
}
