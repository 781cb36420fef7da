package eventhandler_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// Each case breaks one thing about a valid testdata request; the handler
// must answer the 4xx with a reason and never call user code.
func TestRefusedRequests(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		edit       func(r *http.Request)
		opts       []eventhandler.Option
		wantStatus int
		wantReason string
	}{
		{name: "forged signature", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-signature", "sha256="+strings.Repeat("ab", 32)) },
			wantStatus: http.StatusUnauthorized, wantReason: "ce-signature matches none of the configured access keys"},
		{name: "signature signed with another key", file: "event_json.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-signature", sign("some-other-key", conn1)) },
			wantStatus: http.StatusUnauthorized, wantReason: "ce-signature matches none"},
		{name: "signature of another connection", file: "event_json.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-connectionId", "someone-else") },
			wantStatus: http.StatusUnauthorized, wantReason: "ce-signature matches none"},
		{name: "signature without prefix", file: "connect.http",
			edit: func(r *http.Request) {
				r.Header.Set("ce-signature", strings.TrimPrefix(sign(primaryKey, conn1), "sha256="))
			},
			wantStatus: http.StatusUnauthorized, wantReason: "ce-signature matches none"},
		{name: "unsigned", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Del("ce-signature") },
			wantStatus: http.StatusUnauthorized, wantReason: "missing ce-signature header"},
		{name: "wrong hub", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-hub", "admin") },
			wantStatus: http.StatusBadRequest, wantReason: `the event is for hub "admin" but this handler serves hub "chat"`},
		{name: "missing ce-awpsversion", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Del("ce-awpsversion") },
			wantStatus: http.StatusBadRequest, wantReason: "missing ce-awpsversion header"},
		{name: "missing ce-specversion", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Del("ce-specversion") },
			wantStatus: http.StatusBadRequest, wantReason: "missing ce-specversion header"},
		{name: "missing ce-type", file: "connected.http",
			edit:       func(r *http.Request) { r.Header.Del("ce-type") },
			wantStatus: http.StatusBadRequest, wantReason: "missing ce-type header"},
		{name: "missing ce-hub", file: "disconnected.http",
			edit:       func(r *http.Request) { r.Header.Del("ce-hub") },
			wantStatus: http.StatusBadRequest, wantReason: "missing ce-hub header"},
		{name: "missing ce-connectionId", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Del("ce-connectionId") },
			wantStatus: http.StatusBadRequest, wantReason: "missing ce-connectionId header"},
		{name: "missing WebHook-Request-Origin", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Del("WebHook-Request-Origin") },
			wantStatus: http.StatusBadRequest, wantReason: "missing WebHook-Request-Origin header"},
		{name: "unsupported spec version", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-specversion", "0.3") },
			wantStatus: http.StatusBadRequest, wantReason: `unsupported ce-specversion "0.3"`},
		{name: "origin not allowed", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Set("WebHook-Request-Origin", "evil.example.com") },
			wantStatus: http.StatusForbidden, wantReason: `WebHook-Request-Origin "evil.example.com" is not an allowed origin`},
		{name: "unknown system event", file: "connect.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-type", "azure.webpubsub.sys.reboot") },
			wantStatus: http.StatusBadRequest, wantReason: `unsupported ce-type "azure.webpubsub.sys.reboot"`},
		{name: "user event without a name", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-type", "azure.webpubsub.user.") },
			wantStatus: http.StatusBadRequest, wantReason: "unsupported ce-type"},
		{name: "foreign ce-type", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-type", "com.example.order.created") },
			wantStatus: http.StatusBadRequest, wantReason: "unsupported ce-type"},
		{name: "event name contradicts type", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-eventName", "other") },
			wantStatus: http.StatusBadRequest, wantReason: `ce-eventName "other" does not match ce-type "azure.webpubsub.user.greet"`},
		{name: "connection state not base64", file: "event_json.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-connectionState", "%%%") },
			wantStatus: http.StatusBadRequest, wantReason: "ce-connectionState is not base64"},
		{name: "connection state not a JSON object", file: "event_json.http",
			edit:       func(r *http.Request) { r.Header.Set("ce-connectionState", b64(`[1,2]`)) },
			wantStatus: http.StatusBadRequest, wantReason: "ce-connectionState is not a base64-encoded JSON object"},
		{name: "oversized body by Content-Length", file: "event_binary.http",
			opts:       []eventhandler.Option{eventhandler.WithMaxBodyBytes(4)},
			wantStatus: http.StatusRequestEntityTooLarge, wantReason: "the request body is larger than 4 bytes"},
		{name: "oversized body of unknown length", file: "event_binary.http",
			edit:       func(r *http.Request) { r.ContentLength = -1 },
			opts:       []eventhandler.Option{eventhandler.WithMaxBodyBytes(4)},
			wantStatus: http.StatusRequestEntityTooLarge, wantReason: "the request body is larger than 4 bytes"},
		{name: "oversized body by default cap", file: "event_binary.http",
			edit:       func(r *http.Request) { setBody(r, bytes.Repeat([]byte{'x'}, eventhandler.DefaultMaxBodyBytes+1)) },
			wantStatus: http.StatusRequestEntityTooLarge, wantReason: "the request body is larger than 1048576 bytes"},
		{name: "body read fails", file: "event_binary.http",
			edit:       func(r *http.Request) { r.Body = io.NopCloser(failingReader{}); r.ContentLength = -1 },
			wantStatus: http.StatusBadRequest, wantReason: "reading the request body failed"},
		{name: "connect body not JSON", file: "connect.http",
			edit:       func(r *http.Request) { setBody(r, []byte("claims=1")) },
			wantStatus: http.StatusBadRequest, wantReason: "the connect event's body is not a JSON object"},
		{name: "connect body empty", file: "connect.http",
			edit:       func(r *http.Request) { setBody(r, nil) },
			wantStatus: http.StatusBadRequest, wantReason: "the connect event's body is not a JSON object"},
		{name: "connect body an array", file: "connect.http",
			edit:       func(r *http.Request) { setBody(r, []byte(`[{"claims":{}}]`)) },
			wantStatus: http.StatusBadRequest, wantReason: "the connect event's body is not a JSON object"},
		{name: "connect body truncated", file: "connect.http",
			edit:       func(r *http.Request) { setBody(r, []byte(`{"claims": {"sub": ["ana"]`)) },
			wantStatus: http.StatusBadRequest, wantReason: "the connect event's body is not valid"},
		{name: "connect claims of the wrong type", file: "connect.http",
			edit:       func(r *http.Request) { setBody(r, []byte(`{"claims": {"sub": 42}}`)) },
			wantStatus: http.StatusBadRequest, wantReason: "want a string or an array of strings"},
		{name: "connect subprotocols of the wrong type", file: "connect.http",
			edit:       func(r *http.Request) { setBody(r, []byte(`{"subprotocols": "json.webpubsub.azure.v1"}`)) },
			wantStatus: http.StatusBadRequest, wantReason: "the connect event's body is not valid"},
		{name: "disconnected body not JSON", file: "disconnected.http",
			edit:       func(r *http.Request) { setBody(r, []byte("bye")) },
			wantStatus: http.StatusBadRequest, wantReason: "the disconnected event's body is not a JSON object"},
		{name: "disconnected reason of the wrong type", file: "disconnected.http",
			edit:       func(r *http.Request) { setBody(r, []byte(`{"reason": 1000}`)) },
			wantStatus: http.StatusBadRequest, wantReason: "the disconnected event's body is not valid"},
		{name: "user event JSON invalid", file: "event_json.http",
			edit:       func(r *http.Request) { setBody(r, []byte(`{"hello":`)) },
			wantStatus: http.StatusBadRequest, wantReason: `the "chat" event's body is not valid JSON`},
		{name: "user event unknown content type", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Set("Content-Type", "application/xml") },
			wantStatus: http.StatusUnsupportedMediaType, wantReason: `unsupported Content-Type "application/xml" for a user event`},
		{name: "user event without content type", file: "event_text.http",
			edit:       func(r *http.Request) { r.Header.Del("Content-Type") },
			wantStatus: http.StatusUnsupportedMediaType, wantReason: `unsupported Content-Type ""`},
		{name: "GET", file: "connect.http",
			edit:       func(r *http.Request) { r.Method = http.MethodGet },
			wantStatus: http.StatusMethodNotAllowed, wantReason: "method GET is not allowed"},
		{name: "PUT", file: "event_text.http",
			edit:       func(r *http.Request) { r.Method = http.MethodPut },
			wantStatus: http.StatusMethodNotAllowed, wantReason: "method PUT is not allowed"},
		{name: "DELETE", file: "validate.http",
			edit:       func(r *http.Request) { r.Method = http.MethodDelete },
			wantStatus: http.StatusMethodNotAllowed, wantReason: "method DELETE is not allowed"},
		{name: "OPTIONS from another origin", file: "validate.http",
			edit:       func(r *http.Request) { r.Header.Set("WebHook-Request-Origin", "evil.example.com") },
			wantStatus: http.StatusForbidden, wantReason: `WebHook-Request-Origin "evil.example.com" is not an allowed origin`},
		{name: "OPTIONS from a look-alike origin", file: "validate.http",
			edit: func(r *http.Request) {
				r.Header.Set("WebHook-Request-Origin", "demo.webpubsub.azure.com.evil.example.com")
			},
			wantStatus: http.StatusForbidden, wantReason: "is not an allowed origin"},
		{name: "OPTIONS without origin", file: "validate.http",
			edit:       func(r *http.Request) { r.Header.Del("WebHook-Request-Origin") },
			wantStatus: http.StatusBadRequest, wantReason: "missing WebHook-Request-Origin header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			var logs bytes.Buffer
			opts := append([]eventhandler.Option{eventhandler.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, tt.opts...)
			h := newHandler(t, c.handlers(&eventhandler.ConnectResponse{UserID: "x"}, eventhandler.TextReply("x"), nil), opts...)
			req := loadRequest(t, tt.file)
			if tt.edit != nil {
				tt.edit(req)
			}
			got := serve(h, req)
			if got.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", got.Status, tt.wantStatus, got.Body)
			}
			if !strings.Contains(got.Body, tt.wantReason) {
				t.Errorf("body = %q, want it to contain %q", got.Body, tt.wantReason)
			}
			if c.n != 0 {
				t.Errorf("user code was called %d times; refused requests must never reach it", c.n)
			}
			if got.AllowedOrigin != "" || got.ConnectionState != "" {
				t.Errorf("refusal carries WebHook-Allowed-Origin %q / ce-connectionState %q", got.AllowedOrigin, got.ConnectionState)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && got.Allow != "OPTIONS, POST" {
				t.Errorf("Allow = %q, want %q", got.Allow, "OPTIONS, POST")
			}
			if !strings.Contains(logs.String(), "request refused") {
				t.Errorf("log does not record the refusal:\n%s", logs.String())
			}
			assertNoSecrets(t, logs.String())
		})
	}
}

