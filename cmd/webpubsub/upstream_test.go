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
)

// seenEvent is what the app saw of a user event.
type seenEvent struct {
	Hub, UserID, EventName, Subprotocol, Data string
	DataType                                  eventhandler.DataType
}

// newApp is an app built on the eventhandler package: it checks the
// signature and origin of every request, records the events and echoes
// them back.
func newApp(t *testing.T, key string, origins ...string) (*httptest.Server, func() []seenEvent) {
	t.Helper()
	var mu sync.Mutex
	var seen []seenEvent
	h, err := eventhandler.New(testHub, eventhandler.Handlers{
		OnEvent: func(ctx context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			mu.Lock()
			seen = append(seen, seenEvent{Hub: ev.Hub, UserID: ev.UserID, EventName: ev.EventName, Subprotocol: ev.Subprotocol, Data: string(ev.Data), DataType: ev.DataType})
			mu.Unlock()
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
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() []seenEvent {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenEvent(nil), seen...)
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
	ws, err := dialWebPubSub(ctx, tok.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.close)
	return ws
}

func sendEvent(ws *wsClient, name, dataType string, data any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return ws.request(ctx, map[string]any{"type": wire.TypeEvent, "event": name, "dataType": dataType, "data": data})
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

// TestServeEventHandler checks that user events reach an app built on the
// eventhandler package, signed and validated, and its replies come back.
func TestServeEventHandler(t *testing.T) {
	app, seen := newApp(t, emulator.DefaultAccessKey, "127.0.0.1")
	b, connStr := startServe(t, "--event-handler", testHub+"="+app.URL+"/eventhandler/{event}?code=secret-function-key")
	alice := dialAs(t, connStr, "alice")

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
		{Hub: testHub, UserID: "alice", EventName: "greet", Subprotocol: wire.SubprotocolJSON, Data: "hello app", DataType: eventhandler.DataText},
		{Hub: testHub, UserID: "alice", EventName: "quiet", Subprotocol: wire.SubprotocolJSON, Data: `{"n":1}`, DataType: eventhandler.DataJSON},
	}
	if diff := cmp.Diff(want, seen()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	b.stderr.waitFor(t, `msg="event delivered" hub=chat event=quiet`)
	b.cancel()
	r := b.wait(t)
	for _, want := range []string{`msg="event handler validated"`, "/eventhandler/validate?…", "status=204"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("log lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "secret-function-key") {
		t.Errorf("the log shows the URL's query:\n%s", r.stderr)
	}
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
		{"origin not allowed", emulator.DefaultAccessKey, []string{"elsewhere.example"}, "failed the abuse-protection check (OPTIONS answered 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, seen := newApp(t, tt.appKey, tt.origins...)
			_, connStr := startServe(t, "--event-handler", testHub+"="+app.URL+"/eventhandler/{event}")
			ws := dialAs(t, connStr, "bob")
			err := sendEvent(ws, "greet", wire.DataTypeText, "hi")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if got := seen(); len(got) != 0 {
				t.Errorf("the app's code ran: %+v", got)
			}
		})
	}
}

func TestServeEventHandlerFlags(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"chat", "write HUB=URL"},
		{"bad-hub=http://x/", `hub "bad-hub": not a hub name`},
		{"chat=ftp://x/{event}", `"ftp://x/{event}" is not an http or https URL`},
		{"chat=/relative?code=k", `"/relative?…" is not an http or https URL`},
	}
	for _, tt := range tests {
		r := runCLI(t, envMap(nil), "", "serve", "--port", "0", "--event-handler", tt.spec)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: %+v", tt.spec, r)
		}
	}
}
