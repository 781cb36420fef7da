package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// seenEvent is what the app saw of a user event.
type seenEvent struct {
	Hub, UserID, EventName, Subprotocol, Data string
	DataType                                  eventhandler.DataType
}

// app is an app built on the eventhandler package: it checks the signature
// and origin of every request, records the events, echoes user events
// back, puts alice in group "lobby" on connect and refuses mallory.
type app struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []seenEvent
	system []string // "connect alice", "connected alice", "disconnected alice: reason"
}

func newApp(t *testing.T, key string, origins ...string) *app {
	t.Helper()
	a := &app{}
	h, err := eventhandler.New(testHub, eventhandler.Handlers{
		OnConnect: func(ctx context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			a.record("connect " + strings.Join(req.Claims["sub"], ","))
			switch req.UserID {
			case "mallory":
				return nil, eventhandler.Reject(http.StatusUnauthorized, "mallory is not welcome")
			case "alice":
				return &eventhandler.ConnectResponse{Groups: []string{"lobby"}}, nil
			}
			return nil, nil
		},
		OnConnected: func(ctx context.Context, ev *eventhandler.ConnectedEvent) {
			a.record("connected " + ev.UserID)
		},
		OnDisconnected: func(ctx context.Context, ev *eventhandler.DisconnectedEvent) {
			a.record("disconnected " + ev.UserID + ": " + ev.Reason)
		},
		OnEvent: func(ctx context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			a.mu.Lock()
			a.events = append(a.events, seenEvent{Hub: ev.Hub, UserID: ev.UserID, EventName: ev.EventName, Subprotocol: ev.Subprotocol, Data: string(ev.Data), DataType: ev.DataType})
			a.mu.Unlock()
			if ev.EventName == "quiet" {
				return nil, nil
			}
			return eventhandler.TextReply("echo: " + ev.Text()), nil
		},
	}, eventhandler.WithAccessKeys(key), eventhandler.WithAllowedOrigins(origins...))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/eventhandler/", h)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) record(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.system = append(a.system, s)
}

func (a *app) seen() []seenEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seenEvent(nil), a.events...)
}

