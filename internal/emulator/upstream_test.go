package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestParseUpstreamSetting(t *testing.T) {
	const url = "http://localhost:8080/eventhandler/{event}"
	tests := []struct {
		in      string
		want    UpstreamSetting
		wantErr string
	}{
		{in: "hub=chat;url=" + url + ";user=*;system=connect,connected,disconnected",
			want: UpstreamSetting{Hub: "chat", URLTemplate: url, UserEventPattern: "*", SystemEvents: []string{"connect", "connected", "disconnected"}}},
		{in: "hub=chat;url=" + url,
			want: UpstreamSetting{Hub: "chat", URLTemplate: url, UserEventPattern: "*", SystemEvents: []string{}}},
		{in: " HUB = * ; URL = " + url + " ; user = a, b ; system = Connect ;",
			want: UpstreamSetting{Hub: "*", URLTemplate: url, UserEventPattern: "a,b", SystemEvents: []string{"connect"}}},
		{in: "hub=chat;url=" + url + ";user=;system=disconnected",
			want: UpstreamSetting{Hub: "chat", URLTemplate: url, UserEventPattern: "", SystemEvents: []string{"disconnected"}}},
		{in: "chat=" + url,
			want: UpstreamSetting{Hub: "chat", URLTemplate: url, UserEventPattern: "*", SystemEvents: []string{}}},
		{in: "hub=chat;url=http://h/{hub}/{event}?code=k=v",
			want: UpstreamSetting{Hub: "chat", URLTemplate: "http://h/{hub}/{event}?code=k=v", UserEventPattern: "*", SystemEvents: []string{}}},
		{in: "chat", wantErr: "write key=value pairs"},
		{in: "url=" + url, wantErr: "hub= and url= are required"},
		{in: "hub=chat;user=*", wantErr: "hub= and url= are required"},
		{in: "hub=chat;url=" + url + ";hub=other", wantErr: "hub= is given twice"},
		{in: "hub=chat;url=" + url + ";events=*", wantErr: `"events=*" is not one of`},
		{in: "hub=chat;url=" + url + ";system=connecting", wantErr: `unknown system event "connecting"`},
		{in: "hub=chat;url=" + url + ";user=*,a", wantErr: "cannot be combined"},
		{in: "hub=chat;url=" + url + ";user=a,,b", wantErr: "empty name"},
		{in: "hub=chat;url=localhost:8080/x", wantErr: "not an absolute http or https URL"},
		{in: "hub=chat;url=ftp://h/x", wantErr: "not an absolute http or https URL"},
		{in: "hub=chat;url=http://h/{name}", wantErr: "unknown placeholder"},
		{in: "hub=chat;url=http://u:p@h/x", wantErr: "user name or password"},
		{in: "hub=my-hub;url=" + url, wantErr: "invalid hub name"},
		{in: "my-hub=" + url, wantErr: "invalid hub name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUpstreamSetting(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("setting (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpstreamSecretsStayOutOfMessages(t *testing.T) {
	const secret = "s3cr3t-function-key"
	_, err := ParseUpstreamSetting("hub=chat;url=http://h/{name}?code=" + secret)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v must exist and must not hold the query", err)
	}
	s := UpstreamSetting{Hub: "chat", URLTemplate: "http://h/x?code=" + secret}
	if strings.Contains(s.String(), secret) {
		t.Errorf("String() = %s holds the query", s)
	}
	// An unreachable handler: net/http's error quotes the whole URL.
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: "http://127.0.0.1:1/x?code=" + secret, UserEventPattern: "*"}})
	_, err = d.HandleEvent(context.Background(), Event{Hub: "chat", ConnectionID: "c1", Name: "e", Payload: Payload{DataType: wire.DataTypeText}})
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error %v: want 'unreachable' without the query", err)
	}
}

