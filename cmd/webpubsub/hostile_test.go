package main

// The hostile sweep (docs/RELIABILITY.md, "Event handler and CLI sweep"):
// an endpoint that is an attacker's server echoes the access key in forms
// the SDK never sees (a refused WebSocket handshake) or sees escaped.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

// echoForms are the ways a hostile server writes the key back.
func echoForms(key string) map[string]string {
	js, _ := json.Marshal(key)
	var uesc strings.Builder
	for i := 0; i < len(key); i++ {
		fmt.Fprintf(&uesc, `\u%04X`, key[i])
	}
	var pct strings.Builder
	for i := 0; i < len(key); i++ {
		fmt.Fprintf(&pct, "%%%02x", key[i])
	}
	return map[string]string{
		"raw":                key,
		"query-escaped":      url.QueryEscape(key),
		"JSON string":        strings.Trim(string(js), `"`),
		"JSON slash escaped": strings.ReplaceAll(key, "/", `\/`),
		"every byte \\u00XX": uesc.String(),
		"every byte %xx":     pct.String(),
	}
}

func TestHostileEndpointEchoesTheKey(t *testing.T) {
	const key = "Ab+c/d=EfGh0123456789+/ijklMNOPqrstUVWXyz=="
	commands := [][]string{
		{"listen", "--count", "1", "--timeout", "5s"},
		{"send", "all", "hi"},
		{"group", "members", "g"},
		{"connection", "exists", "c", "--log-level", "debug"},
		{"demo"},
	}
	for name, form := range echoForms(key) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Echo", form)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"code":"BadKey","message":"the key %s is wrong"}`, form)
		}))
		for _, args := range commands {
			t.Run(name+"/"+strings.Join(args[:1], " "), func(t *testing.T) {
				env := envMap(map[string]string{envConnectionString: "Endpoint=" + srv.URL + ";AccessKey=" + key + ";Version=1.0;", envHub: testHub})
				got := runCLI(t, env, "", args...)
				if got.code != exitFailure {
					t.Errorf("exit code %d, want %d; stderr %q", got.code, exitFailure, got.stderr)
				}
				out := got.stdout + got.stderr
				for fname, f := range echoForms(key) {
					if strings.Contains(out, f) {
						t.Errorf("the output holds the key (%s):\n%s", fname, out)
					}
				}
				if strings.Contains(out, "eyJ") {
					t.Errorf("the output holds a JWT:\n%s", out)
				}
			})
		}
		srv.Close()
	}
}

func TestSilentServiceTimesOut(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // accept the request, never answer
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	env := envMap(map[string]string{envConnectionString: "Endpoint=" + srv.URL + ";AccessKey=" + strings.Repeat("k", 44) + ";Version=1.0;", envHub: testHub})
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"send", "all", "hi", "--request-timeout", "300ms"}, exitFailure, "no answer from the service within 300ms: check the endpoint, or wait longer with --request-timeout"},
		{[]string{"--request-timeout", "300ms", "group", "members", "g"}, exitFailure, "within 300ms"},
		{[]string{"connection", "exists", "c", "--request-timeout=300ms"}, exitFailure, "within 300ms"},
		{[]string{"health", "--request-timeout", "300ms"}, exitFailure, "within 300ms"},
		{[]string{"group", "add", "g", "--user", "u", "--request-timeout", "300ms"}, exitFailure, "within 300ms"},
		{[]string{"health", "--request-timeout", "-1s"}, exitUsage, "--request-timeout -1s: give a positive duration, or 0 for no limit"},
		{[]string{"health", "--request-timeout", "soon"}, exitUsage, "invalid value \"soon\" for flag --request-timeout"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// runCLI's own deadline (20 s) is the bound before the fix:
			// the command waited as long as the service held it.
			got := runCLI(t, env, "", tt.args...)
			if got.code != tt.wantCode || !strings.Contains(got.stderr, tt.wantErr) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", got.code, got.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
	if help := runCLI(t, env, "", "health", "--help"); !strings.Contains(help.stdout, "--request-timeout duration") || !strings.Contains(help.stdout, "(default 1m0s)") {
		t.Errorf("health --help does not show --request-timeout with its default:\n%s", help.stdout)
	}
}

