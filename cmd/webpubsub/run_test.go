package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// TestListen runs listen in the background, sends through the SDK and
// checks the printed lines.
func TestListen(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		sends func(ctx context.Context, c *webpubsub.Client) error
		want  string
	}{
		{
			name: "text lines",
			args: []string{"listen", "--user", "alice", "--count", "3", "--timeout", "10s"},
			sends: func(ctx context.Context, c *webpubsub.Client) error {
				return firstErr(
					c.SendToAll(ctx, webpubsub.JSON(map[string]int{"n": 1}), nil),
					c.SendToUser(ctx, "alice", webpubsub.Text("two\nlines"), nil),
					c.SendToAll(ctx, webpubsub.Binary([]byte{0xde, 0xad, 0xbe, 0xef}), nil))
			},
			want: `from server, json: {"n":1}` + "\n" +
				`from server, text: "two\nlines"` + "\n" +
				"from server, binary: 3q2+7w==\n",
		},
		{
			name: "groups and raw json",
			args: []string{"listen", "--user", "bob", "--group", "g1", "--group", "g2", "--count", "2", "--output", "json"},
			sends: func(ctx context.Context, c *webpubsub.Client) error {
				return firstErr(
					c.SendToGroup(ctx, "g2", webpubsub.Text("to g2"), nil),
					c.SendToGroup(ctx, "g1", webpubsub.JSON([]int{1}), nil))
			},
			want: `{"type":"message","from":"group","group":"g2","dataType":"text","data":"to g2"}` + "\n" +
				`{"type":"message","from":"group","group":"g1","dataType":"json","data":[1]}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			b := startCLI(t, s.env(), tt.args...)
			b.stderr.waitFor(t, "listening ")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tt.sends(ctx, s.client); err != nil {
				t.Fatal(err)
			}
			r := b.wait(t)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if diff := cmp.Diff(tt.want, r.stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListenEnds(t *testing.T) {
	s := newService(t)
	t.Run("timeout before count is an error", func(t *testing.T) {
		r := runCLI(t, s.env(), "", "listen", "--count", "1", "--timeout", "1s")
		if r.code != exitFailure || !strings.Contains(r.stderr, "timed out after 1s: received 0 of 1 messages") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("timeout without count is the end", func(t *testing.T) {
		r := runCLI(t, s.env(), "", "listen", "--user", "u", "--timeout", "500ms")
		if r.code != exitOK || !strings.Contains(r.stderr, `listening as user "u"`) || r.stdout != "" {
			t.Errorf("%+v", r)
		}
	})
	t.Run("interrupt is the end", func(t *testing.T) {
		b := startCLI(t, s.env(), "listen")
		b.stderr.waitFor(t, "listening anonymously")
		b.cancel()
		if r := b.wait(t); r.code != exitOK {
			t.Errorf("%+v", r)
		}
	})
	t.Run("closed by the service", func(t *testing.T) {
		b := startCLI(t, s.env(), "listen", "--user", "zoe")
		b.stderr.waitFor(t, "listening")
		if err := s.client.CloseUserConnections(context.Background(), "zoe", &webpubsub.CloseConnectionsOptions{Reason: "go away"}); err != nil {
			t.Fatal(err)
		}
		r := b.wait(t)
		if r.code != exitFailure || !strings.Contains(r.stderr, "the service disconnected the client: go away") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("rejected with the service's reason", func(t *testing.T) {
		wrongKey := strings.Replace(s.connStr, "AccessKey=", "AccessKey=wrong", 1)
		env := envMap(map[string]string{envConnectionString: wrongKey, envHub: testHub})
		r := runCLI(t, env, "", "listen", "--timeout", "5s")
		if r.code != exitFailure || !strings.Contains(r.stderr, "401 Unauthorized") || !strings.Contains(r.stderr, "signature") || strings.Contains(r.stderr, "access_token=ey") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("unreachable service", func(t *testing.T) {
		env := envMap(map[string]string{envConnectionString: "Endpoint=http://127.0.0.1:1;AccessKey=" + emulator.DefaultAccessKey, envHub: testHub})
		r := runCLI(t, env, "", "listen", "--timeout", "5s")
		if r.code != exitFailure || !strings.Contains(r.stderr, "connect the WebSocket client") || strings.Contains(r.stderr, "access_token=ey") {
			t.Errorf("%+v", r)
		}
	})
}

// TestServe runs serve on a free port, uses it with the other commands and
// stops it like Ctrl-C does.
func TestServe(t *testing.T) {
	b := startCLI(t, envMap(nil), "serve", "--port", "0", "--log-level", "info")
	b.stdout.waitFor(t, "Version=1.0;\n")
	connStr := strings.TrimSpace(b.stdout.String())
	if !strings.HasPrefix(connStr, "Endpoint=http://127.0.0.1:") || !strings.Contains(connStr, "AccessKey="+emulator.DefaultAccessKey) {
		t.Fatalf("connection string %q", connStr)
	}
	env := envMap(map[string]string{envConnectionString: connStr, envHub: testHub})

	l := startCLI(t, env, "listen", "--user", "alice", "--count", "1", "--timeout", "10s")
	l.stderr.waitFor(t, "listening")
	b.stderr.waitFor(t, "client connected")
	if strings.Contains(b.stderr.String(), "client disconnected") {
		t.Errorf("serve logged the client's departure while it is connected:\n%s", b.stderr.String())
	}
	if r := runCLI(t, env, "", "send", "user", "alice", "via serve"); r.code != exitOK {
		t.Fatalf("send: %+v", r)
	}
	if r := l.wait(t); r.code != exitOK || r.stdout != `from server, text: "via serve"`+"\n" {
		t.Fatalf("listen: %+v", r)
	}
	b.stderr.waitFor(t, "client disconnected")

	b.cancel()
	r := b.wait(t)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"Web PubSub emulator listening on http://127.0.0.1:",
		`msg="client connected" path=/client/hubs/chat`,
		`msg="client disconnected" path=/client/hubs/chat remote=127.0.0.1:`,
		`msg=request operation=SendToUser method=POST path=/api/hubs/chat/users/alice/:send status=202`,
		`msg="shutting down"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, emulator.DefaultAccessKey) || strings.Contains(r.stderr, "access_token") {
		t.Errorf("the log shows a secret:\n%s", r.stderr)
	}
}