// waitSystem waits until the app recorded want (in this order).
func (a *app) waitSystem(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		got := append([]string(nil), a.system...)
		a.mu.Unlock()
		if cmp.Equal(want, got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("system events (-want +got):\n%s", cmp.Diff(want, got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startServe runs serve with args and returns its connection string.
func startServe(t *testing.T, args ...string) (*background, string) {
	t.Helper()
	b := startCLI(t, envMap(nil), append([]string{"serve", "--port", "0", "--log-level", "info"}, args...)...)
	b.stdout.waitFor(t, "Version=1.0;\n")
	return b, strings.TrimSpace(b.stdout.String())
}

// dialAs connects a json.webpubsub.azure.v1 client as user to the service.
func dialAs(t *testing.T, connStr, user string) *wsClient {
	t.Helper()
	ws, err := tryDial(t, connStr, user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.close)
	return ws
}

func tryDial(t *testing.T, connStr, user string) (*wsClient, error) {
	t.Helper()
	c, err := webpubsub.NewClientFromConnectionString(connStr, testHub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := c.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	return dialWebPubSub(ctx, tok.URL)
}

func sendEvent(ws *wsClient, name, dataType string, data any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := wsclient.JSON(data)
	if dataType == wire.DataTypeText {
		p = wsclient.Text(data.(string))
	}
	return ws.c.SendEvent(ctx, name, p, nil)
}

func nextMessage(t *testing.T, ws *wsClient) inbound {
	t.Helper()
	select {
	case m := <-ws.messages:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
		return inbound{}
	}
}

// TestServeEventHandler checks that every kind of event reaches an app
// built on the eventhandler package, signed and validated, and that its
// answers take effect: connect adds a group or rejects, user events reply.
func TestServeEventHandler(t *testing.T) {
	a := newApp(t, emulator.DefaultAccessKey, "127.0.0.1")
	b, connStr := startServe(t, "--log-level", "debug", "--event-handler",
		"hub="+testHub+";url="+a.srv.URL+"/eventhandler/{event}?code=secret-function-key;system=connect,connected,disconnected")
	alice := dialAs(t, connStr, "alice")
	a.waitSystem(t, "connect alice", "connected alice")

	if err := sendEvent(alice, "greet", wire.DataTypeText, "hello app"); err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, alice).line(); got != `from server, text: "echo: hello app"` {
		t.Errorf("reply: %s", got)
	}
	if err := sendEvent(alice, "quiet", wire.DataTypeJSON, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	want := []seenEvent{
		{Hub: testHub, UserID: "alice", EventName: "greet", Subprotocol: wire.SubprotocolJSONReliable, Data: "hello app", DataType: eventhandler.DataText},
		{Hub: testHub, UserID: "alice", EventName: "quiet", Subprotocol: wire.SubprotocolJSONReliable, Data: `{"n":1}`, DataType: eventhandler.DataJSON},
	}
	if diff := cmp.Diff(want, a.seen()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// The connect answer put alice in group "lobby".
	env := envMap(map[string]string{envConnectionString: connStr, envHub: testHub})
	if r := runCLI(t, env, "", "send", "group", "lobby", "for the lobby"); r.code != exitOK {
		t.Fatal(r)
	}
	if got := nextMessage(t, alice).line(); got != `from group "lobby", text: "for the lobby"` {
		t.Errorf("group message: %s", got)
	}

	// The app refuses mallory: the handshake fails with its status.
	if _, err := tryDial(t, connStr, "mallory"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("mallory: %v", err)
	}
	// Closing alice tells the app why.
	if r := runCLI(t, env, "", "connection", "close", alice.ConnectionID, "--reason", "bye"); r.code != exitOK {
		t.Fatal(r)
	}
	a.waitSystem(t, "connect alice", "connected alice", "connect mallory", "disconnected alice: bye")

	b.cancel()
	r := b.wait(t)
	for _, want := range []string{`msg="event handler"`, `msg="event handler validated"`, "/eventhandler/validate", `msg="event delivered"`, "event=greet", "event=connect"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("log lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "secret-function-key") {
		t.Errorf("the log shows the URL's query:\n%s", r.stderr)
	}
}

// TestServeUserEventsOnly: the short form HUB=URL sends user events only,
// so the app is not asked about connects and cannot refuse anyone.
func TestServeUserEventsOnly(t *testing.T) {
	a := newApp(t, emulator.DefaultAccessKey, "127.0.0.1")
	_, connStr := startServe(t, "--event-handler", testHub+"="+a.srv.URL+"/eventhandler/{event}")
	mallory := dialAs(t, connStr, "mallory")
	if err := sendEvent(mallory, "greet", wire.DataTypeText, "hi"); err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, mallory).line(); got != `from server, text: "echo: hi"` {
		t.Errorf("reply: %s", got)
	}
	a.waitSystem(t) // none
}

// TestServeEventHandlerRefusals: a wrong signature and a refused origin
// fail the client's event with a reason, and never reach the app's code.
func TestServeEventHandlerRefusals(t *testing.T) {
	tests := []struct {
		name    string
		appKey  string
		origins []string
		want    string
	}{
		{"wrong key", "AnotherKeyAnotherKeyAnotherKeyAnotherKey1234", []string{"127.0.0.1"}, "InternalServerError: the event handler answered 401"},
		{"origin not allowed", emulator.DefaultAccessKey, []string{"elsewhere.example"}, "failed the abuse-protection validation: OPTIONS answered 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, tt.appKey, tt.origins...)
			_, connStr := startServe(t, "--event-handler", testHub+"="+a.srv.URL+"/eventhandler/{event}")
			ws := dialAs(t, connStr, "bob")
			err := sendEvent(ws, "greet", wire.DataTypeText, "hi")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if got := a.seen(); len(got) != 0 {
				t.Errorf("the app's code ran: %+v", got)
			}
		})
	}
}

func TestServeEventHandlerFlags(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"chat", "--event-handler: event handler"},
		{"bad-hub=http://x/", "--event-handler: "},
		{"chat=ftp://x/{event}", "--event-handler: "},
		{"hub=chat;url=http://x/;system=open", "--event-handler: "},
	}
	for _, tt := range tests {
		r := runCLI(t, envMap(nil), "", "serve", "--port", "0", "--event-handler", tt.spec)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: %+v", tt.spec, r)
		}
	}
}
