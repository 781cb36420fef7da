package wsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

const connectedJSON = `{"type":"system","event":"connected","connectionId":"c1","userId":"u","reconnectionToken":"rt-0123456789"}`

// fakeService accepts WebSockets with the reliable subprotocol and runs
// script on each.
func fakeService(t *testing.T, script func(ctx context.Context, ws *websocket.Conn)) string {
	t.Helper()
	return fakeServiceReq(t, func(ctx context.Context, _ *http.Request, ws *websocket.Conn) { script(ctx, ws) })
}

// fakeServiceReq is fakeService with the handshake request for the script.
func fakeServiceReq(t *testing.T, script func(ctx context.Context, r *http.Request, ws *websocket.Conn)) string {
	t.Helper()
	active := make(chan struct{}, 1000) // one token per running script
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active <- struct{}{}
		defer func() { <-active }()
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.SubprotocolJSONReliable, wire.SubprotocolJSON}})
		if err != nil {
			return
		}
		ws.SetReadLimit(-1)
		script(r.Context(), r, ws)
		_ = ws.CloseNow()
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		for deadline := time.Now().Add(10 * time.Second); len(active) > 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	})
	return "ws://" + strings.TrimPrefix(srv.URL, "http://") + "/client/hubs/h?access_token=" + fakeJWT
}

// drain reads until the client goes away.
func drain(ctx context.Context, ws *websocket.Conn) {
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			return
		}
	}
}

// fakeJWT looks like a token; it must never appear in an error.
const fakeJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJlc2VjcmV0"

func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	noSecretIn(t, "the error", err.Error())
}

func startErr(t *testing.T, u string, o *Options, d time.Duration) error {
	t.Helper()
	c, err := New(u, o)
	if err != nil {
		return err
	}
	defer c.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	began := time.Now()
	err = c.Start(ctx)
	if err == nil {
		t.Fatal("Start succeeded")
	}
	if time.Since(began) > d+2*time.Second {
		t.Fatalf("Start took %s with a %s deadline", time.Since(began), d)
	}
	checkNoSecret(t, err)
	return err
}

func TestConnectErrors(t *testing.T) {
	e := newEnv(t)
	// Nothing listens here.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := ln.Addr().String()
	ln.Close()
	// This one accepts TCP and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	noProto := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err == nil {
			_ = ws.CloseNow()
		}
	}))
	defer noProto.Close()
	echoes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A hostile service that echoes the token, raw and JSON-escaped.
		http.Error(w, `{"error":"bad token `+r.URL.RawQuery+`", "token":"`+r.URL.Query().Get("access_token")+`"}`, http.StatusUnauthorized)
	}))
	defer echoes.Close()

	tests := []struct {
		name   string
		url    string
		d      time.Duration
		status int
		want   []string
	}{
		{"scheme", "ftp://example.com/client/hubs/h?access_token=" + fakeJWT, time.Second, 0, []string{`scheme "ftp"`}},
		{"no host", "ws:///client/hubs/h?access_token=" + fakeJWT, time.Second, 0, []string{"no host"}},
		{"unparsable", "ws://exa mple.com/?access_token=" + fakeJWT, time.Second, 0, []string{"not a valid URL"}},
		{"refused", "ws://" + closedAddr + "/client/hubs/h?access_token=" + fakeJWT, 5 * time.Second, 0, []string{"refused"}},
		{"no answer", "ws://" + silent.Addr().String() + "/client/hubs/h?access_token=" + fakeJWT, 300 * time.Millisecond, 0, []string{"no answer"}},
		{"expired token", e.direct("h", tokenOpts{exp: -time.Minute}), 5 * time.Second, 401, []string{"401", "expired"}},
		{"echoed token", "ws://" + strings.TrimPrefix(echoes.URL, "http://") + "/client/hubs/h?access_token=" + fakeJWT, 5 * time.Second, 401, []string{"401", "bad token"}},
		{"subprotocol", "ws://" + strings.TrimPrefix(noProto.URL, "http://") + "/client/hubs/h?access_token=" + fakeJWT, 5 * time.Second, 0, []string{"did not accept the json.reliable.webpubsub.azure.v1 subprotocol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := startErr(t, tt.url, nil, tt.d)
			var ce *ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want a *ConnectError", err, err)
			}
			if ce.StatusCode != tt.status {
				t.Errorf("StatusCode %d, want %d (%v)", ce.StatusCode, tt.status, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "access_token=e") {
				t.Errorf("error %q shows the query", err)
			}
		})
	}
	t.Run("url func fails", func(t *testing.T) {
		c, _ := NewWithURLFunc(func(context.Context) (string, error) {
			return "", errors.New("negotiate failed: access_token=" + fakeJWT)
		}, nil)
		err := c.Start(ctxT(t, time.Second))
		if err == nil || !strings.Contains(err.Error(), "negotiate failed") {
			t.Fatalf("Start = %v", err)
		}
		checkNoSecret(t, err)
		c.Stop()
	})
}

