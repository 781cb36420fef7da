package main

import (
	"strings"
	"testing"

	"github.com/webpubsub-go/sdk/internal/emulator"
)

// TestStderrNeverShowsSecrets runs commands that succeed and fail, at
// --log-level debug, against a service with a known key, and checks that
// stderr never holds the key or anything like a JWT. The token command's
// stdout is its product and may hold a token; its stderr may not.
func TestStderrNeverShowsSecrets(t *testing.T) {
	const key = "cli-secret-key-0123456789ABCDEFGHIJKLMNOPQR"
	rs := newRecordingService(t, emulator.WithAccessKeys(key))
	env := envMap(map[string]string{envConnectionString: rs.connStr, envHub: testHub})
	wrongKey := envMap(map[string]string{envConnectionString: strings.Replace(rs.connStr, key, "Wrong"+key, 1), envHub: testHub})
	dead := envMap(map[string]string{envConnectionString: "Endpoint=http://127.0.0.1:1;AccessKey=" + key, envHub: testHub})
	runs := []struct {
		env  func(string) string
		args []string
	}{
		{env, []string{"send", "all", "hi"}},
		{env, []string{"send", "all", "--filter", "userId eq", "hi"}},
		{env, []string{"group", "add", "g", "--user", "nobody"}},
		{env, []string{"connection", "close", "missing"}},
		{env, []string{"token", "--user", "u", "--output", "json"}},
		{env, []string{"health"}},
		{wrongKey, []string{"send", "all", "hi"}},
		{wrongKey, []string{"user", "exists", "u"}},
		{dead, []string{"health"}},
		{env, []string{"send", "all", "--ttl", "1ms", "hi"}},
		{env, []string{"connection", "exists", rs.connStr}},
	}
	var stderr strings.Builder
	for _, r := range runs {
		res := runCLI(t, r.env, "", append([]string{"--log-level", "debug"}, r.args...)...)
		stderr.WriteString(res.stderr)
		if r.args[0] == "token" {
			if !strings.Contains(res.stdout, "eyJ") {
				t.Fatalf("token printed no token: %q", res.stdout)
			}
		}
	}
	all := stderr.String()
	if strings.Count(all, "\n") < len(runs) {
		t.Fatalf("too little stderr to check:\n%s", all)
	}
	for _, s := range []string{key, "eyJ", "Bearer "} {
		if strings.Contains(all, s) {
			t.Errorf("stderr holds %.12q:\n%s", s, all)
		}
	}
	t.Logf("%d runs at debug level, %d lines of stderr: no key, no JWT", len(runs), strings.Count(all, "\n"))
}
