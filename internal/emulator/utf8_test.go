package emulator

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// writeRaw sends one frame as it is.
func (c *wsClient) writeRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// unhex turns the \xNN escapes of a raw string into bytes (JSON escapes
// such as \u00e9 stay as they are).
func unhex(s string) []byte {
	var b []byte
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], `\x`) && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return b
}

// TestInvalidUTF8FromJSONClients: a json message that is not valid Unicode
// text gets a negative ack and reaches nobody (issue 12 defect 3: it used
// to get success and go out in every receiver's text frame).
func TestInvalidUTF8FromJSONClients(t *testing.T) {
	s := newTestServer(t)
	roles := []string{wire.RoleSendToGroup, wire.RoleJoinLeaveGroup}
	tests := []struct{ name, msg string }{
		{"json data", `{"type":"sendToGroup","group":"g","data":"\xff\xfe","ackId":1}`},
		{"json data in an object", `{"type":"sendToGroup","group":"g","dataType":"json","data":{"k\xc3":1},"ackId":1}`},
		{"text data", `{"type":"sendToGroup","group":"g","dataType":"text","data":"a\xffb","ackId":1}`},
		{"overlong encoding", `{"type":"sendToGroup","group":"g","dataType":"text","data":"\xc0\xaf","ackId":1}`},
		{"encoded surrogate", `{"type":"sendToGroup","group":"g","dataType":"text","data":"\xed\xa0\x80","ackId":1}`},
		{"lone low surrogate escape, text", `{"type":"sendToGroup","group":"g","dataType":"text","data":"\udc00","ackId":1}`},
		{"lone high surrogate escape, json", `{"type":"sendToGroup","group":"g","data":["\ud800"],"ackId":1}`},
		{"high surrogate escape then a letter", `{"type":"sendToGroup","group":"g","dataType":"text","data":"\ud800x","ackId":1}`},
		{"two high surrogate escapes", `{"type":"sendToGroup","group":"g","dataType":"text","data":"\ud800\ud800","ackId":1}`},
		{"group", `{"type":"sendToGroup","group":"g\xff","data":1,"ackId":1}`},
		{"group surrogate escape", `{"type":"sendToGroup","group":"g\udfff","data":1,"ackId":1}`},
		{"join group", `{"type":"joinGroup","group":"\xfe","ackId":1}`},
		{"event name", `{"type":"event","event":"e\xff","data":1,"ackId":1}`},
		{"event data", `{"type":"event","event":"e","dataType":"text","data":"\xff","ackId":1}`},
		{"an unknown field", `{"type":"sendToGroup","group":"g","data":1,"x":"\xff","ackId":1}`},
	}
	recv := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	for _, tc := range tests {
		c := s.connect("hub", clientOpts{subprotocol: "-", roles: roles})
		c.writeRaw(websocket.MessageText, unhex(tc.msg))
		m := c.next()
		e, _ := m["error"].(map[string]any)
		if m["type"] != "ack" || m["success"] != false || e["name"] != wire.AckErrorBadRequest {
			t.Errorf("%s: got %v, want a BadRequest ack", tc.name, m)
		}
		// The id was not used: a valid message may take it.
		c.mustAck(1, map[string]any{"type": "sendToGroup", "group": "h", "data": 1})
	}
	recv.expectNothing(200 * time.Millisecond)

	// Valid escapes and characters go through unchanged.
	c := s.connect("hub", clientOpts{subprotocol: "-", roles: roles})
	c.writeRaw(websocket.MessageText, []byte(`{"type":"sendToGroup","group":"g","dataType":"text","data":"\ud83d\ude00 ü \\ud800","ackId":1,"noEcho":true}`))
	if r := c.next(); r["success"] != true {
		t.Fatalf("valid pair: %v", r)
	}
	if m := recv.next(); m["data"] != "\U0001F600 ü \\ud800" {
		t.Errorf("valid pair delivered as %q", m["data"])
	}
}

