package webpubsubtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// chatApp is the app under test, both halves: its event handler lets known
// users connect (with the right to join "room") and answers "ping" events;
// its server code announces to the room over the REST API. Both are built
// from one connection string, as a real app does.
type chatApp struct {
	client *webpubsub.Client
	events *eventhandler.Handler
}

func newChatApp(t testing.TB, connectionString string, knownUsers ...string) *chatApp {
	t.Helper()
	client, err := webpubsub.NewClientFromConnectionString(connectionString, "chat")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, u := range knownUsers {
		known[u] = true
	}
	events, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnect: func(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			if !known[req.UserID] {
				return nil, eventhandler.Reject(http.StatusUnauthorized, "unknown user "+req.UserID)
			}
			return &eventhandler.ConnectResponse{Roles: []string{"webpubsub.joinLeaveGroup.room"}}, nil
		},
		OnEvent: func(_ context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			if ev.EventName != "ping" {
				return nil, eventhandler.Reject(http.StatusBadRequest, "unknown event "+ev.EventName)
			}
			return eventhandler.TextReply("pong " + ev.Text()), nil
		},
	}, eventhandler.WithConnectionString(connectionString))
	if err != nil {
		t.Fatal(err)
	}
	return &chatApp{client: client, events: events}
}

// Announce is the app's server code.
func (a *chatApp) Announce(ctx context.Context, text string) error {
	return a.client.SendToGroup(ctx, "room", webpubsub.Text(text), nil)
}

// TestAppContract drives a client through the whole app in-process:
// connect (accepted by the app's handler, which grants the join role),
// join, event, reply, group message from the app's server code,
// disconnect; and a connect the handler rejects.
func TestAppContract(t *testing.T) {
	start := time.Now()
	srv := webpubsubtest.NewServer(t)
	app := newChatApp(t, srv.ConnectionString(), "alice")
	if err := srv.SetEventHandler("chat", app.events); err != nil {
		t.Fatal(err)
	}

	alice := srv.Connect(t, "chat", "alice")
	// connected does not delay the client: wait, to fix the events' order.
	if _, err := srv.WaitForEvent(ctx(t), func(e webpubsubtest.Event) bool { return e.Name == "connected" }); err != nil {
		t.Fatal(err)
	}
	if err := alice.Join(ctx(t), "room"); err != nil {
		t.Fatalf("join with the role the handler granted: %v", err)
	}
	if err := alice.SendEvent(ctx(t), "ping", webpubsubtest.Text("1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(webpubsubtest.Message{From: "server", DataType: "text", Data: []byte("pong 1")}, alice.Next(t)); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	if err := app.Announce(ctx(t), "hello room"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(webpubsubtest.Message{From: "group", Group: "room", DataType: "text", Data: []byte("hello room")}, alice.Next(t)); diff != "" {
		t.Errorf("group message (-want +got):\n%s", diff)
	}
	if err := alice.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitForEvent(ctx(t), func(e webpubsubtest.Event) bool { return e.Name == "disconnected" }); err != nil {
		t.Fatal(err)
	}

	_, err := srv.Dial(ctx(t), "chat", "mallory")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "unknown user mallory") {
		t.Fatalf("connect of an unknown user: %v, want 401 with the handler's reason", err)
	}

	id := alice.ConnectionID()
	want := []webpubsubtest.Event{
		{Hub: "chat", ConnectionID: id, UserID: "alice", Name: "connect", DataType: "json", System: true, Status: http.StatusOK},
		{Hub: "chat", ConnectionID: id, UserID: "alice", Name: "connected", DataType: "json", System: true, Status: http.StatusOK},
		{Hub: "chat", ConnectionID: id, UserID: "alice", Name: "ping", DataType: "text", Data: []byte("1"), Status: http.StatusOK},
		{Hub: "chat", ConnectionID: id, UserID: "alice", Name: "disconnected", DataType: "json", System: true, Status: http.StatusOK},
		{Hub: "chat", UserID: "mallory", Name: "connect", DataType: "json", System: true, Status: http.StatusUnauthorized},
	}
	got := srv.Events()
	ignoreSystemData := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Data" }, cmp.Comparer(func(a, b []byte) bool {
		return len(a) == 0 || len(b) == 0 || string(a) == string(b)
	}))
	if diff := cmp.Diff(want, got, ignoreSystemData, cmpopts.IgnoreFields(webpubsubtest.Event{}, "ConnectionID")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, e := range got[:4] {
		if e.ConnectionID != id {
			t.Errorf("event %s of connection %q, want %q", e.Name, e.ConnectionID, id)
		}
	}
	t.Logf("the whole contract took %v", time.Since(start))
}

