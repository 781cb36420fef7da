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
	// Issue 12, defect 7: a key in the wrong field of the connection
	// string, from the environment and from the flag.
	for _, bad := range []string{
		"Endpoint=" + key + ";AccessKey=" + key,
		"Endpoint=ftp://" + key + ";AccessKey=" + key,
		"Endpoint=http://127.0.0.1:1;Port=" + key + ";AccessKey=" + key,
		"Endpoint=https://myhost:" + key + ";AccessKey=" + key,
		"Endpoint=https://myhost/" + key + "?q=1;AccessKey=" + key,
		"Endpoint=https://myhost/%zz" + key + ";AccessKey=" + key,
		"Endpoint=https://[" + key + "];AccessKey=" + key,
		key,
	} {
		runs = append(runs,
			struct {
				env  func(string) string
				args []string
			}{envMap(map[string]string{envConnectionString: bad, envHub: testHub}), []string{"send", "all", "hi"}},
			struct {
				env  func(string) string
				args []string
			}{envMap(map[string]string{envHub: testHub}), []string{"--connection-string", bad, "health"}})
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
