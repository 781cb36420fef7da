package main

// The CLI's part of the bad-input table (docs/RELIABILITY.md): odd ids
// reach the service as exactly that id in exactly the intended operation,
// and bad values get one clear error line and the usage or failure code.

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/webpubsub-go/sdk/internal/emulator"
)

// recordingService is an emulator that remembers each REST call's
// operation and unescaped path.
type recordingService struct {
	connStr string
	mu      sync.Mutex
	calls   []string // "Operation path"
}

func newRecordingService(t *testing.T, opts ...emulator.Option) *recordingService {
	t.Helper()
	e, err := emulator.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	rs := &recordingService{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		rs.calls = append(rs.calls, e.Operation(r)+" "+r.URL.Path)
		rs.mu.Unlock()
		e.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { _ = e.Close(); srv.Close() })
	rs.connStr = "Endpoint=" + srv.URL + ";AccessKey=" + e.AccessKey() + ";Version=1.0;"
	return rs
}

func (rs *recordingService) take() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	c := rs.calls
	rs.calls = nil
	return c
}

func TestCLIOddIDsKeepTheirMeaning(t *testing.T) {
	rs := newRecordingService(t)
	env := envMap(map[string]string{envConnectionString: rs.connStr, envHub: testHub})
	for _, id := range []string{"../groups/x", "a/b", "a?b=c", "a#b", "100%", "-dash", "tab\there", "日本"} {
		tests := []struct {
			args []string
			want string
			code int
		}{
			{[]string{"connection", "exists", id}, "ConnectionExists /api/hubs/chat/connections/" + id, exitOK}, // prints false
			{[]string{"send", "user", id, "hi"}, "SendToUser /api/hubs/chat/users/" + id + "/:send", exitOK},
			{[]string{"group", "exists", id}, "GroupExists /api/hubs/chat/groups/" + id, exitOK},
		}
		for _, tt := range tests {
			r := runCLI(t, env, "", tt.args...)
			calls := rs.take()
			if r.code != tt.code || len(calls) != 1 || calls[0] != tt.want || (tt.args[1] == "exists" && r.stdout != "false\n") {
				t.Errorf("%q: exit %d (%q), calls %q; want exit %d and %q", tt.args, r.code, r.stderr, calls, tt.code, tt.want)
			}
		}
	}
}

func TestCLIBadInput(t *testing.T) {
	rs := newRecordingService(t)
	env := envMap(map[string]string{envConnectionString: rs.connStr, envHub: testHub})
	big := strings.Repeat("x", emulator.MaxRequestBodyBytes+1)
	tests := []struct {
		name   string
		env    func(string) string
		stdin  string
		args   []string
		code   int
		stderr string
		calls  int
	}{
		{"connection id ..", env, "", []string{"connection", "exists", ".."}, exitUsage, "parent folder", 0},
		{"user id .", env, "", []string{"send", "user", ".", "hi"}, exitUsage, "parent folder", 0},
		{"group ..", env, "", []string{"group", "close", ".."}, exitUsage, "parent folder", 0},
		{"empty group", env, "", []string{"group", "add", "", "--user", "u"}, exitUsage, "group name is empty", 0},
		{"group of 1025 characters", env, "", []string{"group", "exists", strings.Repeat("é", 1025)}, exitUsage, "1024", 0},
		{"TTL over five minutes", env, "", []string{"send", "all", "--ttl", "301s", "hi"}, exitUsage, "TTL", 0},
		{"filter the service rejects", env, "", []string{"send", "all", "--filter", "userId eq", "hi"}, exitFailure, "expected a string after 'eq'", 1},
		{"message over the service's limit", env, big, []string{"send", "all", "-"}, exitUsage, "larger than the service's limit of 1 MiB", 0},
		{"text that is invalid UTF-8", env, "\xc3\x28", []string{"send", "all", "-"}, exitUsage, "UTF-8", 0},
		{"connection string of control characters", envMap(map[string]string{envConnectionString: "\x00\x01;\x02=", envHub: testHub}), "", []string{"health"}, exitUsage, "connection string", 0},
		{"JSON that is invalid UTF-8", env, "\"\xff\"", []string{"send", "all", "--type", "json", "-"}, exitUsage, "UTF-8", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line mentioning %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if calls := rs.take(); len(calls) != tt.calls {
				t.Errorf("%d requests %q, want %d", len(calls), calls, tt.calls)
			}
		})
	}
}
