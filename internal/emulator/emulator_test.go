package emulator

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"empty key", WithAccessKeys("k", ""), "access key 2 is empty"},
		{"nil logger", WithLogger(nil), "WithLogger(nil)"},
		{"recovery window", WithRecoveryWindow(0), "recovery window"},
		{"buffer", WithBufferLimits(0, 1), "buffer limits"},
		{"reliable buffer", WithReliableBufferMessages(0), "buffer limits (0 messages"},
		{"queue", WithSendQueueLimits(1, 0), "send queue limits"},
		{"keep-alive", WithKeepAlive(-time.Second), "keep-alive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestWithReliableBufferMessages(t *testing.T) {
	tests := []struct {
		messages  int
		wantBytes int
	}{
		{1, DefaultBufferBytes},
		{DefaultBufferMessages, DefaultBufferBytes},
		{5000, 83_885_000}, // 16,777 bytes a message
		{100_000, 1_677_700_000},
	}
	for _, tc := range tests {
		e, err := New(WithReliableBufferMessages(tc.messages))
		if err != nil {
			t.Fatal(err)
		}
		if e.opts.bufferMessages != tc.messages || e.opts.bufferBytes != tc.wantBytes {
			t.Errorf("WithReliableBufferMessages(%d): %d messages, %d bytes; want %d, %d",
				tc.messages, e.opts.bufferMessages, e.opts.bufferBytes, tc.messages, tc.wantBytes)
		}
		_ = e.Close()
	}
}

func TestServeAndClose(t *testing.T) {
	e, err := New(WithKeepAlive(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, errc, err := e.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	resp, err := http.Head(base + "/api/health?api-version=" + testAPIVersion)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	s := &testServer{t: t, e: e, key: e.AccessKey()}
	s.srv = nil
	u := "ws://" + addr.String() + wire.ClientPathDefault + "hub?access_token=" + signToken(t, e.AccessKey(), map[string]any{"aud": base + "/client/hubs/hub"})
	c := s.dialURL(u, wire.SubprotocolJSON)
	cancel()
	if m := c.next(); m["event"] != "disconnected" {
		t.Fatalf("got %v", m)
	}
	if code := c.closeStatus(); code != websocket.StatusGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if _, _, err := e.Serve(context.Background(), "256.0.0.1:1"); err == nil {
		t.Fatal("Serve on a bad address succeeded")
	}
}

func TestKeepAliveDropsDeadClients(t *testing.T) {
	s := newTestServer(t, WithKeepAlive(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A client that never reads cannot answer pings.
	ws, _, err := websocket.Dial(ctx, s.clientURL("hub", clientOpts{user: "dead"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// A reading client answers pings and stays.
	alive := s.connect("hub", clientOpts{user: "alive", subprotocol: "-"})
	eventually(t, "dead client dropped", func() bool { return !s.e.exists("hub", scopeUser, "dead") })
	time.Sleep(150 * time.Millisecond)
	if !s.e.exists("hub", scopeConnection, alive.id) {
		t.Fatal("a live client was dropped")
	}
}

func TestCloseRefusesNewClients(t *testing.T) {
	s := newTestServer(t)
	if err := s.e.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, s.clientURL("hub", clientOpts{}), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v", err)
	}
	if err := s.e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestLogsNeverHoldSecrets: debug logs of REST calls and clients contain
// neither the access key nor any token.
func TestLogsNeverHoldSecrets(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newTestServer(t, WithLogger(logger), WithAccessKeys("super-secret-key-0123456789"))
	u := s.clientURL("hub", clientOpts{user: "u"})
	c := s.dialURL(u, wire.SubprotocolJSON)
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/:send"), nil, "text/plain", []byte("x"))
	c.next()
	_, _ = s.callWithKey("wrong-key", http.MethodPost, hubPath("hub", "/:send"), nil, "text/plain", []byte("x"))
	bad := s.clientURL("hub", clientOpts{}) + "x" // corrupt signature
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, _ = websocket.Dial(ctx, bad, nil)
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	token := u[strings.Index(u, "access_token=")+len("access_token="):]
	for _, secret := range []string{"super-secret-key-0123456789", token, "eyJ"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain a secret %.12q…:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "operation=SendToAll") || !strings.Contains(logs, "client connected") {
		t.Errorf("logs miss expected events:\n%s", logs)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