func setBody(r *http.Request, b []byte) {
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// assertNoSecrets fails if s contains a key or a signature.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{primaryKey, secondaryKey, "sha256="} {
		if strings.Contains(s, secret) {
			t.Errorf("log contains a secret (%.12s...):\n%s", secret, s)
		}
	}
}

func TestAbuseProtection(t *testing.T) {
	tests := []struct {
		name   string
		opts   []eventhandler.Option
		origin string
		want   result
	}{
		{name: "endpoint host of the connection string", origin: serviceHost,
			want: result{Status: http.StatusOK, AllowedOrigin: serviceHost}},
		{name: "case-insensitive host", origin: "Demo.WebPubSub.Azure.com",
			want: result{Status: http.StatusOK, AllowedOrigin: "Demo.WebPubSub.Azure.com"}},
		{name: "one of a list", origin: "evil.example.com, " + serviceHost,
			want: result{Status: http.StatusOK, AllowedOrigin: serviceHost}},
		{name: "extra allowed origin by URL", opts: []eventhandler.Option{eventhandler.WithAllowedOrigins("http://localhost:8080")},
			origin: "localhost:8080", want: result{Status: http.StatusOK, AllowedOrigin: "localhost:8080"}},
		{name: "extra allowed origin by host", opts: []eventhandler.Option{eventhandler.WithAllowedOrigins("other.webpubsub.azure.com")},
			origin: "other.webpubsub.azure.com", want: result{Status: http.StatusOK, AllowedOrigin: "other.webpubsub.azure.com"}},
		{name: "IPv6 origin", opts: []eventhandler.Option{eventhandler.WithAllowedOrigins("http://[::1]:8080")},
			origin: "[::1]:8080", want: result{Status: http.StatusOK, AllowedOrigin: "[::1]:8080"}},
		{name: "any origin", opts: []eventhandler.Option{eventhandler.WithAllowedOrigins("*")},
			origin: "anything.example.com", want: result{Status: http.StatusOK, AllowedOrigin: "*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			h := newHandler(t, c.handlers(nil, nil, nil), tt.opts...)
			req := loadRequest(t, "validate.http")
			req.Header.Set("WebHook-Request-Origin", tt.origin)
			if diff := cmp.Diff(tt.want, serve(h, req)); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if c.n != 0 {
				t.Errorf("user code called %d times during the handshake", c.n)
			}
		})
	}
}