// The connect answer sets the client's user id, groups and roles, and a
// connection state the later events carry.
func TestEventHandlerSetsTheConnection(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	var state string
	events, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnect: func(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			resp := &eventhandler.ConnectResponse{UserID: "renamed-" + req.UserID, Groups: []string{"g1"},
				Roles: []string{"webpubsub.sendToGroup.g1"}, Subprotocol: req.Subprotocols[0]}
			return resp, resp.SetState("seat", "12A")
		},
		OnEvent: func(_ context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			_, err := ev.State.Get("seat", &state)
			return nil, err
		},
	}, eventhandler.WithConnectionString(srv.ConnectionString()))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetEventHandler("chat", events); err != nil {
		t.Fatal(err)
	}
	conn := srv.Connect(t, "chat", "bob")
	client := srv.Client(t, "chat")
	if err := client.SendToUser(ctx(t), "renamed-bob", webpubsub.Text("to the new user id"), nil); err != nil {
		t.Fatal(err)
	}
	if m := conn.Next(t); m.Text() != "to the new user id" {
		t.Errorf("SendToUser(renamed-bob) delivered %q", m.Text())
	}
	if err := conn.SendToGroup(ctx(t), "g1", webpubsubtest.Text("in g1"), nil); err != nil {
		t.Fatalf("send with the granted role: %v", err)
	}
	if m := conn.Next(t); m.Group != "g1" || m.FromUserID != "renamed-bob" {
		t.Errorf("group message %+v, want one in g1 from renamed-bob", m)
	}
	if err := conn.SendEvent(ctx(t), "hello", webpubsubtest.JSON(map[string]int{"n": 1})); err != nil {
		t.Fatal(err)
	}
	if state != "12A" {
		t.Errorf("the user event carried state %q, want 12A", state)
	}
}

// The same app, listening on a port, gets the events at its URL.
func TestEventHandlerURL(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	app := newChatApp(t, srv.ConnectionString(), "alice")
	mux := http.NewServeMux()
	mux.Handle("/eventhandler/", app.events)
	appSrv := httptest.NewServer(mux)
	t.Cleanup(appSrv.Close)
	if err := srv.SetEventHandlerURL("chat", appSrv.URL+"/eventhandler/{event}"); err != nil {
		t.Fatal(err)
	}

	alice := srv.Connect(t, "chat", "alice")
	if err := alice.SendEvent(ctx(t), "ping", webpubsubtest.Text("2")); err != nil {
		t.Fatal(err)
	}
	if m := alice.Next(t); m.Text() != "pong 2" {
		t.Errorf("reply %q, want pong 2", m.Text())
	}
	if _, err := srv.Dial(ctx(t), "chat", "eve"); err == nil || !strings.Contains(err.Error(), "unknown user eve") {
		t.Errorf("rejected connect: %v", err)
	}
	// A failed user event closes the connection, as the service does.
	if err := alice.SendEvent(ctx(t), "nope", webpubsubtest.Text("x")); err == nil {
		t.Error("an event the handler refused was acknowledged")
	}
	if _, _, err := alice.CloseStatus(ctx(t)); err != nil {
		t.Fatalf("the connection stayed open after a failed event: %v", err)
	}
	e, err := srv.WaitForEvent(ctx(t), func(e webpubsubtest.Event) bool { return e.Name == "nope" })
	if err != nil || e.Status != http.StatusBadRequest {
		t.Errorf("recorded %+v, %v; want status 400", e, err)
	}
}

// A router that mounts the handler at another path gets it there; events
// the handler does not ask for are acknowledged without it.
func TestEventHandlerPathAndEventChoice(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	var paths []string
	app := newChatApp(t, srv.ConnectionString() /* no known users */)
	mux := http.NewServeMux()
	mux.Handle("/api/wps/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		app.events.ServeHTTP(w, r)
	}))
	err := srv.SetEventHandler("*", mux, webpubsubtest.WithEventPath("/api/wps/{hub}/{event}"),
		webpubsubtest.WithUserEvents("ping"), webpubsubtest.WithSystemEvents())
	if err != nil {
		t.Fatal(err)
	}
	// No connect event: the unknown user connects.
	conn := srv.Connect(t, "chat", "stranger")
	if err := conn.SendEvent(ctx(t), "other", webpubsubtest.Text("not for the app")); err != nil {
		t.Fatal(err)
	}
	if err := conn.SendEvent(ctx(t), "ping", webpubsubtest.Text("3")); err != nil {
		t.Fatal(err)
	}
	if m := conn.Next(t); m.Text() != "pong 3" {
		t.Errorf("reply %q", m.Text())
	}
	if diff := cmp.Diff([]string{"OPTIONS /api/wps/chat/validate", "POST /api/wps/chat/ping"}, paths); diff != "" {
		t.Errorf("requests the app got (-want +got):\n%s", diff)
	}
	events := srv.Events()
	if len(events) != 2 || events[0].Name != "other" || events[0].Status != 0 || events[1].Status != http.StatusOK {
		t.Errorf("events %+v, want other (no handler) and ping (200)", events)
	}
}