func TestHostileFrames(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	tests := []struct {
		name   string
		script func(ctx context.Context, ws *websocket.Conn)
		start  string // error of Start, or "" when Start succeeds
		stop   string // error of the stopped client
	}{
		{"garbage first", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte("garbage "+fakeJWT))
		}, "not a valid JSON message", ""},
		{"binary first", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageBinary, []byte(connectedJSON))
		}, "not a connected message", ""},
		{"other first", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"message","from":"server","dataType":"text","data":"x"}`))
		}, "not a connected message", ""},
		{"closed first", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Close(wire.ClosePolicyViolation, "go away")
		}, "close code 1008", ""},
		{"silent", func(ctx context.Context, ws *websocket.Conn) {
			drain(ctx, ws)
		}, "no connected message", ""},
		{"garbage later", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte(connectedJSON))
			_ = ws.Write(ctx, websocket.MessageText, []byte("{not json"))
			drain(ctx, ws)
		}, "", "not a valid JSON message"},
		{"no type", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte(connectedJSON))
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"x":1}`))
			drain(ctx, ws)
		}, "", "without a type"},
		{"bad base64", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte(connectedJSON))
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"message","from":"server","dataType":"binary","data":"%%%"}`))
			drain(ctx, ws)
		}, "", "not valid base64"},
		{"binary later", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte(connectedJSON))
			_ = ws.Write(ctx, websocket.MessageBinary, []byte("x"))
			drain(ctx, ws)
		}, "", "binary frame"},
		{"10 MiB frame", func(ctx context.Context, ws *websocket.Conn) {
			_ = ws.Write(ctx, websocket.MessageText, []byte(connectedJSON))
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"message","from":"server","dataType":"text","data":"`+big+`"}`))
			drain(ctx, ws)
		}, "", "read limited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := fakeService(t, tt.script)
			// The plain JSON protocol: no recovery, the drop is final.
			o := &Options{Protocol: ProtocolJSON, DisableAutoReconnect: true, HandshakeTimeout: 500 * time.Millisecond}
			if tt.start != "" {
				err := startErr(t, u, o, 5*time.Second)
				if !strings.Contains(err.Error(), tt.start) {
					t.Fatalf("Start = %v, want %q", err, tt.start)
				}
				return
			}
			ev := newEvents()
			c := start(t, u, ev.options(o))
			select {
			case <-c.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the client did not stop")
			}
			if err := c.Err(); err == nil || !strings.Contains(err.Error(), tt.stop) {
				t.Fatalf("Err = %v, want %q", err, tt.stop)
			}
			checkNoSecret(t, c.Err())
			list := ev.snapshot()
			if count[DisconnectedEvent](list) != 1 || count[StoppedEvent](list) != 1 {
				t.Errorf("events %#v", list)
			}
		})
	}
}

// A connection on which nothing arrives is dropped after KeepAliveTimeout;
// pings go out every KeepAliveInterval.
func TestKeepAlive(t *testing.T) {
	pings := make(chan struct{}, 10)
	u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
		_ = ws.Write(ctx, websocket.MessageText, []byte(connectedJSON))
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if strings.Contains(string(b), `"ping"`) {
				select {
				case pings <- struct{}{}:
				default: // the test needs one; more must not block the service
				}
			}
		}
	})
	c := start(t, u, &Options{Protocol: ProtocolJSON, DisableAutoReconnect: true, KeepAliveInterval: 100 * time.Millisecond, KeepAliveTimeout: 1500 * time.Millisecond})
	select {
	case <-pings:
	case <-time.After(5 * time.Second):
		t.Fatal("no ping")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the silent connection was not dropped")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "considered dead") {
		t.Fatalf("Err = %v", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /x?access_token=abc.def&x=1", "GET /x?access_token=REDACTED&x=1"},
		{`{"access_token":"abc"}`, `{"access_token":"REDACTED"}`},
		{"awps_reconnection_token%3Dsecret", "awps_reconnection_token%3DREDACTED"},
		{"token " + fakeJWT + " end", "token REDACTED end"},
		{"Authorization: Bearer abc.def", "Authorization: Bearer REDACTED"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := redactSecrets("the secret s3cr3t-value leaked", "s3cr3t-value"); strings.Contains(got, "s3cr3t") {
		t.Errorf("redactSecrets = %q", got)
	}
	if got := oneLine(strings.Repeat("é", 400)); len(got) > 310 {
		t.Errorf("oneLine kept %d bytes", len(got))
	}
}
