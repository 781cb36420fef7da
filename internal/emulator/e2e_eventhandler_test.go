package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

const (
	e2eHub       = "chat"
	e2ePrimary   = "e2e-primary-key-0123456789abcdef"
	e2eSecondary = "e2e-secondary-key-fedcba9876543210"
	// e2eScenario is the connect URL query parameter that tells the app
	// how to answer the connect event.
	e2eScenario = "scenario"
)

// e2e is an emulator whose hub "chat" sends every event to an app built on
// webpubsub/eventhandler, each running on its own httptest server.
type e2e struct {
	t      *testing.T
	client *webpubsub.Client

	mu           sync.Mutex
	connected    []string // user ids
	disconnected chan *eventhandler.DisconnectedEvent
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	x := &e2e{t: t, disconnected: make(chan *eventhandler.DisconnectedEvent, 16)}
	// The app knows only the secondary key: the emulator signs with both.
	app, err := eventhandler.New(e2eHub, eventhandler.Handlers{
		OnConnect: x.onConnect,
		OnConnected: func(_ context.Context, ev *eventhandler.ConnectedEvent) {
			x.mu.Lock()
			x.connected = append(x.connected, ev.UserID)
			x.mu.Unlock()
		},
		OnEvent:        x.onEvent,
		OnDisconnected: func(_ context.Context, ev *eventhandler.DisconnectedEvent) { x.disconnected <- ev },
	}, eventhandler.WithAccessKeys(e2eSecondary), eventhandler.WithAllowedOrigins("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/eventhandler/", app)
	appSrv := httptest.NewServer(mux)
	t.Cleanup(appSrv.Close)

	e, err := emulator.New(
		emulator.WithAccessKeys(e2ePrimary, e2eSecondary),
		emulator.WithKeepAlive(0),
		emulator.WithUpstreamTimeout(3*time.Second),
		emulator.WithUpstream(emulator.UpstreamSetting{
			Hub: e2eHub, URLTemplate: appSrv.URL + "/eventhandler/{event}", UserEventPattern: "*",
			SystemEvents: []string{wire.CEEventConnect, wire.CEEventConnected, wire.CEEventDisconnected},
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	emuSrv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		_ = e.Close()
		emuSrv.CloseClientConnections()
		emuSrv.Close()
	})
	x.client, err = webpubsub.NewClientFromConnectionString("Endpoint="+emuSrv.URL+";AccessKey="+e2ePrimary+";Version=1.0;", e2eHub)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func (x *e2e) onConnect(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
	scenario := ""
	if v := req.Query[e2eScenario]; len(v) > 0 {
		scenario = v[0]
	}
	switch scenario {
	case "unauthorized":
		return nil, eventhandler.Reject(http.StatusUnauthorized, "sign in first")
	case "forbidden":
		return nil, eventhandler.Reject(http.StatusForbidden, "banned")
	case "assign-user":
		return &eventhandler.ConnectResponse{UserID: "assigned-user"}, nil
	case "join-room":
		return &eventhandler.ConnectResponse{Groups: []string{"room1"}}, nil
	case "counter":
		resp := &eventhandler.ConnectResponse{}
		if err := resp.SetState("count", 10); err != nil {
			return nil, err
		}
		return resp, nil
	}
	return nil, nil
}

func (x *e2e) onEvent(_ context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
	switch ev.EventName {
	case "echo":
		return eventhandler.TextReply("echo from " + ev.UserID + ": " + ev.Text()), nil
	case "count":
		var n int
		if _, err := ev.State.Get("count", &n); err != nil {
			return nil, err
		}
		n++
		resp := eventhandler.TextReply(strconv.Itoa(n))
		if err := resp.SetState("count", n); err != nil {
			return nil, err
		}
		return resp, nil
	case "fail":
		return nil, eventhandler.Reject(http.StatusInternalServerError, "cannot handle that")
	case wire.CEEventMessage: // a simple WebSocket client's frame
		return eventhandler.JSONReply(map[string]string{"got": ev.Text(), "type": string(ev.DataType)})
	}
	return nil, nil
}

// dial connects a client with a token for user (empty: anonymous) and the
// given scenario, speaking subprotocol (empty: a simple WebSocket client).
// It returns the HTTP status of a refused handshake.
func (x *e2e) dial(user, scenario, subprotocol string) (*websocket.Conn, int) {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := x.client.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: user})
	if err != nil {
		x.t.Fatal(err)
	}
	u := tok.URL
	if scenario != "" {
		u += "&" + e2eScenario + "=" + scenario
	}
	var protos []string
	if subprotocol != "" {
		protos = []string{subprotocol}
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: protos})
	if err != nil {
		if resp == nil {
			x.t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	x.t.Cleanup(func() { _ = ws.CloseNow() })
	return ws, http.StatusSwitchingProtocols
}

// dialJSON connects a json.webpubsub.azure.v1 client and returns it with
// its connected message.
func (x *e2e) dialJSON(user, scenario string) (*websocket.Conn, map[string]any) {
	x.t.Helper()
	ws, status := x.dial(user, scenario, wire.SubprotocolJSON)
	if ws == nil {
		x.t.Fatalf("handshake refused with %d", status)
	}
	m := readJSON(x.t, ws)
	if m["event"] != wire.SystemEventConnected {
		x.t.Fatalf("first message %v, want connected", m)
	}
	return ws, m
}

func readJSON(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("read %q: %v", b, err)
	}
	return m
}

func writeJSON(t *testing.T, ws *websocket.Conn, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// sendEvent sends an event message and returns what came back up to its
// ack: the server messages, then the ack.
func sendEvent(t *testing.T, ws *websocket.Conn, ackID int, event, text string) []map[string]any {
	t.Helper()
	writeJSON(t, ws, map[string]any{"type": wire.TypeEvent, "event": event, "ackId": ackID, "dataType": wire.DataTypeText, "data": text})
	var got []map[string]any
	for {
		m := readJSON(t, ws)
		got = append(got, m)
		if m["type"] == wire.TypeAck {
			return got
		}
	}
}

func (x *e2e) waitDisconnected() *eventhandler.DisconnectedEvent {
	x.t.Helper()
	select {
	case ev := <-x.disconnected:
		return ev
	case <-time.After(5 * time.Second):
		x.t.Fatal("no disconnected event")
		return nil
	}
}

func TestE2EEventHandlerReply(t *testing.T) {
	x := newE2E(t)
	ws, _ := x.dialJSON("alice", "")
	got := sendEvent(t, ws, 1, "echo", "hi")
	want := []map[string]any{
		{"type": "message", "from": "server", "dataType": "text", "data": "echo from alice: hi"},
		{"type": "ack", "ackId": 1.0, "success": true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	// An event without a reply is acknowledged only.
	if diff := cmp.Diff([]map[string]any{{"type": "ack", "ackId": 2.0, "success": true}}, sendEvent(t, ws, 2, "other", "x")); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	// connected is not blocking: it may arrive after the first events.
	var connected []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		x.mu.Lock()
		connected = append([]string(nil), x.connected...)
		x.mu.Unlock()
		if len(connected) > 0 {
			break
		}
	}
	if diff := cmp.Diff([]string{"alice"}, connected); diff != "" {
		t.Errorf("connected events (-want +got):\n%s", diff)
	}
}

func TestE2EConnectRejection(t *testing.T) {
	x := newE2E(t)
	for scenario, want := range map[string]int{"unauthorized": http.StatusUnauthorized, "forbidden": http.StatusForbidden} {
		if ws, status := x.dial("mallory", scenario, wire.SubprotocolJSON); ws != nil || status != want {
			t.Errorf("scenario %s: handshake status %d, want %d", scenario, status, want)
		}
	}
	select {
	case ev := <-x.disconnected:
		t.Errorf("disconnected event %+v for a rejected client", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestE2EConnectAssignsUser(t *testing.T) {
	x := newE2E(t)
	ws, connected := x.dialJSON("", "assign-user")
	if connected["userId"] != "assigned-user" {
		t.Errorf("connected message %v, want userId assigned-user", connected)
	}
	got := sendEvent(t, ws, 1, "echo", "who am I")
	if got[0]["data"] != "echo from assigned-user: who am I" {
		t.Errorf("reply %v: the event did not carry the assigned user id", got[0])
	}
}

func TestE2EConnectJoinsGroups(t *testing.T) {
	x := newE2E(t)
	ws, _ := x.dialJSON("bob", "join-room")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := x.client.SendToGroup(ctx, "room1", webpubsub.Text("news for room1"), nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "message", "from": "group", "group": "room1", "dataType": "text", "data": "news for room1"}
	if diff := cmp.Diff(want, readJSON(t, ws)); diff != "" {
		t.Errorf("group message (-want +got):\n%s", diff)
	}
}

func TestE2EConnectionStateRoundTrip(t *testing.T) {
	x := newE2E(t)
	ws, _ := x.dialJSON("carol", "counter") // connect sets count=10
	for i, want := range []string{"11", "12"} {
		got := sendEvent(t, ws, i+1, "count", "")
		if len(got) != 2 || got[0]["data"] != want {
			t.Errorf("event %d: messages %v, want the reply %s", i+1, got, want)
		}
	}
}

func TestE2EDisconnectedReason(t *testing.T) {
	x := newE2E(t)
	_, connected := x.dialJSON("dave", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, _ := connected["connectionId"].(string)
	if err := x.client.CloseConnection(ctx, id, &webpubsub.CloseConnectionOptions{Reason: "kicked by admin"}); err != nil {
		t.Fatal(err)
	}
	ev := x.waitDisconnected()
	if ev.ConnectionID != id || ev.UserID != "dave" || ev.Reason != "kicked by admin" {
		t.Errorf("disconnected event for %s (user %q) with reason %q, want %s, dave, \"kicked by admin\"", ev.ConnectionID, ev.UserID, ev.Reason, id)
	}
}

func TestE2EFailedEventClosesConnection(t *testing.T) {
	x := newE2E(t)
	ws, _ := x.dialJSON("erin", "")
	got := sendEvent(t, ws, 1, "fail", "x")
	ack := got[len(got)-1]
	if ack["success"] != false {
		t.Fatalf("ack %v, want a failure", ack)
	}
	if m := readJSON(t, ws); m["type"] != wire.TypeSystem || m["event"] != wire.SystemEventDisconnected {
		t.Errorf("message %v, want disconnected", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := ws.Read(ctx)
	if status := websocket.CloseStatus(err); status != wire.ClosePolicyViolation {
		t.Errorf("read after the failure: %v (close status %d), want close %d", err, status, wire.ClosePolicyViolation)
	}
	if ev := x.waitDisconnected(); ev.Reason == "" {
		t.Error("disconnected event without a reason")
	}
}

func TestE2ESimpleClientMessage(t *testing.T) {
	x := newE2E(t)
	ws, status := x.dial("frank", "", "")
	if ws == nil {
		t.Fatalf("handshake refused with %d", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte("plain frame")); err != nil {
		t.Fatal(err)
	}
	typ, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil || typ != websocket.MessageText {
		t.Fatalf("reply %q (%v): %v", b, typ, err)
	}
	if diff := cmp.Diff(map[string]string{"got": "plain frame", "type": "text"}, got); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	_ = ws.Close(websocket.StatusNormalClosure, "")
	if ev := x.waitDisconnected(); ev.UserID != "frank" || ev.Subprotocol != "" {
		t.Errorf("disconnected event %+v, want user frank without a subprotocol", ev)
	}
}