func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	key := "ConfigKeyConfigKeyConfigKeyConfigKeyConfig12"
	if err := os.WriteFile(good, []byte(`{"address":"127.0.0.1","port":0,"accessKeys":["`+key+`"],"logLevel":"warn","eventHandlers":[{"hub":"chat","urlTemplate":"http://127.0.0.1:1/{event}"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startCLI(t, envMap(nil), "serve", "--config", good, "--output", "json")
	b.stdout.waitFor(t, "}\n")
	if !strings.Contains(b.stdout.String(), `"connectionString":"Endpoint=http://127.0.0.1:`) || !strings.Contains(b.stdout.String(), "AccessKey="+key) {
		t.Fatalf("stdout %q", b.stdout.String())
	}
	b.cancel()
	if r := b.wait(t); r.code != exitOK || strings.Contains(r.stderr, "level=INFO") {
		t.Errorf("%+v", r)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"prot": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, envMap(nil), "", "serve", "--config", bad)
	if r.code != exitUsage || !strings.Contains(r.stderr, `unknown field "prot"`) {
		t.Errorf("bad config: %+v", r)
	}
	badHandler := filepath.Join(dir, "handler.json")
	if err := os.WriteFile(badHandler, []byte(`{"eventHandlers": [{"hub": "chat", "urlTemplate": "localhost:3000"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, envMap(nil), "", "serve", "--config", badHandler)
	if r.code != exitUsage || !strings.Contains(r.stderr, "eventHandlers[0]") {
		t.Errorf("bad event handler: %+v", r)
	}
	r = runCLI(t, envMap(nil), "", "serve", "--config", filepath.Join(dir, "missing.json"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing config: %+v", r)
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	r := runCLI(t, envMap(nil), "", "serve", "--port", strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:"))
	if r.code != exitFailure || !strings.Contains(r.stderr, "address already in use") || !strings.Contains(r.stderr, "--port 0") {
		t.Errorf("port %d: %+v", port, r)
	}
}

// TestDemo runs the demo with its embedded service, and against a service
// given by connection string, and checks that every delivery is shown.
func TestDemo(t *testing.T) {
	s := newService(t)
	tests := []struct {
		name string
		env  func(string) string
		head string
		hub  string
	}{
		{"embedded", envMap(nil), "Web PubSub demo: a local Web PubSub service at http://127.0.0.1:", `(started for this demo), hub "demo"` + "\n"},
		{"connection string", envMap(map[string]string{envConnectionString: s.connStr}), "Web PubSub demo: the service at http://127.0.0.1:", `, hub "demo_`},
		{"connection string and hub", envMap(map[string]string{envConnectionString: s.connStr, envHub: "walk"}), "Web PubSub demo: the service at http://127.0.0.1:", `, hub "walk"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", "demo")
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
			}
			if !strings.HasPrefix(r.stdout, tt.head) {
				t.Errorf("first line %q, want prefix %q", firstLine(r.stdout), tt.head)
			}
			if !strings.Contains(firstLine(r.stdout)+"\n", tt.hub) {
				t.Errorf("first line %q, want the hub %q", firstLine(r.stdout), tt.hub)
			}
			for _, want := range []string{
				`alice <- from server, json: {"greeting":"hello, everyone"}`,
				`bob   <- from server, json: {"greeting":"hello, everyone"}`,
				`alice <- from server, text: "plain text for all"`,
				`bob   <- from server, text: "plain text for all"`,
				`alice <- from server, binary: 3q2+7w==`,
				`bob   <- from server, binary: 3q2+7w==`,
				`alice <- from server, text: "just for alice"`,
				`bob   <- from group "demo", json: {"room":"demo","text":"hi, group"}`,
				`bob   <- from server, text: "only on this connection"`,
				`GroupExists("demo") = true`,
				`alice <- from group "demo", text: "welcome, alice"`,
				`bob   <- from group "demo", text: "welcome, alice"`,
				`UserExists("alice") = true`,
				`HasPermission(sendToGroup, alice, "demo") = true`,
				`bob   <- from group "demo" (user "alice"), text: "alice says hi"`,
				`carol <- from group "demo", text: "hello, carol"`,
				`carol <- system disconnected: "demo finished"`,
				`device <- PUBLISH "demo" QoS 1, content type "application/json": {"celsius":21.5,"sensor":"t1"}`,
				"All 13 steps passed in ",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if strings.Contains(r.stdout, "access_token=ey") {
				t.Error("the demo printed a token")
			}
		})
	}
}

// TestDemoFails checks that a demo that cannot deliver exits 1 with the
// failed step: here the service refuses every request.
func TestDemoFails(t *testing.T) {
	s := newService(t)
	wrongKey := strings.Replace(s.connStr, emulator.DefaultAccessKey, "WRONGKEYWRONGKEYWRONGKEYWRONGKEYWRONGKEY1234", 1)
	r := runCLI(t, envMap(map[string]string{envConnectionString: wrongKey}), "", "demo", "--step-timeout", "2s")
	if r.code != exitFailure || !strings.Contains(r.stderr, "demo step 1 failed") || !strings.Contains(r.stdout, "FAILED") {
		t.Errorf("%+v", r)
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestDemoDetectsWrongDeliveries runs the demo against services that
// deliver wrongly: every message twice, or a user's messages never. The
// demo must notice and exit 1 naming the step.
func TestDemoDetectsWrongDeliveries(t *testing.T) {
	tests := []struct {
		name   string
		wrap   func(next http.Handler) http.Handler
		stdout string
	}{
		{
			name: "duplicates",
			wrap: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/:send") {
						body, _ := io.ReadAll(r.Body)
						first := r.Clone(r.Context())
						first.Body = io.NopCloser(bytes.NewReader(body))
						next.ServeHTTP(httptest.NewRecorder(), first)
						r.Body = io.NopCloser(bytes.NewReader(body))
					}
					next.ServeHTTP(w, r)
				})
			},
			stdout: "received an unexpected message: from server, json: {\"greeting\":\"hello, everyone\"}",
		},
		{
			name: "user sends lost",
			wrap: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/users/") && strings.HasSuffix(r.URL.Path, "/:send") {
						w.WriteHeader(http.StatusAccepted)
						return
					}
					next.ServeHTTP(w, r)
				})
			},
			stdout: `alice: nothing arrived within 1s; expected from server, text: "just for alice"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := emulator.New()
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(tt.wrap(e.Handler()))
			defer srv.Close()
			defer e.Close()
			env := envMap(map[string]string{envConnectionString: "Endpoint=" + srv.URL + ";AccessKey=" + e.AccessKey() + ";", envHub: testHub})
			r := runCLI(t, env, "", "demo", "--step-timeout", "1s")
			if r.code != exitFailure {
				t.Fatalf("exit %d, want %d\n%s", r.code, exitFailure, r.stdout)
			}
			if !strings.Contains(r.stdout, "FAILED: ") || !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, r.stdout)
			}
			if !strings.Contains(r.stderr, "demo step ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
}
