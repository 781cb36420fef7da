package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// expressEvent is one line printed by testdata/express-app.mjs.
type expressEvent struct {
	Ev           string         `json:"ev"`
	Port         int            `json:"port"`
	ConnectionID string         `json:"connectionId"`
	UserID       string         `json:"userId"`
	Subprotocols []string       `json:"subprotocols"`
	Scenario     string         `json:"scenario"`
	Event        string         `json:"event"`
	DataType     string         `json:"dataType"`
	Data         any            `json:"data"`
	States       map[string]any `json:"states"`
	Signature    bool           `json:"signature"`
	Reason       string         `json:"reason"`
}

// expressApp runs testdata/express-app.mjs and reads its events.
type expressApp struct {
	t      *testing.T
	port   int
	events chan expressEvent
}

func startExpressApp(t *testing.T, hub string) *expressApp {
	t.Helper()
	dir := nodeModules(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "web-pubsub-express")); err != nil {
		// node_modules predates the express package's pin in package.json.
		npmCI(t, dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "node", "express-app.mjs", hub)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	app := &expressApp{t: t, events: make(chan expressEvent, 100)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(app.events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e expressEvent
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("node printed %q", sc.Text())
				continue
			}
			select {
			case app.events <- e:
			case <-ctx.Done(): // nobody reads any more; the process is being killed
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second): // node ignored the closed stdin
			cancel()
			<-done // the killed process's stdout ends
		}
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Errorf("node express-app.mjs: %v", err)
		}
	})
	app.port = app.next("listening").Port
	return app
}

// next returns the next event, which must be ev.
func (a *expressApp) next(ev string) expressEvent {
	a.t.Helper()
	select {
	case e, ok := <-a.events:
		if !ok {
			a.t.Fatalf("node exited while the test waited for %q", ev)
		}
		if e.Ev != ev {
			a.t.Fatalf("node event %+v, want %q", e, ev)
		}
		return e
	case <-time.After(10 * time.Second):
		a.t.Fatalf("no %q event from node within 10s", ev)
	}
	return expressEvent{}
}

// TestExpressEventHandler points the emulator at an app built on
// @azure/web-pubsub-express 1.1.0: the app must accept the emulator's
// abuse-protection handshake and CloudEvents (connect, connected, user
// events, disconnected), and its answers (rejection, user id, groups,
// connection state, replies) must reach the WebSocket client.
func TestExpressEventHandler(t *testing.T) {
	const hub = "chat"
	app := startExpressApp(t, hub)
	e, err := emulator.New(
		emulator.WithKeepAlive(0),
		emulator.WithUpstream(emulator.UpstreamSetting{
			Hub: hub, URLTemplate: "http://127.0.0.1:" + strconv.Itoa(app.port) + "/eventhandler/{event}", UserEventPattern: "*",
			SystemEvents: []string{wire.CEEventConnect, wire.CEEventConnected, wire.CEEventDisconnected},
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		_ = e.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	client, err := webpubsub.NewClientFromConnectionString("Endpoint="+srv.URL+";AccessKey="+e.AccessKey()+";Version=1.0;", hub)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "js-user"})
	if err != nil {
		t.Fatal(err)
	}

	// A rejected connect fails the WebSocket handshake with its status.
	_, resp, err := websocket.Dial(ctx, tok.URL+"&scenario=reject", &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSON}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("rejected dial: %v (response %v), want status 401", err, resp)
	}
	if got := app.next("connect"); got.Scenario != "reject" || got.UserID != "js-user" {
		t.Errorf("connect event %+v", got)
	}

	ws, _, err := websocket.Dial(ctx, tok.URL, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSON}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := func() map[string]any {
		t.Helper()
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	connected := read()
	if connected["event"] != wire.SystemEventConnected || connected["userId"] != "js-user" {
		t.Fatalf("first message %v", connected)
	}
	connect := app.next("connect")
	if diff := cmp.Diff([]string{wire.SubprotocolJSON}, connect.Subprotocols); diff != "" {
		t.Errorf("connect subprotocols (-want +got):\n%s", diff)
	}
	if got := app.next("connected"); got.ConnectionID != connected["connectionId"] || got.States["greeting"] != "hello" {
		t.Errorf("connected event %+v: want the connection and the state set on connect", got)
	}

	// The groups from connect are joined.
	if err := client.SendToGroup(ctx, "fromExpress", webpubsub.Text("to the group"), nil); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["group"] != "fromExpress" || m["data"] != "to the group" {
		t.Errorf("group message %v", m)
	}

	// User events get replies; the state round-trips through the app.
	for i, want := range []string{"hello world #1", "hello world #2"} {
		b, _ := json.Marshal(map[string]any{"type": "event", "event": "greet", "ackId": i + 1, "dataType": "text", "data": "world"})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		reply, ack := read(), read()
		if diff := cmp.Diff(map[string]any{"type": "message", "from": "server", "dataType": "text", "data": want}, reply); diff != "" {
			t.Errorf("reply %d (-want +got):\n%s", i+1, diff)
		}
		if ack["type"] != "ack" || ack["success"] != true {
			t.Errorf("ack %v", ack)
		}
		if got := app.next("user"); got.Event != "greet" || got.Data != "world" || got.DataType != "text" || got.UserID != "js-user" || !got.Signature {
			t.Errorf("user event %+v", got)
		}
	}

	// A failed user event closes the connection; disconnected carries why.
	b, _ := json.Marshal(map[string]any{"type": "event", "event": "fail", "ackId": 9, "dataType": "json", "data": map[string]int{"n": 1}})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	if ack := read(); ack["type"] != "ack" || ack["success"] != false {
		t.Errorf("ack of the failed event %v", ack)
	}
	if m := read(); m["event"] != wire.SystemEventDisconnected {
		t.Errorf("message %v, want disconnected", m)
	}
	if got := app.next("user"); got.Event != "fail" || got.DataType != "json" {
		t.Errorf("user event %+v", got)
	}
	if got := app.next("disconnected"); got.ConnectionID != connected["connectionId"] || got.Reason == "" {
		t.Errorf("disconnected event %+v, want the connection and a reason", got)
	}
}