func TestEventHandlerFailures(t *testing.T) {
	refuseHandshake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			http.NotFound(w, r)
		}
	})
	panics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("WebHook-Allowed-Origin", "*")
			return
		}
		panic("the app has a bug")
	})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("WebHook-Allowed-Origin", "*")
			return
		}
		<-r.Context().Done()
	})
	tests := []struct {
		name    string
		handler http.Handler
		want    string
	}{
		{"handshake refused", refuseHandshake, "abuse-protection"},
		{"handler panics", panics, "panicked"},
		{"handler too slow", slow, "did not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := webpubsubtest.NewServer(t, webpubsubtest.WithEventHandlerTimeout(100*time.Millisecond))
			if err := srv.SetEventHandler("chat", tt.handler); err != nil {
				t.Fatal(err)
			}
			_, err := srv.Dial(ctx(t), "chat", "u")
			if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Dial: %v, want a 500 that says %q", err, tt.want)
			}
		})
	}
}

func TestSetEventHandlerErrors(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	ok := http.NotFoundHandler()
	tests := []struct {
		name string
		set  func() error
		want string
	}{
		{"nil handler", func() error { return srv.SetEventHandler("chat", nil) }, "nil"},
		{"relative path", func() error { return srv.SetEventHandler("chat", ok, webpubsubtest.WithEventPath("eh")) }, "must start with /"},
		{"bad hub", func() error { return srv.SetEventHandler("no/slash", ok) }, "hub"},
		{"unknown system event", func() error { return srv.SetEventHandler("chat", ok, webpubsubtest.WithSystemEvents("joined")) }, "joined"},
		{"path with a URL", func() error {
			return srv.SetEventHandlerURL("chat", "http://127.0.0.1:1/eh", webpubsubtest.WithEventPath("/x"))
		}, "SetEventHandler only"},
		{"relative URL", func() error { return srv.SetEventHandlerURL("chat", "/eh") }, "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.set(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}

	srv.Connect(t, "chat", "early")
	for _, hub := range []string{"chat", "*"} {
		if err := srv.SetEventHandler(hub, ok); err == nil || !strings.Contains(err.Error(), "have started") {
			t.Errorf("SetEventHandler(%q) after the first client: %v", hub, err)
		}
	}
	if err := srv.SetEventHandler("other", ok, webpubsubtest.WithUserEvents()); err != nil {
		t.Errorf("a hub without clients: %v", err)
	}
}

func TestWaitForEventHonoursContext(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	c, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := srv.WaitForEvent(c, func(webpubsubtest.Event) bool { return true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForEvent without events: %v", err)
	}
}

// An event handler URL nobody listens at rejects connects with 500; the
// connect, never sent, is not recorded.
func TestEventHandlerURLUnreachable(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL + "/eventhandler?code=secret-function-key"
	gone.Close()
	srv := webpubsubtest.NewServer(t)
	if err := srv.SetEventHandlerURL("chat", url); err != nil {
		t.Fatal(err)
	}
	_, err := srv.Dial(ctx(t), "chat", "u")
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Dial: %v, want a 500 saying the handler is unreachable", err)
	}
	if strings.Contains(err.Error(), "secret-function-key") {
		t.Errorf("the error shows the URL's query: %v", err)
	}
	if events := srv.Events(); len(events) != 0 {
		t.Errorf("events %+v, want none", events)
	}
}

// WithUserEvents() sends no user events: they are acknowledged without the
// handler, which still decides the connect.
func TestEventHandlerWithoutUserEvents(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	app := newChatApp(t, srv.ConnectionString(), "alice")
	if err := srv.SetEventHandler("chat", app.events, webpubsubtest.WithUserEvents(), webpubsubtest.WithSystemEvents("Connect")); err != nil {
		t.Fatal(err)
	}
	alice := srv.Connect(t, "chat", "alice")
	if err := alice.SendEvent(ctx(t), "ping", webpubsubtest.Text("x")); err != nil {
		t.Fatal(err)
	}
	alice.ExpectNoMessage(t, 20*time.Millisecond)
	if _, err := srv.Dial(ctx(t), "chat", "bob"); err == nil {
		t.Error("bob connected: the handler did not get the connect event")
	}
	var got []string
	for _, e := range srv.Events() {
		got = append(got, e.Name+" "+e.UserID+" "+http.StatusText(e.Status))
	}
	if diff := cmp.Diff([]string{"connect alice OK", "ping alice ", "connect bob Unauthorized"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
