package main

import (
	"strings"
	"testing"
)

func TestScrubSecretsKeepsPlaceholders(t *testing.T) {
	tests := []struct{ in, want string }{
		{"use Endpoint=...;AccessKey=...;", "use Endpoint=...;AccessKey=...;"},
		{"AccessKey=abc;Version=1.0", "AccessKey=REDACTED;Version=1.0"},
		{"AccessKey=...abc;", "AccessKey=REDACTED;"},
		{"accesskey=....", "accesskey=REDACTED"},
		{"?access_token=...", "?access_token=..."},
		{"?access_token=eyJx&a=1", "?access_token=REDACTED&a=1"},
		{"token eyJhbGciOi.eyJzdWIi.c2ln here", "token REDACTED here"},
	}
	for _, tt := range tests {
		if got := scrubSecrets(tt.in); got != tt.want {
			t.Errorf("scrubSecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The bad-connection-string hint shows where the key goes.
	r := runCLI(t, envMap(nil), "", "health", "--connection-string", "garbage")
	if r.code != exitUsage || !strings.Contains(r.stderr, "AccessKey=...;") || strings.Contains(r.stderr, "REDACTED") {
		t.Errorf("hint: %+v, want AccessKey=...; as written", r)
	}
}