// TestInvalidUTF8ClosesWith1007: a text frame that is not UTF-8 and has
// no ack to carry the refusal closes the connection with 1007
// (RFC 6455 §8.1), for the simple protocol and for json messages without
// ackId; nothing reaches the group.
func TestInvalidUTF8ClosesWith1007(t *testing.T) {
	s := newTestServer(t)
	recv := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	send := []string{wire.RoleSendToGroup}
	for _, tc := range []struct {
		name string
		dial func() *wsClient
		msg  string
	}{
		{"simple, publishing to a group", func() *wsClient {
			return s.dialURL(s.clientURL("hub", clientOpts{roles: send})+"&"+wire.QueryMode+"="+wire.ModeSendToGroup+"&"+wire.QueryGroup+"=g", "")
		}, "\xff\xfe"},
		{"simple, events", func() *wsClient { return s.connect("hub", clientOpts{}) }, "a\xc3"},
		{"json without ackId", func() *wsClient { return s.connect("hub", clientOpts{subprotocol: "-", roles: send}) },
			`{"type":"sendToGroup","group":"g","data":"\xff"}`},
		{"json surrogate escape without ackId", func() *wsClient { return s.connect("hub", clientOpts{subprotocol: "-", roles: send}) },
			`{"type":"sendToGroup","group":"g","dataType":"text","data":"\udc00"}`},
	} {
		c := tc.dial()
		c.writeRaw(websocket.MessageText, unhex(tc.msg))
		if code := c.closeStatus(); code != wire.CloseInvalidPayload {
			t.Errorf("%s: close code %d, want 1007", tc.name, code)
		}
	}
	recv.expectNothing(200 * time.Millisecond)

	// The same bytes in a binary frame of a simple client are binary data.
	c := s.dialURL(s.clientURL("hub", clientOpts{roles: send})+"&"+wire.QueryMode+"="+wire.ModeSendToGroup+"&"+wire.QueryGroup+"=g", "")
	c.writeRaw(websocket.MessageBinary, []byte("\xff\xfe"))
	if m := recv.next(); m["dataType"] != wire.DataTypeBinary || m["data"] != "//4=" {
		t.Errorf("binary frame delivered as %v", m)
	}
}

// TestEventReplyMustBeUTF8: an event handler's reply that cannot go into a
// text frame is not sent; the client gets a failed ack.
func TestEventReplyMustBeUTF8(t *testing.T) {
	s := newTestServer(t, WithEventHandler(EventHandlerFunc(func(_ context.Context, ev Event) (*Payload, error) {
		return &Payload{DataType: ev.Name, Data: []byte("\xff")}, nil
	})))
	c := s.connect("hub", clientOpts{subprotocol: "-"})
	for i, dt := range []string{wire.DataTypeText, wire.DataTypeJSON} {
		r := c.request(i+1, map[string]any{"type": "event", "event": dt, "data": 1})
		if e, _ := r["error"].(map[string]any); r["success"] != false || e["name"] != wire.AckErrorInternal {
			t.Errorf("reply of type %s: %v, want an InternalServerError ack", dt, r)
		}
	}
	c.mustAck(3, map[string]any{"type": "event", "event": wire.DataTypeBinary, "data": 1})
	if m := c.next(); m["data"] != "/w==" {
		t.Errorf("binary reply: %v", m)
	}
}

// TestInvalidTextNeverLeaves: whatever a delivery holds, the writer never
// emits a text frame that is not UTF-8.
func TestInvalidTextNeverLeaves(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{subprotocol: "-"})
	simple := s.connect("hub", clientOpts{})
	for _, p := range []Payload{{DataType: wire.DataTypeJSON, Data: unhex(`"\xff"`)}, {DataType: wire.DataTypeText, Data: []byte("\xff")}} {
		if n := s.e.send("hub", scopeAll, "", target{}, &delivery{from: wire.FromServer, payload: p}, ""); n != 0 {
			t.Errorf("%s: sent to %d connections", p.DataType, n)
		}
	}
	for _, r := range []*wsClient{c, simple} {
		if typ, b, err := r.read(200 * time.Millisecond); err == nil && typ == websocket.MessageText && !utf8.Valid(b) {
			t.Errorf("a text frame with invalid UTF-8 left: %q", b)
		} else if err == nil {
			t.Errorf("unexpected frame %q", b)
		}
	}
	// A frame no source checked is checked by the writer, which closes
	// the connection (1011) rather than write it.
	conn := s.e.lookup("hub", c.id)
	conn.mu.Lock()
	conn.enqueueLocked(frame{data: []byte("{\"k\":\"\xff\"}")})
	conn.mu.Unlock()
	if code := c.closeStatus(); code != wire.CloseInternalError {
		t.Errorf("close code %d, want 1011", code)
	}
}