func TestSignatureVariants(t *testing.T) {
	tests := []struct {
		name      string
		opts      []eventhandler.Option
		signature string
	}{
		{name: "secondary key only configured", signature: bothSignatures(conn1),
			opts: []eventhandler.Option{eventhandler.WithAccessKeys(secondaryKey)}},
		{name: "primary value alone", signature: sign(primaryKey, conn1)},
		{name: "secondary value alone", signature: sign(secondaryKey, conn1)},
		{name: "uppercase hex", signature: "sha256=" + strings.ToUpper(strings.TrimPrefix(sign(primaryKey, conn1), "sha256="))},
		{name: "spaces after commas", signature: sign("old-key", conn1) + ", " + sign(secondaryKey, conn1)},
		{name: "validation off accepts anything", signature: "sha256=forged",
			opts: []eventhandler.Option{eventhandler.WithoutSignatureValidation()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			opts := append([]eventhandler.Option{eventhandler.WithAllowedOrigins(serviceHost)}, tt.opts...)
			if len(tt.opts) == 0 {
				opts = append(opts, eventhandler.WithAccessKeys(primaryKey, secondaryKey))
			}
			h, err := eventhandler.New("chat", c.handlers(nil, nil, nil), opts...)
			if err != nil {
				t.Fatal(err)
			}
			req := loadRequest(t, "event_text.http")
			req.Header.Set("ce-signature", tt.signature)
			if got := serve(h, req); got.Status != http.StatusNoContent || c.n != 1 {
				t.Errorf("status %d (%q), calls %d; want 204 and one call", got.Status, got.Body, c.n)
			}
		})
	}
}

