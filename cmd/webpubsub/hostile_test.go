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