func TestParseUpstreamConfig(t *testing.T) {
	tests := []struct {
		name, in string
		want     []UpstreamSetting
		wantErr  string
	}{
		{name: "full", in: `{"eventHandlers":[{"hub":"chat","urlTemplate":"http://h/{event}","userEventPattern":"a,b","systemEvents":["connect"]},{"hub":"*","urlTemplate":"https://h/x"}]}`,
			want: []UpstreamSetting{
				{Hub: "chat", URLTemplate: "http://h/{event}", UserEventPattern: "a,b", SystemEvents: []string{"connect"}},
				{Hub: "*", URLTemplate: "https://h/x", UserEventPattern: "*", SystemEvents: []string{}},
			}},
		{name: "no user events", in: `{"eventHandlers":[{"hub":"chat","urlTemplate":"http://h/","userEventPattern":"","systemEvents":["connected"]}]}`,
			want: []UpstreamSetting{{Hub: "chat", URLTemplate: "http://h/", UserEventPattern: "", SystemEvents: []string{"connected"}}}},
		{name: "misspelt field", in: `{"eventHandlers":[{"hub":"chat","url":"http://h/"}]}`, wantErr: `unknown field "url"`},
		{name: "bad entry", in: `{"eventHandlers":[{"hub":"chat","urlTemplate":"http://h/"},{"hub":"chat","urlTemplate":"h"}]}`, wantErr: "eventHandlers[1]"},
		{name: "not JSON", in: `hub=chat`, wantErr: "not the expected JSON"},
		{name: "trailing data", in: `{} {}`, wantErr: "extra data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUpstreamConfig([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadUpstreamConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "upstream.json")
	if err := os.WriteFile(path, []byte(`{"eventHandlers":[{"hub":"chat","urlTemplate":"http://h/{event}"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadUpstreamConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []UpstreamSetting{{Hub: "chat", URLTemplate: "http://h/{event}", UserEventPattern: "*", SystemEvents: []string{}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if _, err := LoadUpstreamConfig(filepath.Join(dir, "missing.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"eventHandlers":[{"hub":"chat"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadUpstreamConfig(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "URL is missing") {
		t.Errorf("bad file: error %v, want the path and the reason", err)
	}
}

func TestUpstreamOptionsAreChecked(t *testing.T) {
	good := UpstreamSetting{Hub: "chat", URLTemplate: "http://h/{event}", UserEventPattern: "*"}
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
	}{
		{"with event handler", []Option{WithUpstream(good), WithEventHandler(EventHandlerFunc(func(context.Context, Event) (*Payload, error) { return nil, nil }))}, "cannot be combined"},
		{"zero timeout", []Option{WithUpstream(good), WithUpstreamTimeout(0)}, "must be positive"},
		{"empty origin", []Option{WithUpstream(good), WithUpstreamOrigin("")}, "WithUpstreamOrigin"},
		{"bad setting", []Option{WithUpstream(UpstreamSetting{Hub: "chat", URLTemplate: "nope"})}, "not an absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.opts...)
			if err == nil {
				_ = e.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	e, err := New(WithUpstream(good), WithUpstreamOrigin("localhost:8080"), WithUpstreamTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.opts.eventHandler.(*dispatcher); !ok {
		t.Errorf("event handler %T, want the dispatcher", e.opts.eventHandler)
	}
	_ = e.Close()
	// Without settings the upstream options change nothing.
	e, err = New(WithUpstream(), WithUpstreamTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	if e.opts.eventHandler != nil {
		t.Errorf("event handler %T without settings, want none", e.opts.eventHandler)
	}
	_ = e.Close()
}

// upstreamApp is a fake event handler that records what it receives.
type upstreamApp struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	options  []http.Header
	posts    []*recordedPost
	allow    string                                       // WebHook-Allowed-Origin answer; "" echoes the origin
	answer   func(w http.ResponseWriter, p *recordedPost) // nil: 204
	released chan struct{}
}

type recordedPost struct {
	path   string
	header http.Header
	body   []byte
}

func newUpstreamApp(t *testing.T) *upstreamApp {
	a := &upstreamApp{t: t, released: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodOptions:
			a.mu.Lock()
			a.options = append(a.options, r.Header.Clone())
			allow := a.allow
			a.mu.Unlock()
			if allow == "" {
				allow = r.Header.Get(wire.HeaderWebHookRequestOrigin)
			}
			w.Header().Set(wire.HeaderWebHookAllowedOrigin, allow)
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			p := &recordedPost{path: r.URL.Path, header: r.Header.Clone(), body: body}
			a.mu.Lock()
			a.posts = append(a.posts, p)
			answer := a.answer
			a.mu.Unlock()
			if answer == nil {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			answer(w, p)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(func() {
		close(a.released)
		a.srv.CloseClientConnections()
		a.srv.Close()
	})
	return a
}

func (a *upstreamApp) setAnswer(f func(w http.ResponseWriter, p *recordedPost)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answer = f
}

func (a *upstreamApp) recorded() (options []http.Header, posts []*recordedPost) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]http.Header(nil), a.options...), append([]*recordedPost(nil), a.posts...)
}

func newTestDispatcher(t *testing.T, settings []UpstreamSetting, keys ...string) *dispatcher {
	t.Helper()
	if len(keys) == 0 {
		keys = []string{DefaultAccessKey}
	}
	for i, s := range settings {
		v, err := s.validate()
		if err != nil {
			t.Fatal(err)
		}
		settings[i] = v
	}
	d := newDispatcher(settings, keys, "", 2*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(d.closeIdle)
	return d
}

func textEvent(connID, name, text string) Event {
	return Event{Hub: "chat", ConnectionID: connID, UserID: "u1", Subprotocol: wire.SubprotocolJSON, Name: name, Payload: Payload{DataType: wire.DataTypeText, Data: []byte(text)}}
}

func TestDispatcherSignsWithEveryKey(t *testing.T) {
	app := newUpstreamApp(t)
	const primary, secondary = "primary-key-0123456789", "secondary-key-9876543210"
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/eh/{hub}/{event}", UserEventPattern: "*"}}, primary, secondary)
	if _, err := d.HandleConnect(context.Background(), ConnectRequest{Hub: "chat", ConnectionID: "conn-1", Headers: map[string][]string{"Host": {"emu.local:8080"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.HandleEvent(context.Background(), textEvent("conn-1", "greet", "hi")); err != nil {
		t.Fatal(err)
	}
	options, posts := app.recorded()
	if len(options) != 1 || len(posts) != 1 {
		t.Fatalf("%d OPTIONS and %d POSTs, want 1 and 1", len(options), len(posts))
	}
	if got := options[0].Get(wire.HeaderWebHookRequestOrigin); got != "emu.local:8080" {
		t.Errorf("OPTIONS origin %q, want the client's Host", got)
	}
	p := posts[0]
	values := strings.Split(p.header.Get(wire.HeaderCESignature), ",")
	want := []string{wire.SignCloudEvent(primary, "conn-1"), wire.SignCloudEvent(secondary, "conn-1")}
	if diff := cmp.Diff(want, values); diff != "" {
		t.Errorf("ce-signature values (-want +got):\n%s", diff)
	}
	gotHeaders := map[string]string{}
	for _, h := range []string{wire.HeaderCESpecVersion, wire.HeaderCEAWPSVersion, wire.HeaderCEType, wire.HeaderCESource, wire.HeaderCEHub,
		wire.HeaderCEConnectionID, wire.HeaderCEEventName, wire.HeaderCEUserID, wire.HeaderCESubprotocol, wire.HeaderWebHookRequestOrigin, wire.HeaderContentType} {
		gotHeaders[h] = p.header.Get(h)
	}
	wantHeaders := map[string]string{
		wire.HeaderCESpecVersion: wire.CESpecVersion, wire.HeaderCEAWPSVersion: wire.CEAWPSVersion,
		wire.HeaderCEType: wire.CEUserType("greet"), wire.HeaderCESource: wire.CESource("chat", "conn-1"),
		wire.HeaderCEHub: "chat", wire.HeaderCEConnectionID: "conn-1", wire.HeaderCEEventName: "greet",
		wire.HeaderCEUserID: "u1", wire.HeaderCESubprotocol: wire.SubprotocolJSON,
		wire.HeaderWebHookRequestOrigin: "emu.local:8080", wire.HeaderContentType: wire.ContentTypeText,
	}
	if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if p.path != "/eh/chat/greet" || string(p.body) != "hi" {
		t.Errorf("POST %s %q, want /eh/chat/greet \"hi\"", p.path, p.body)
	}
	if _, err := time.Parse(time.RFC3339Nano, p.header.Get(wire.HeaderCETime)); err != nil || p.header.Get(wire.HeaderCEID) == "" {
		t.Errorf("ce-time %q / ce-id %q", p.header.Get(wire.HeaderCETime), p.header.Get(wire.HeaderCEID))
	}
}

func TestDispatcherHandshake(t *testing.T) {
	tests := []struct {
		name  string
		allow string
		ok    bool
	}{
		{"echoed origin", "", true},
		{"any origin", "*", true},
		{"list with the origin", "other.example, localhost", true},
		{"other origin", "other.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newUpstreamApp(t)
			app.allow = tt.allow
			d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*"}})
			for range 2 {
				_, err := d.HandleEvent(context.Background(), textEvent("c1", "e", "x"))
				if tt.ok != (err == nil) {
					t.Fatalf("error %v, want ok=%v", err, tt.ok)
				}
				if !tt.ok && (!errors.Is(err, ErrCloseConnection) || !strings.Contains(err.Error(), "abuse-protection")) {
					t.Errorf("error %v, want an abuse-protection failure that closes the connection", err)
				}
			}
			options, posts := app.recorded()
			if len(options) != 1 {
				t.Errorf("%d OPTIONS, want 1 (the result is kept)", len(options))
			}
			if options[0].Get(wire.HeaderCEAWPSVersion) != wire.CEAWPSVersion {
				t.Errorf("OPTIONS without %s", wire.HeaderCEAWPSVersion)
			}
			if want := map[bool]int{true: 2, false: 0}[tt.ok]; len(posts) != want {
				t.Errorf("%d POSTs, want %d", len(posts), want)
			}
		})
	}
}

func TestDispatcherFailures(t *testing.T) {
	tests := []struct {
		name        string
		answer      func(w http.ResponseWriter, p *recordedPost)
		wantTimeout bool
		wantErr     string
	}{
		{"500", func(w http.ResponseWriter, _ *recordedPost) {
			http.Error(w, "database down", http.StatusInternalServerError)
		}, false, "answered 500 to event \"e\": database down"},
		{"400", func(w http.ResponseWriter, _ *recordedPost) { w.WriteHeader(http.StatusBadRequest) }, false, "answered 400"},
		{"redirect", func(w http.ResponseWriter, _ *recordedPost) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}, false, "answered 307"},
		{"body over the cap", func(w http.ResponseWriter, _ *recordedPost) {
			w.Header().Set(wire.HeaderContentType, wire.ContentTypeText)
			_, _ = w.Write(make([]byte, MaxUpstreamResponseBytes+1))
		}, false, "more than 1048576 bytes"},
		{"unknown content type", func(w http.ResponseWriter, _ *recordedPost) {
			w.Header().Set(wire.HeaderContentType, "image/png")
			_, _ = w.Write([]byte("x"))
		}, false, `Content-Type "image/png"`},
		{"invalid JSON", func(w http.ResponseWriter, _ *recordedPost) {
			w.Header().Set(wire.HeaderContentType, wire.ContentTypeJSON)
			_, _ = w.Write([]byte("{"))
		}, false, "invalid JSON"},
		{"timeout", nil, true, "did not answer within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newUpstreamApp(t)
			answer := tt.answer
			if tt.wantTimeout {
				answer = func(http.ResponseWriter, *recordedPost) { <-app.released }
			}
			app.setAnswer(answer)
			d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*"}})
			d.timeout = 300 * time.Millisecond
			start := time.Now()
			reply, err := d.HandleEvent(context.Background(), textEvent("c1", "e", "x"))
			if err == nil {
				t.Fatalf("reply %v, want an error", reply)
			}
			if !errors.Is(err, ErrCloseConnection) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want ErrCloseConnection containing %q", err, tt.wantErr)
			}
			if errors.Is(err, context.DeadlineExceeded) != tt.wantTimeout {
				t.Errorf("errors.Is(DeadlineExceeded) = %v, want %v", !tt.wantTimeout, tt.wantTimeout)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v: the timeout was not honoured", took)
			}
		})
	}
}

func TestDispatcherReplies(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *Payload
	}{
		{"json", 200, "application/json; charset=utf-8", `{"a":1}`, &Payload{DataType: wire.DataTypeJSON, Data: []byte(`{"a":1}`)}},
		{"text", 200, "text/plain; charset=utf-8", "hello", &Payload{DataType: wire.DataTypeText, Data: []byte("hello")}},
		{"binary", 200, "application/octet-stream", "\x00\x01", &Payload{DataType: wire.DataTypeBinary, Data: []byte{0, 1}}},
		{"empty 200", 200, "application/octet-stream", "", nil},
		{"204", 204, "", "", nil},
		{"202 ignores the body", 202, "text/plain", "ignored", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newUpstreamApp(t)
			app.setAnswer(func(w http.ResponseWriter, _ *recordedPost) {
				if tt.contentType != "" {
					w.Header().Set(wire.HeaderContentType, tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*"}})
			got, err := d.HandleEvent(context.Background(), Event{Hub: "chat", ConnectionID: "c1", Name: "e", Payload: Payload{DataType: wire.DataTypeBinary, Data: []byte{9}}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
			_, posts := app.recorded()
			if posts[0].header.Get(wire.HeaderContentType) != wire.ContentTypeBinary {
				t.Errorf("request Content-Type %q, want %s", posts[0].header.Get(wire.HeaderContentType), wire.ContentTypeBinary)
			}
		})
	}
}

func TestDispatcherConnect(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(w http.ResponseWriter)
		want       *ConnectResponse
		wantStatus int
		wantMsg    string
	}{
		{"204 accepts", func(w http.ResponseWriter) { w.WriteHeader(204) }, nil, 0, ""},
		{"empty 200 accepts", func(w http.ResponseWriter) { w.WriteHeader(200) }, nil, 0, ""},
		{"200 reshapes", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"userId":"alice","groups":["g1"],"roles":["webpubsub.joinLeaveGroup"],"subprotocol":"json.webpubsub.azure.v1"}`))
		}, &ConnectResponse{UserID: ptr("alice"), Groups: []string{"g1"}, Roles: []string{"webpubsub.joinLeaveGroup"}, Subprotocol: wire.SubprotocolJSON}, 0, ""},
		{"401", func(w http.ResponseWriter) { http.Error(w, "who are you", http.StatusUnauthorized) }, nil, 401, "who are you"},
		{"403", func(w http.ResponseWriter) { w.WriteHeader(403) }, nil, 403, "(403)"},
		{"other 4xx is 400", func(w http.ResponseWriter) { w.WriteHeader(418) }, nil, 400, "(418)"},
		{"5xx is 500", func(w http.ResponseWriter) { w.WriteHeader(503) }, nil, 500, "503"},
		{"bad JSON is 500", func(w http.ResponseWriter) { _, _ = w.Write([]byte("[1]")) }, nil, 500, "not the expected JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newUpstreamApp(t)
			app.setAnswer(func(w http.ResponseWriter, _ *recordedPost) { tt.answer(w) })
			d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", SystemEvents: []string{"connect"}}})
			req := ConnectRequest{Hub: "chat", ConnectionID: "c1", UserID: "u0", Subprotocols: []string{wire.SubprotocolJSON},
				Claims: map[string][]string{"role": {"a", "b"}}, Query: map[string][]string{"q": {"1"}}, Headers: map[string][]string{"X-A": {"b"}}}
			got, err := d.HandleConnect(context.Background(), req)
			if tt.wantStatus != 0 {
				var ce *ConnectError
				if !errors.As(err, &ce) || ce.StatusCode != tt.wantStatus || !strings.Contains(ce.Message, tt.wantMsg) {
					t.Fatalf("error %#v, want ConnectError %d containing %q", err, tt.wantStatus, tt.wantMsg)
				}
				if _, ok := d.conns[connKey("chat", "c1")]; ok {
					t.Error("a rejected connection is still tracked")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			_, posts := app.recorded()
			var body wire.CEConnectBody
			if err := json.Unmarshal(posts[0].body, &body); err != nil {
				t.Fatal(err)
			}
			wantBody := wire.CEConnectBody{Claims: map[string]wire.CEStrings{"role": {"a", "b"}}, Query: map[string]wire.CEStrings{"q": {"1"}},
				Headers: map[string]wire.CEStrings{"X-A": {"b"}}, Subprotocols: []string{wire.SubprotocolJSON}, ClientCertificates: []wire.CEClientCertificate{}}
			if diff := cmp.Diff(wantBody, body); diff != "" {
				t.Errorf("connect body (-want +got):\n%s", diff)
			}
			if posts[0].header.Get(wire.HeaderCEType) != wire.CETypeConnect || posts[0].header.Get(wire.HeaderCEUserID) != "u0" {
				t.Errorf("ce-type %q, ce-userId %q", posts[0].header.Get(wire.HeaderCEType), posts[0].header.Get(wire.HeaderCEUserID))
			}
		})
	}
	t.Run("unreachable is 500", func(t *testing.T) {
		d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: "http://127.0.0.1:1/{event}", SystemEvents: []string{"connect"}}})
		_, err := d.HandleConnect(context.Background(), ConnectRequest{Hub: "chat", ConnectionID: "c1"})
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.StatusCode != 500 {
			t.Errorf("error %v, want ConnectError 500", err)
		}
	})
	t.Run("not configured accepts without a request", func(t *testing.T) {
		app := newUpstreamApp(t)
		d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*"}})
		if resp, err := d.HandleConnect(context.Background(), ConnectRequest{Hub: "chat", ConnectionID: "c1"}); resp != nil || err != nil {
			t.Errorf("HandleConnect = %v, %v; want nil, nil", resp, err)
		}
		if options, posts := app.recorded(); len(options)+len(posts) != 0 {
			t.Errorf("%d requests, want none", len(options)+len(posts))
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestDispatcherConnectionState(t *testing.T) {
	app := newUpstreamApp(t)
	app.setAnswer(func(w http.ResponseWriter, p *recordedPost) {
		switch p.header.Get(wire.HeaderCEEventName) {
		case "connect":
			w.Header().Set(wire.HeaderCEConnectionState, "s1")
		case "set":
			w.Header().Set(wire.HeaderCEConnectionState, "s2")
		case "clear":
			w.Header()[http.CanonicalHeaderKey(wire.HeaderCEConnectionState)] = []string{""}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*", SystemEvents: []string{"connect", "connected", "disconnected"}}})
	ctx := context.Background()
	info := ConnectionInfo{Hub: "chat", ConnectionID: "c1", UserID: "u1"}
	if _, err := d.HandleConnect(ctx, ConnectRequest{Hub: "chat", ConnectionID: "c1", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	d.HandleConnected(ctx, info)
	for _, name := range []string{"keep", "set", "after", "clear", "last"} {
		if _, err := d.HandleEvent(ctx, textEvent("c1", name, "")); err != nil {
			t.Fatal(err)
		}
	}
	d.HandleDisconnected(ctx, info, "bye")
	_, posts := app.recorded()
	var got []string
	for _, p := range posts {
		state, ok := p.header[http.CanonicalHeaderKey(wire.HeaderCEConnectionState)]
		got = append(got, p.header.Get(wire.HeaderCEEventName)+"="+strings.Join(state, "|")+map[bool]string{false: " (none)"}[ok])
	}
	want := []string{"connect= (none)", "connected=s1", "keep=s1", "set=s1", "after=s2", "clear=s2", "last= (none)", "disconnected= (none)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states sent (-want +got):\n%s", diff)
	}
	if string(posts[len(posts)-1].body) != `{"reason":"bye"}` {
		t.Errorf("disconnected body %s", posts[len(posts)-1].body)
	}
	if len(d.conns) != 0 {
		t.Errorf("%d connections still tracked after disconnected", len(d.conns))
	}
}

func TestDispatcherRouting(t *testing.T) {
	a, b := newUpstreamApp(t), newUpstreamApp(t)
	d := newTestDispatcher(t, []UpstreamSetting{
		{Hub: "chat", URLTemplate: a.srv.URL + "/a/{event}", UserEventPattern: "greet, message", SystemEvents: []string{"connected"}},
		{Hub: "*", URLTemplate: b.srv.URL + "/b/{hub}/{event}", UserEventPattern: "*", SystemEvents: []string{"connected", "disconnected"}},
	})
	ctx := context.Background()
	for _, ev := range []Event{textEvent("c1", "greet", ""), textEvent("c1", "other", ""), {Hub: "news", ConnectionID: "c2", Name: "greet", Payload: Payload{DataType: wire.DataTypeText}}} {
		if _, err := d.HandleEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	d.HandleConnected(ctx, ConnectionInfo{Hub: "chat", ConnectionID: "c1"})
	d.HandleDisconnected(ctx, ConnectionInfo{Hub: "chat", ConnectionID: "c1"}, "")
	paths := func(app *upstreamApp) []string {
		_, posts := app.recorded()
		var out []string
		for _, p := range posts {
			out = append(out, p.path)
		}
		return out
	}
	if diff := cmp.Diff([]string{"/a/greet", "/a/connected"}, paths(a)); diff != "" {
		t.Errorf("first handler (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/b/chat/other", "/b/news/greet", "/b/chat/disconnected"}, paths(b)); diff != "" {
		t.Errorf("second handler (-want +got):\n%s", diff)
	}
}

func TestDispatcherLogsFailedNotifications(t *testing.T) {
	app := newUpstreamApp(t)
	app.setAnswer(func(w http.ResponseWriter, _ *recordedPost) { w.WriteHeader(http.StatusBadGateway) })
	var logs strings.Builder
	var mu sync.Mutex
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}?code=secret", SystemEvents: []string{"connected"}}})
	d.logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	d.HandleConnected(context.Background(), ConnectionInfo{Hub: "chat", ConnectionID: "c1"})
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "status=502") || strings.Contains(logs.String(), "secret") {
		t.Errorf("logs %q: want the 502 and no query", logs.String())
	}
}

func TestDispatcherHandshakeIsSharedAndRetried(t *testing.T) {
	app := newUpstreamApp(t)
	app.allow = "nobody.example"
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*"}})
	d.retry = 200 * time.Millisecond
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = d.HandleEvent(context.Background(), textEvent("c1", "e", "x"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "abuse-protection") {
			t.Errorf("event %d: error %v, want the handshake failure", i, err)
		}
	}
	if options, _ := app.recorded(); len(options) != 1 {
		t.Errorf("%d OPTIONS for concurrent events, want 1", len(options))
	}
	// The app is fixed; after the retry interval the handshake runs again.
	app.mu.Lock()
	app.allow = "*"
	app.mu.Unlock()
	if _, err := d.HandleEvent(context.Background(), textEvent("c1", "e", "x")); err == nil {
		t.Error("an event within the retry interval was delivered")
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := d.HandleEvent(context.Background(), textEvent("c1", "e", "x")); err != nil {
		t.Errorf("after the retry interval: %v", err)
	}
	options, posts := app.recorded()
	if len(options) != 2 || len(posts) != 1 {
		t.Errorf("%d OPTIONS and %d POSTs, want 2 and 1", len(options), len(posts))
	}
}

func TestDispatcherLongErrorBodyIsCut(t *testing.T) {
	app := newUpstreamApp(t)
	app.setAnswer(func(w http.ResponseWriter, _ *recordedPost) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(strings.Repeat("é", 300)))
	})
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: app.srv.URL + "/{event}", UserEventPattern: "*"}})
	_, err := d.HandleEvent(context.Background(), textEvent("c1", "e", "x"))
	if err == nil || !strings.HasSuffix(err.Error(), "…") || len(err.Error()) > 300 || !utf8.ValidString(err.Error()) {
		t.Errorf("error %q: want a short, valid UTF-8 excerpt", err)
	}
}

func TestDispatcherForgetsClientsThatNeverConnected(t *testing.T) {
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: "http://127.0.0.1:1/{event}", UserEventPattern: "*"}})
	ctx := context.Background()
	for _, id := range []string{"pending", "live"} {
		if _, err := d.HandleConnect(ctx, ConnectRequest{Hub: "chat", ConnectionID: id}); err != nil {
			t.Fatal(err)
		}
	}
	d.HandleConnected(ctx, ConnectionInfo{Hub: "chat", ConnectionID: "live"})
	old := time.Now().Add(-2 * pendingConnectTTL)
	d.mu.Lock()
	for _, c := range d.conns {
		c.created = old
	}
	d.swept = old
	d.mu.Unlock()
	if _, err := d.HandleConnect(ctx, ConnectRequest{Hub: "chat", ConnectionID: "new"}); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	var ids []string
	for _, id := range []string{"pending", "live", "new"} {
		if d.conns[connKey("chat", id)] != nil {
			ids = append(ids, id)
		}
	}
	d.mu.Unlock()
	if diff := cmp.Diff([]string{"live", "new"}, ids); diff != "" {
		t.Errorf("tracked connections (-want +got):\n%s", diff)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestUpstreamTransport(t *testing.T) {
	var got []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Method+" "+r.URL.String()+" "+r.Header.Get(wire.HeaderCEEventName))
		h := http.Header{}
		h.Set(wire.HeaderWebHookAllowedOrigin, wire.CEAllowAllOrigins)
		return &http.Response{StatusCode: http.StatusNoContent, Header: h, Body: http.NoBody, Request: r}, nil
	})
	e, err := New(WithUpstream(UpstreamSetting{Hub: "chat", URLTemplate: "http://app.invalid/{event}", UserEventPattern: "*"}),
		WithUpstreamTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	reply, err := e.opts.eventHandler.HandleEvent(context.Background(), textEvent("conn-1", "greet", "hi"))
	if err != nil || reply != nil {
		t.Fatalf("HandleEvent = %v, %v; want no reply and no error", reply, err)
	}
	want := []string{"OPTIONS http://app.invalid/validate ", "POST http://app.invalid/greet greet"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests through the transport (-want +got):\n%s", diff)
	}
}
