package emulator

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestSubprotocolNegotiation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name    string
		offered []string
		status  int
		echoed  string
	}{
		{"none", nil, 101, ""},
		{"json", []string{wire.SubprotocolJSON}, 101, wire.SubprotocolJSON},
		{"reliable", []string{wire.SubprotocolJSONReliable}, 101, wire.SubprotocolJSONReliable},
		{"unknown is simple and echoed", []string{"mqtt.v5"}, 101, "mqtt.v5"},
		{"first json wins", []string{"foo", wire.SubprotocolJSONReliable, wire.SubprotocolJSON}, 101, wire.SubprotocolJSONReliable},
		{"protobuf refused", []string{wire.SubprotocolProtobuf}, 400, ""},
		{"protobuf with json fallback", []string{wire.SubprotocolProtobuf, wire.SubprotocolJSON}, 101, wire.SubprotocolJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := strings.Replace(s.clientURL("hub", clientOpts{}), "ws://", "http://", 1)
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")))
			if tc.offered != nil {
				req.Header.Set("Sec-WebSocket-Protocol", strings.Join(tc.offered, ", "))
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			got, present := resp.Header["Sec-Websocket-Protocol"]
			if tc.echoed == "" && present {
				t.Fatalf("echoed %v although nothing was to be echoed", got)
			}
			if tc.echoed != "" && (len(got) != 1 || got[0] != tc.echoed) {
				t.Fatalf("echoed %v, want %q", got, tc.echoed)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	s := newTestServer(t)
	host := strings.TrimPrefix(s.srv.URL, "http://")
	dial := func(u string, h http.Header) int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			_ = ws.CloseNow()
			return 101
		}
		if resp == nil {
			t.Fatalf("dial %s: %v", u, err)
		}
		return resp.StatusCode
	}
	tok := func(aud string, extra jwt.MapClaims) string {
		c := jwt.MapClaims{"aud": aud}
		for k, v := range extra {
			c[k] = v
		}
		return signToken(t, s.key, c)
	}
	base := "ws://" + host
	tests := []struct {
		name   string
		url    string
		header http.Header
		want   int
	}{
		{"http aud", base + "/client/hubs/hub?access_token=" + tok("http://"+host+"/client/hubs/hub", nil), nil, 101},
		{"https aud", base + "/client/hubs/hub?access_token=" + tok("https://"+host+"/client/hubs/hub", nil), nil, 101},
		{"ws aud", base + "/client/hubs/hub?access_token=" + tok("ws://"+host+"/client/hubs/hub", nil), nil, 101},
		{"wss aud trailing slash", base + "/client/hubs/hub?access_token=" + tok("wss://"+host+"/client/hubs/hub/", nil), nil, 101},
		{"query hub form", base + "/client/?hub=hub&access_token=" + tok("http://"+host+"/client/hubs/hub", nil), nil, 101},
		{"header token", base + "/client/hubs/hub", http.Header{"Authorization": {"Bearer " + tok("http://"+host+"/client/hubs/hub", nil)}}, 101},
		{"other hub", base + "/client/hubs/hub?access_token=" + tok("http://"+host+"/client/hubs/other", nil), nil, 401},
		{"other host", base + "/client/hubs/hub?access_token=" + tok("http://example.com/client/hubs/hub", nil), nil, 401},
		{"missing slash", base + "/client/hubs/hub?access_token=" + tok("http://"+host+"client/hubs/hub", nil), nil, 401},
		{"expired", base + "/client/hubs/hub?access_token=" + tok("http://"+host+"/client/hubs/hub", jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()}), nil, 401},
		{"wrong key", base + "/client/hubs/hub?access_token=" + signToken(t, "other", jwt.MapClaims{"aud": "http://" + host + "/client/hubs/hub"}), nil, 401},
		{"no token", base + "/client/hubs/hub", nil, 401},
		{"bad role claim", base + "/client/hubs/hub?access_token=" + tok("http://"+host+"/client/hubs/hub", jwt.MapClaims{"role": 5}), nil, 401},
		{"bad hub", base + "/client/hubs/a-b?access_token=x", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dial(tc.url, tc.header); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSimpleClientGetsRawFrames(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{user: "u"})
	for _, tc := range []struct {
		contentType string
		body        string
		typ         websocket.MessageType
	}{
		{"text/plain", "hello", websocket.MessageText},
		{"application/json", `{"a":[1,2]}`, websocket.MessageText},
		{"application/octet-stream", "\x00\xffbin", websocket.MessageBinary},
	} {
		s.mustStatus(202, http.MethodPost, hubPath("hub", "/users/u/:send"), nil, tc.contentType, []byte(tc.body))
		typ, b, err := c.read(5 * time.Second)
		if err != nil || typ != tc.typ || string(b) != tc.body {
			t.Errorf("%s: got %v %q %v", tc.contentType, typ, b, err)
		}
	}
}

func TestJSONProtocolMessages(t *testing.T) {
	s := newTestServer(t)
	a := s.connect("hub", clientOpts{user: "alice", subprotocol: "-", roles: []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}})
	b := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	if _, has := b.connected["userId"]; !has || b.connected["userId"] != nil {
		t.Errorf("anonymous connected message %v: want userId null", b.connected)
	}
	if _, has := a.connected["reconnectionToken"]; has {
		t.Errorf("non-reliable connected message has a reconnection token: %v", a.connected)
	}

	a.send(map[string]any{"type": "ping"})
	if m := a.next(); m["type"] != "pong" {
		t.Fatalf("ping: %v", m)
	}
	a.mustAck(1, map[string]any{"type": "joinGroup", "group": "g"})
	// Duplicate ackId is not executed again.
	r := a.request(1, map[string]any{"type": "leaveGroup", "group": "g"})
	if diff := cmp.Diff(map[string]any{"type": "ack", "ackId": float64(1), "success": false, "error": map[string]any{"name": "Duplicate", "message": "ackId 1 was already used by this connection"}}, r); diff != "" {
		t.Fatalf("duplicate ack (-want +got):\n%s", diff)
	}
	if !s.e.exists("hub", scopeGroup, "g") || len(s.e.groupMembers("hub", "g")) != 2 {
		t.Fatal("the duplicate leaveGroup ran")
	}
	for i, tc := range []struct {
		dataType string
		data     any
	}{
		{"text", "hi"},
		{"json", map[string]any{"k": []any{true, nil}}},
		{"binary", base64.StdEncoding.EncodeToString([]byte{1, 2, 3})},
		{"", float64(7)}, // json by default
	} {
		a.mustAck(10+i, map[string]any{"type": "sendToGroup", "group": "g", "dataType": tc.dataType, "data": tc.data})
		want := map[string]any{"type": "message", "from": "group", "group": "g", "fromUserId": "alice", "dataType": tc.dataType, "data": tc.data}
		if tc.dataType == "" {
			want["dataType"] = "json"
		}
		for _, c := range []*wsClient{a, b} {
			if diff := cmp.Diff(want, c.next()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.dataType, diff)
			}
		}
	}
	// noEcho skips the sender; fire-and-forget has no ack.
	a.send(map[string]any{"type": "sendToGroup", "group": "g", "data": "quiet", "noEcho": true})
	if m := b.next(); m["data"] != "quiet" {
		t.Errorf("b got %v", m)
	}
	a.expectNothing(50 * time.Millisecond)
	// Anonymous senders have no fromUserId.
	s.e.grant("hub", b.id, permission{kind: wire.RoleSendToGroup})
	b.mustAck(1, map[string]any{"type": "sendToGroup", "group": "g", "data": "anon", "noEcho": true})
	if diff := cmp.Diff(map[string]any{"type": "message", "from": "group", "group": "g", "dataType": "json", "data": "anon"}, a.next()); diff != "" {
		t.Errorf("anonymous sender (-want +got):\n%s", diff)
	}

	// Bad requests get BadRequest acks; the connection stays up.
	for i, m := range []map[string]any{
		{"type": "joinGroup"},
		{"type": "joinGroup", "group": "   "},
		{"type": "sendToGroup", "group": "g", "dataType": "binary", "data": "%%%"},
		{"type": "sendToGroup", "group": "g", "dataType": "text", "data": 5},
		{"type": "sendToGroup", "group": "g", "dataType": "xml", "data": "x"},
		{"type": "event", "data": "x"},
		{"type": "invoke", "event": "x"},
		{"group": "g"},
	} {
		r := a.request(100+i, m)
		if r["success"] != false || r["error"].(map[string]any)["name"] != "BadRequest" {
			t.Errorf("%v: ack %v, want BadRequest", m, r)
		}
	}
	// Unknown types without ackId are ignored.
	a.send(map[string]any{"type": "subscribeGroupState", "group": "g"})
	a.send(map[string]any{"type": "ping"})
	if m := a.next(); m["type"] != "pong" {
		t.Fatalf("after unknown type: %v", m)
	}
	// Events succeed without an event handler.
	a.mustAck(200, map[string]any{"type": "event", "event": "hello", "dataType": "text", "data": "x"})
	// Malformed JSON ends the connection.
	if err := a.ws.Write(context.Background(), websocket.MessageText, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if m := a.next(); m["event"] != "disconnected" {
		t.Fatalf("got %v, want disconnected", m)
	}
	if code := a.closeStatus(); code != 1008 {
		t.Fatalf("close code %d", code)
	}
	eventually(t, "connection removed", func() bool { return !s.e.exists("hub", scopeConnection, a.id) })
}

func TestEventHandler(t *testing.T) {
	var mu sync.Mutex
	var got []Event
	s := newTestServer(t, WithEventHandler(EventHandlerFunc(func(ctx context.Context, ev Event) (*Payload, error) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		switch string(ev.Payload.Data) {
		case `"fail"`:
			return nil, errors.New("upstream said no")
		case "echo":
			return &Payload{DataType: wire.DataTypeText, Data: []byte("echo:" + ev.Name)}, nil
		}
		return nil, nil
	})))
	c := s.connect("hub", clientOpts{user: "u", subprotocol: "-"})
	c.mustAck(1, map[string]any{"type": "event", "event": "e1", "dataType": "json", "data": map[string]any{"x": 1}})
	r := c.request(2, map[string]any{"type": "event", "event": "e2", "data": "fail"})
	if r["success"] != false || r["error"].(map[string]any)["name"] != "InternalServerError" {
		t.Errorf("failing handler ack %v", r)
	}
	c.send(map[string]any{"type": "event", "event": "e3", "dataType": "text", "data": "echo", "ackId": 3})
	if m := c.next(); m["from"] != "server" || m["data"] != "echo:e3" {
		t.Errorf("reply %v", m)
	}
	simple := s.connect("hub", clientOpts{user: "raw"})
	if err := simple.ws.Write(context.Background(), websocket.MessageBinary, []byte{9}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "simple client event", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 })
	mu.Lock()
	defer mu.Unlock()
	want := []Event{
		{Hub: "hub", ConnectionID: c.id, UserID: "u", Subprotocol: wire.SubprotocolJSON, Name: "e1", Payload: Payload{DataType: "json", Data: []byte(`{"x":1}`)}},
		{Hub: "hub", ConnectionID: c.id, UserID: "u", Subprotocol: wire.SubprotocolJSON, Name: "e2", Payload: Payload{DataType: "json", Data: []byte(`"fail"`)}},
		{Hub: "hub", ConnectionID: c.id, UserID: "u", Subprotocol: wire.SubprotocolJSON, Name: "e3", Payload: Payload{DataType: "text", Data: []byte("echo")}},
		{Hub: "hub", ConnectionID: got[3].ConnectionID, UserID: "raw", Name: "message", Payload: Payload{DataType: "binary", Data: []byte{9}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestPermissionMatrix checks that each role and each granted permission
// allows exactly what it should.
func TestPermissionMatrix(t *testing.T) {
	s := newTestServer(t)
	type setup struct {
		roles  []string
		grants []permission // applied over REST semantics
	}
	tests := []struct {
		name string
		setup
		joinAllowed map[string]bool // group → may join/leave
		sendAllowed map[string]bool // group → may send
	}{
		{"no roles", setup{}, map[string]bool{"a": false, "b": false}, map[string]bool{"a": false, "b": false}},
		{"joinLeave all", setup{roles: []string{"webpubsub.joinLeaveGroup"}}, map[string]bool{"a": true, "b": true}, map[string]bool{"a": false, "b": false}},
		{"send all", setup{roles: []string{"webpubsub.sendToGroup"}}, map[string]bool{"a": false, "b": false}, map[string]bool{"a": true, "b": true}},
		{"joinLeave a", setup{roles: []string{"webpubsub.joinLeaveGroup.a"}}, map[string]bool{"a": true, "b": false}, map[string]bool{"a": false, "b": false}},
		{"send a", setup{roles: []string{"webpubsub.sendToGroup.a"}}, map[string]bool{"a": false, "b": false}, map[string]bool{"a": true, "b": false}},
		{"wildcard segment", setup{roles: []string{"webpubsub.sendToGroups.room.*"}}, map[string]bool{"room.1": false}, map[string]bool{"room.1": true, "room.1.x": false, "hall.1": false}},
		{"wildcard deep", setup{roles: []string{"webpubsub.joinLeaveGroups.room.**"}}, map[string]bool{"room.1": true, "room.1.x": true, "hall": false}, map[string]bool{"room.1": false}},
		{"wildcard char", setup{roles: []string{"webpubsub.joinLeaveGroups.g?"}}, map[string]bool{"g1": true, "g12": false}, nil},
		{"granted joinLeave all", setup{grants: []permission{{kind: wire.RoleJoinLeaveGroup}}}, map[string]bool{"a": true, "b": true}, map[string]bool{"a": false}},
		{"granted send b", setup{grants: []permission{{kind: wire.RoleSendToGroup, target: "b"}}}, map[string]bool{"b": false}, map[string]bool{"a": false, "b": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect("hub", clientOpts{user: "u", subprotocol: "-", roles: tc.roles})
			for _, g := range tc.grants {
				q := url.Values{}
				if g.target != "" {
					q.Set("targetName", g.target)
				}
				name := map[string]string{wire.RoleJoinLeaveGroup: "joinLeaveGroup", wire.RoleSendToGroup: "sendToGroup"}[g.kind]
				s.mustStatus(200, http.MethodPut, hubPath("hub", "/permissions/"+name+"/connections/"+c.id), q, "", nil)
			}
			ack := 0
			for g, want := range tc.joinAllowed {
				for _, typ := range []string{"joinGroup", "leaveGroup"} {
					ack++
					r := c.request(ack, map[string]any{"type": typ, "group": g})
					if got := r["success"] == true; got != want {
						t.Errorf("%s %s: success %v, want %v (%v)", typ, g, got, want, r)
					}
					if !want && r["error"].(map[string]any)["name"] != "Forbidden" {
						t.Errorf("%s %s: %v, want Forbidden", typ, g, r)
					}
				}
			}
			for g, want := range tc.sendAllowed {
				ack++
				r := c.request(ack, map[string]any{"type": "sendToGroup", "group": g, "data": 1, "noEcho": true})
				if got := r["success"] == true; got != want {
					t.Errorf("sendToGroup %s: success %v, want %v (%v)", g, got, want, r)
				}
			}
		})
	}
}

func TestPermissionOperations(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{subprotocol: "-", roles: []string{"webpubsub.sendToGroup.r"}})
	check := func(perm, target string) bool {
		q := url.Values{}
		if target != "" {
			q.Set("targetName", target)
		}
		resp, _ := s.call(http.MethodHead, hubPath("hub", "/permissions/"+perm+"/connections/"+c.id), q, "", nil)
		if resp.StatusCode != 200 && resp.StatusCode != 404 {
			t.Fatalf("check: %d", resp.StatusCode)
		}
		return resp.StatusCode == 200
	}
	state := func() string {
		var b strings.Builder
		for _, p := range []string{"joinLeaveGroup", "sendToGroup"} {
			for _, g := range []string{"", "g", "r"} {
				fmt.Fprintf(&b, "%s/%s=%v ", p, g, check(p, g))
			}
		}
		return b.String()
	}
	steps := []struct {
		method, perm, target string
		status               int
		want                 string
	}{
		{"", "", "", 0, "joinLeaveGroup/=false joinLeaveGroup/g=false joinLeaveGroup/r=false sendToGroup/=false sendToGroup/g=false sendToGroup/r=true "},
		{"PUT", "joinLeaveGroup", "g", 200, "joinLeaveGroup/=false joinLeaveGroup/g=true joinLeaveGroup/r=false sendToGroup/=false sendToGroup/g=false sendToGroup/r=true "},
		{"PUT", "sendToGroup", "", 200, "joinLeaveGroup/=false joinLeaveGroup/g=true joinLeaveGroup/r=false sendToGroup/=true sendToGroup/g=true sendToGroup/r=true "},
		{"DELETE", "joinLeaveGroup", "g", 204, "joinLeaveGroup/=false joinLeaveGroup/g=false joinLeaveGroup/r=false sendToGroup/=true sendToGroup/g=true sendToGroup/r=true "},
		{"DELETE", "sendToGroup", "", 204, "joinLeaveGroup/=false joinLeaveGroup/g=false joinLeaveGroup/r=false sendToGroup/=false sendToGroup/g=false sendToGroup/r=false "},
	}
	for i, st := range steps {
		if st.method != "" {
			q := url.Values{}
			if st.target != "" {
				q.Set("targetName", st.target)
			}
			s.mustStatus(st.status, st.method, hubPath("hub", "/permissions/"+st.perm+"/connections/"+c.id), q, "", nil)
		}
		if got := state(); got != st.want {
			t.Fatalf("step %d: %s\nwant %s", i, got, st.want)
		}
	}
	// The effect reaches the client: a revoked role no longer sends.
	r := c.request(1, map[string]any{"type": "sendToGroup", "group": "r", "data": 1})
	if r["success"] != false {
		t.Errorf("send after revoke: %v", r)
	}
	// Unknown connection: grant 404, revoke 204, check 404.
	resp, _ := s.call(http.MethodPut, hubPath("hub", "/permissions/sendToGroup/connections/nope"), nil, "", nil)
	if resp.StatusCode != 404 {
		t.Errorf("grant unknown: %d", resp.StatusCode)
	}
	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/permissions/sendToGroup/connections/nope"), nil, "", nil)
	s.mustStatus(404, http.MethodHead, hubPath("hub", "/permissions/sendToGroup/connections/nope"), nil, "", nil)
}

func TestSimpleClientPublishMode(t *testing.T) {
	s := newTestServer(t)
	listener := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	u := s.clientURL("hub", clientOpts{user: "pub", roles: []string{"webpubsub.sendToGroup.g"}}) + "&webpubsub_mode=sendToGroup&group=g"
	pub := s.dialURL(u, "")
	if err := pub.ws.Write(context.Background(), websocket.MessageText, []byte("raw hello")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"type": "message", "from": "group", "group": "g", "fromUserId": "pub", "dataType": "text", "data": "raw hello"}, listener.next()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := pub.ws.Write(context.Background(), websocket.MessageBinary, []byte{7}); err != nil {
		t.Fatal(err)
	}
	if m := listener.next(); m["dataType"] != "binary" || m["data"] != "Bw==" {
		t.Errorf("binary publish %v", m)
	}
	for _, tc := range []struct{ name, query string }{
		{"no permission", "&webpubsub_mode=sendToGroup&group=other"},
		{"no group", "&webpubsub_mode=sendToGroup"},
		{"unknown mode", "&webpubsub_mode=broadcast&group=g"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			u := s.clientURL("hub", clientOpts{roles: []string{"webpubsub.sendToGroup.g"}}) + tc.query
			_, resp, err := websocket.Dial(ctx, u, nil)
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("dial: %v", err)
			}
		})
	}
}