// TestHostileListenOutput: a service whose messages carry terminal escape
// sequences and line breaks; listen prints one line per message and never
// a raw control character.
func TestHostileListenOutput(t *testing.T) {
	frames := []string{
		`{"type":"system","event":"connected","connectionId":"conn\u001b[31mRED\u202e","userId":"u"}`,
		`{"type":"message","from":"server","dataType":"json","data":{"a":` + "\n" + `[1,` + "\r\n" + `2]}}`,
		`{"type":"message","from":"server\u001b[2J","dataType":"text","data":"x"}`,
		`{"type":"message","from":"group","group":"g\u001b[2J","fromUserId":"\u009b31m","dataType":"text","data":"x\u001b]0;title\u0007"}`,
		`{"type":"message","from":"server","dataType":"bin\u001bary","data":"x"}`,
		`{"type":"system","event":"disconnected","message":"bye\u001b]0;pwned\u0007 now"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{r.Header.Get("Sec-WebSocket-Protocol")}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for _, f := range frames {
			if err := c.Write(r.Context(), websocket.MessageText, []byte(f)); err != nil {
				return
			}
		}
		_ = c.Close(websocket.StatusPolicyViolation, "closed \x1b[2J\x07")
	}))
	t.Cleanup(srv.Close)
	env := envMap(map[string]string{envConnectionString: "Endpoint=" + srv.URL + ";AccessKey=" + strings.Repeat("k", 44) + ";Version=1.0;", envHub: testHub})
	got := runCLI(t, env, "", "listen", "--timeout", "10s")
	// Before the fix: the JSON message took two lines, and the sender, the
	// data type and the connection id reached the terminal raw.
	wantOut := strings.Join([]string{
		`from server, json: {"a":[1,2]}`,
		`from server\x1b[2J, text: "x"`,
		`from group "g\x1b[2J" (user "\u009b31m"), text: "x\x1b]0;title\a"`,
		`from server, bin\x1bary: "x"`,
	}, "\n") + "\n"
	if d := cmp.Diff(wantOut, got.stdout); d != "" {
		t.Errorf("stdout (-want +got):\n%s", d)
	}
	if got.code != exitFailure || strings.Count(got.stderr, "\n") != 2 {
		t.Errorf("exit %d, stderr %q; want 1, the listening line and one error line", got.code, got.stderr)
	}
	for _, r := range got.stdout + got.stderr {
		if r != '\n' && needsEscape(r) {
			t.Errorf("raw %U in the output:\nstdout %q\nstderr %q", r, got.stdout, got.stderr)
		}
	}
	if !strings.Contains(got.stderr, `(connection conn\x1b[31mRED\u202e)`) {
		t.Errorf("listening line %q: want the connection id escaped", got.stderr)
	}
}

func TestEscapeControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, ü 日本":   "plain text, ü 日本",
		"a\x1b[2Jb":          `a\x1b[2Jb`,
		"bell\a tab\t":       `bell\x07 tab\x09`,
		"c1 \u009b del \x7f": `c1 \x9b del \x7f`,
		"bidi \u202e\u2066":  `bidi \u202e\u2066`,
		"cut \xc3 \xff":      `cut \xc3 \xff`,
		`already \x1b`:       `already \x1b`,
	} {
		if got := escapeControls(in); got != want {
			t.Errorf("escapeControls(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostileGroupMembers: ids in a listing carry line breaks and escape
// sequences; each member stays one line, with the tab between the ids.
func TestHostileGroupMembers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"value":[{"connectionId":"c1\n\u001b[2J","userId":"u\tv\r"},{"connectionId":"c2","userId":"\u202eevil"}]}`)
	}))
	t.Cleanup(srv.Close)
	env := envMap(map[string]string{envConnectionString: "Endpoint=" + srv.URL + ";AccessKey=" + strings.Repeat("k", 44) + ";Version=1.0;", envHub: testHub})
	got := runCLI(t, env, "", "group", "members", "g")
	want := "c1\\x0a\\x1b[2J\tu\\x09v\\x0d\nc2\t\\u202eevil\n"
	if got.code != exitOK || got.stdout != want {
		t.Errorf("exit %d, stdout %q; want 0 and %q (stderr %q)", got.code, got.stdout, want, got.stderr)
	}
}