func TestHubMatchesCaseInsensitively(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	req := loadRequest(t, "connected.http")
	req.Header.Set("ce-hub", "CHAT")
	if got := serve(h, req); got.Status != http.StatusOK || c.conn == nil || c.conn.Hub != "CHAT" {
		t.Errorf("status %d, event %+v; want 200 and the hub as sent", got.Status, c.conn)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		hub     string
		opts    []eventhandler.Option
		wantErr string
	}{
		{name: "empty hub", hub: " ", opts: []eventhandler.Option{eventhandler.WithConnectionString(testConnectionString)},
			wantErr: "the hub name is empty"},
		{name: "no key", hub: "chat", opts: []eventhandler.Option{eventhandler.WithAllowedOrigins(serviceHost)},
			wantErr: "no access key to check ce-signature"},
		{name: "no origin", hub: "chat", opts: []eventhandler.Option{eventhandler.WithAccessKeys(primaryKey)},
			wantErr: "no allowed origin"},
		{name: "empty key", hub: "chat", opts: []eventhandler.Option{eventhandler.WithConnectionString(testConnectionString), eventhandler.WithAccessKeys("")},
			wantErr: "WithAccessKeys: key 1 is empty"},
		{name: "bad connection string", hub: "chat", opts: []eventhandler.Option{eventhandler.WithConnectionString("Endpoint=ftp://x;AccessKey=" + primaryKey)},
			wantErr: "WithConnectionString"},
		{name: "empty origin", hub: "chat", opts: []eventhandler.Option{eventhandler.WithAccessKeys(primaryKey), eventhandler.WithAllowedOrigins("")},
			wantErr: "WithAllowedOrigins: an origin is empty"},
		{name: "origin URL without host", hub: "chat", opts: []eventhandler.Option{eventhandler.WithAccessKeys(primaryKey), eventhandler.WithAllowedOrigins("https://")},
			wantErr: `allowed origin "https://" is not a URL with a host`},
		{name: "non-positive body cap", hub: "chat", opts: []eventhandler.Option{eventhandler.WithConnectionString(testConnectionString), eventhandler.WithMaxBodyBytes(0)},
			wantErr: "WithMaxBodyBytes: 0 is not a positive size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := eventhandler.New(tt.hub, eventhandler.Handlers{}, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() = %v, %v; want an error containing %q", h, err, tt.wantErr)
			}
			assertNoSecrets(t, err.Error())
		})
	}

	h, err := eventhandler.New("chat", eventhandler.Handlers{}, nil, eventhandler.WithoutSignatureValidation(),
		eventhandler.WithAllowedOrigins("*"), eventhandler.WithLogger(nil))
	if err != nil {
		t.Fatalf("New with validation off: %v", err)
	}
	if h.Hub() != "chat" {
		t.Errorf("Hub() = %q", h.Hub())
	}
}

func TestLogging(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHandler(t, eventhandler.Handlers{
		OnConnect: func(context.Context, *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			return nil, eventhandler.Reject(http.StatusUnauthorized, "no entry")
		},
		OnEvent: func(context.Context, *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			return nil, errBoom
		},
	}, eventhandler.WithLogger(logger))
	for _, f := range []string{"validate.http", "connect.http", "event_json.http", "connected.http"} {
		serve(h, loadRequest(t, f))
	}
	out := logs.String()
	for _, want := range []string{"abuse-protection request allowed", "event received", "callback rejected the event",
		"status=401", "callback failed", errBoom.Error(), "connectionId=" + conn1} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	assertNoSecrets(t, out)
}