// TestMalformedClientFrames: nothing a client sends crashes the service.
func TestMalformedClientFrames(t *testing.T) {
	s := newTestServer(t)
	frames := []string{
		``, `null`, `[]`, `"str"`, `{}`, `{"type":5}`, `{"type":"joinGroup","group":5,"ackId":1}`,
		`{"type":"joinGroup","ackId":-1}`, `{"type":"sendToGroup","group":"g","ackId":2,"data":}`,
		`{"type":"sequenceAck"}`, `{"type":"sequenceAck","sequenceId":"x"}`, `{"type":"event","event":"","ackId":3}`,
		`{"type":"ping","extra":{"deep":[1,2,3]}}`, strings.Repeat("[", 10000),
	}
	for i, f := range frames {
		c := s.connect("hub", clientOpts{subprotocol: wire.SubprotocolJSONReliable})
		if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(f)); err != nil {
			t.Fatal(err)
		}
		// The service may already be closing the connection: ignore errors.
		_ = c.ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ping"}`))
		// Either the service answers (the frame was ignored or acked) or it
		// closes the connection with 1008 after a disconnected message.
		_, b, err := c.read(5 * time.Second)
		switch {
		case err != nil:
			t.Fatalf("frame %d %.40q: %v", i, f, err)
		case strings.Contains(string(b), `"disconnected"`):
			if code := c.closeStatus(); code != wire.ClosePolicyViolation {
				t.Errorf("frame %d: close code %d", i, code)
			}
		case !strings.Contains(string(b), `"pong"`) && !strings.Contains(string(b), `"ack"`):
			t.Errorf("frame %d %.40q: unexpected answer %s", i, f, b)
		}
	}
	// The service still works.
	c := s.connect("hub", clientOpts{subprotocol: "-"})
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/:send"), nil, "text/plain", []byte("ok"))
	if m := c.next(); m["data"] != "ok" {
		t.Fatal(m)
	}
}
