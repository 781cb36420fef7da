package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// TestUsageErrors checks that every kind of bad input is one line on
// stderr, exit code 2, names the problem, and never shows the key.
func TestUsageErrors(t *testing.T) {
	s := newService(t)
	noConn := envMap(map[string]string{envHub: testHub})
	noHub := envMap(map[string]string{envConnectionString: s.connStr})
	tests := []struct {
		name   string
		env    func(string) string
		stdin  string
		args   []string
		stderr string // a part of the error line
	}{
		{"unknown command", s.env(), "", []string{"frobnicate"}, `unknown command "frobnicate"; the commands are: serve, send,`},
		{"mistyped command", s.env(), "", []string{"sned", "all", "hi"}, `unknown command "sned"; did you mean "send"?`},
		{"mistyped subcommand", s.env(), "", []string{"group", "exist", "g"}, `unknown subcommand "exist" of webpubsub group; did you mean "exists"?`},
		{"bad global flag before subcommand", s.env(), "", []string{"group", "--hubb", "x", "exists", "g"}, "unknown flag --hubb"},
		{"unknown flag", s.env(), "", []string{"send", "all", "--colour", "hi"}, "unknown flag --colour"},
		{"unknown global flag", s.env(), "", []string{"--colour", "send"}, "unknown flag --colour"},
		{"flag without value", s.env(), "", []string{"send", "all", "--ttl"}, "flag --ttl needs a value"},
		{"missing connection string", noConn, "", []string{"send", "all", "hi"}, "no connection string: give --connection-string or set WEBPUBSUB_CONNECTION_STRING"},
		{"missing hub", noHub, "", []string{"send", "all", "hi"}, "no hub: give --hub NAME or set WEBPUBSUB_HUB"},
		{"bad hub", s.env(), "", []string{"--hub", "no-hyphens", "send", "all", "hi"}, "hub"},
		{"bad connection string", envMap(map[string]string{envConnectionString: "Endpoint=ftp://x;AccessKey=" + emulator.DefaultAccessKey, envHub: testHub}), "", []string{"send", "all", "hi"}, "Endpoint has a scheme other than http or https"},
		{"bad JSON", s.env(), "", []string{"send", "all", "--type", "json", `{"a":`}, "the message is not valid JSON: unexpected end of JSON input"},
		{"bad JSON from stdin", s.env(), "{'a':1}", []string{"send", "all", "--type", "json", "-"}, "not valid JSON: invalid character '\\'' looking for beginning of object key string (at byte 2)"},
		{"empty JSON", s.env(), "", []string{"send", "all", "--type=json", ""}, "the message is empty, which is not JSON"},
		{"bad type", s.env(), "", []string{"send", "all", "--type", "xml", "hi"}, `invalid value "xml" for flag --type: choose one of json, text, binary`},
		{"missing target", s.env(), "", []string{"send"}, "missing target"},
		{"unknown target", s.env(), "", []string{"send", "everyone", "hi"}, `unknown target "everyone"`},
		{"missing user id", s.env(), "", []string{"send", "user"}, `missing user ID after "user"`},
		{"missing message", s.env(), "", []string{"send", "all"}, "missing MESSAGE"},
		{"two message sources", s.env(), "", []string{"send", "all", "--file", "x.json", "hi"}, "either as an argument or with --file, not both"},
		{"missing file", s.env(), "", []string{"send", "all", "--file", "/does/not/exist"}, "--file: /does/not/exist: no such file or directory"},
		{"listen to an empty group", s.env(), "", []string{"listen", "--group", ""}, `--group "": a group name has 1 to 1024 characters and is not only whitespace`},
		{"listen to a whitespace group", s.env(), "", []string{"listen", "--group", "ok", "--group", " \t"}, `--group " \t": a group name has 1 to 1024`},
		{"listen to a long group", s.env(), "", []string{"listen", "--group", strings.Repeat("ü", 1025)}, "a group name has 1 to 1024 characters"},
		{"file is a directory", s.env(), "", []string{"send", "all", "--file", os.TempDir()}, "--file: " + os.TempDir() + " is a directory: give the path of a file"},
		{"exclude with user", s.env(), "", []string{"send", "user", "alice", "--exclude", "c1", "hi"}, "--exclude works with 'send all' and 'send group' only"},
		{"filter with connection", s.env(), "", []string{"send", "connection", "c1", "--filter", "userId eq 'a'", "hi"}, "--filter does not work with 'send connection'"},
		{"bad ttl", s.env(), "", []string{"send", "all", "--ttl", "10m", "hi"}, "TTL"},
		{"ttl in seconds over five minutes", s.env(), "", []string{"send", "all", "--ttl", "301", "hi"}, "TTL"},
		{"ttl neither seconds nor duration", s.env(), "", []string{"send", "all", "--ttl", "soon", "hi"}, `invalid value "soon" for flag --ttl: give whole seconds (30) or a duration (30s, 5m)`},
		{"bad output", s.env(), "", []string{"--output", "yaml", "health"}, `--output "yaml": choose text or json`},
		{"bad log level", s.env(), "", []string{"--log-level", "loud", "health"}, `--log-level "loud"`},
		{"missing subcommand", s.env(), "", []string{"group"}, "missing subcommand: choose one of add, remove, close, exists, members"},
		{"unknown subcommand", s.env(), "", []string{"user", "delete", "alice"}, `unknown subcommand "delete" of webpubsub user`},
		{"missing group", s.env(), "", []string{"group", "exists"}, "missing GROUP"},
		{"extra argument", s.env(), "", []string{"user", "exists", "alice", "bob"}, `unexpected argument "bob"`},
		{"membership without whom", s.env(), "", []string{"group", "add", "g"}, "say whose membership changes"},
		{"membership with two whoms", s.env(), "", []string{"group", "add", "g", "--user", "a", "--connection", "c"}, "give only one of --connection, --user and --filter"},
		{"several groups without filter", s.env(), "", []string{"group", "add", "g1", "g2", "--user", "a"}, "several groups work with --filter only"},
		{"unknown permission", s.env(), "", []string{"permission", "grant", "sendToAll", "c1"}, `unknown permission "sendToAll"`},
		{"missing connection id", s.env(), "", []string{"permission", "check", "sendToGroup"}, "missing CONNECTION_ID"},
		{"bad count", s.env(), "", []string{"listen", "--count", "-1"}, "--count -1"},
		{"bad expiry", s.env(), "", []string{"token", "--expiry", "-1h"}, "--expiry -1h0m0s: the lifetime must be positive"},
		{"bad protocol", s.env(), "", []string{"token", "--protocol", "grpc"}, "choose one of default, mqtt, socketio"},
		{"bad port", s.env(), "", []string{"serve", "--port", "70000"}, "port 70000: choose 0 to 65535"},
		{"demo json", s.env(), "", []string{"demo", "--output", "json"}, "--output json is not supported"},
		{"help for unknown", s.env(), "", []string{"help", "nope"}, `no help for "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr %q", r.code, exitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.stderr)
			}
			if n := strings.Count(r.stderr, "\n"); n != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", n, r.stderr)
			}
			if strings.Contains(r.stderr, emulator.DefaultAccessKey) {
				t.Errorf("stderr shows the access key: %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// TestNoCommand prints the help on stderr with the usage exit code.
func TestNoCommand(t *testing.T) {
	r := runCLI(t, envMap(nil), "")
	if r.code != exitUsage || !strings.Contains(r.stderr, "Commands:") || r.stdout != "" {
		t.Errorf("got %+v", r)
	}
}

// TestHelp checks that every command answers --help with its usage and,
// for leaves, an example, on stdout with exit code 0.
func TestHelp(t *testing.T) {
	var paths [][]string
	var walk func(prefix []string, c *command)
	walk = func(prefix []string, c *command) {
		paths = append(paths, prefix)
		for _, s := range c.subs {
			walk(append(append([]string(nil), prefix...), s.name), s)
		}
	}
	walk(nil, rootCommand())
	for _, p := range paths {
		for _, form := range [][]string{append(append([]string(nil), p...), "--help"), append([]string{"help"}, p...)} {
			t.Run(strings.Join(form, " "), func(t *testing.T) {
				r := runCLI(t, envMap(nil), "", form...)
				if r.code != exitOK || r.stderr != "" {
					t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
				}
				wantUsage := "Usage: " + strings.Join(append([]string{"webpubsub"}, p...), " ")
				if !strings.HasPrefix(r.stdout, wantUsage) {
					t.Errorf("help starts %q, want %q", firstLine(r.stdout), wantUsage)
				}
				if len(p) > 0 && findLeaf(p).setup != nil && !strings.Contains(r.stdout, "Example") {
					t.Errorf("help of %v has no example:\n%s", p, r.stdout)
				}
				if !strings.Contains(r.stdout, "\n  --connection-string string\n") {
					t.Errorf("help of %v does not list the global flags as --name:\n%s", p, r.stdout)
				}
				for _, line := range strings.Split(r.stdout, "\n") {
					if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") {
						t.Errorf("help of %v spells a flag with one dash: %q", p, line)
					}
				}
			})
		}
	}
}

func findLeaf(path []string) *command {
	c := rootCommand()
	for _, name := range path {
		c = findSub(c, name)
	}
	return c
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestVersion(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "webpubsub v" + webpubsub.SDKVersion + " (go"},
		{[]string{"version", "--output", "json"}, `{"version":"v` + webpubsub.SDKVersion + `","go":"go`},
	}
	for _, tt := range tests {
		r := runCLI(t, envMap(nil), "", tt.args...)
		if r.code != exitOK || !strings.HasPrefix(r.stdout, tt.want) {
			t.Errorf("%v: got %+v, want stdout starting %q", tt.args, r, tt.want)
		}
	}
}

func TestVersionOf(t *testing.T) {
	sdk := "v" + webpubsub.SDKVersion
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, sdk},
		{"VCS stamping off", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, sdk},
		{"no version", &debug.BuildInfo{}, true, sdk},
		{"go install @v0.3.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, true, "v0.3.0"},
		{"pseudo-version", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203112440-3a7a4c1d2e3f"}}, true, "v0.0.0-20261203112440-3a7a4c1d2e3f"},
	}
	for _, tt := range tests {
		if got := versionOf(tt.info, tt.ok); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSend sends every type to every kind of target and checks with
// independent WebSocket listeners what arrived.
func TestSend(t *testing.T) {
	s := newService(t)
	alice := s.listener(t, &webpubsub.TokenOptions{UserID: "alice"})
	bob := s.listener(t, &webpubsub.TokenOptions{UserID: "bob"}, "room")

	dir := t.TempDir()
	blobPath := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(blobPath, []byte{0, 1, 2, 255}, 0o600); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "m.json")
	if err := os.WriteFile(jsonPath, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	type delivery struct {
		l    *testListener
		want message
	}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		stdout string
		got    []delivery // in order; a listener not named gets nothing
	}{
		{"text to all", "", []string{"send", "all", "hello"}, `sent 5 bytes of text to everyone in hub chat`,
			[]delivery{{alice, textMsg("server", "", "hello")}, {bob, textMsg("server", "", "hello")}}},
		{"json to all", "", []string{"send", "all", "--type", "json", `{"a":[1,2]}`}, "sent 11 bytes of json",
			[]delivery{{alice, jsonMsg("server", "", `{"a":[1,2]}`)}, {bob, jsonMsg("server", "", `{"a":[1,2]}`)}}},
		{"binary file to all", "", []string{"send", "all", "--type", "binary", "--file", blobPath}, "sent 4 bytes of binary",
			[]delivery{{alice, binMsg("server", "", "AAEC/w==")}, {bob, binMsg("server", "", "AAEC/w==")}}},
		{"text to user", "", []string{"send", "user", "alice", "hi alice"}, `sent 8 bytes of text to user "alice"`,
			[]delivery{{alice, textMsg("server", "", "hi alice")}}},
		{"json file to group", "", []string{"send", "group", "room", "--type", "json", "--file", jsonPath}, `to group "room"`,
			[]delivery{{bob, jsonMsg("group", "room", `{"from":"file"}`)}}},
		{"stdin to connection", "from stdin", []string{"send", "connection", bob.connectionID, "-"}, `to connection "` + bob.connectionID + `"`,
			[]delivery{{bob, textMsg("server", "", "from stdin")}}},
		{"file - is stdin", "[true]", []string{"send", "user", "bob", "--type", "json", "--file", "-"}, "sent 6 bytes of json",
			[]delivery{{bob, jsonMsg("server", "", `[true]`)}}},
		{"filter", "", []string{"send", "all", "--filter", "userId ne 'alice'", "--ttl", "30s", "not alice"}, "sent 9 bytes",
			[]delivery{{bob, textMsg("server", "", "not alice")}}},
		{"ttl as bare seconds", "", []string{"send", "user", "bob", "--ttl", "30", "ttl 30"}, "sent 6 bytes",
			[]delivery{{bob, textMsg("server", "", "ttl 30")}}},
		{"exclude", "", []string{"send", "all", "--exclude", bob.connectionID, "not bob"}, "sent 7 bytes",
			[]delivery{{alice, textMsg("server", "", "not bob")}}},
		{"flags after the message", "", []string{"send", "group", "room", "late flags", "--type", "text"}, "sent 10 bytes",
			[]delivery{{bob, textMsg("group", "room", "late flags")}}},
		{"after --", "", []string{"send", "all", "--", "--dashes"}, "sent 8 bytes",
			[]delivery{{alice, textMsg("server", "", "--dashes")}, {bob, textMsg("server", "", "--dashes")}}},
		{"json output", "", []string{"send", "user", "bob", "--output", "json", "x"}, `{"sent":true,"target":"user","id":"bob","type":"text","bytes":1}`,
			[]delivery{{bob, textMsg("server", "", "x")}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, s.env(), tt.stdin, tt.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", r.stdout, tt.stdout)
			}
			for _, d := range tt.got {
				if diff := cmp.Diff(d.want, d.l.next()); diff != "" {
					t.Errorf("delivery (-want +got):\n%s", diff)
				}
			}
			// A marker to each listener proves nothing else was delivered.
			marker := "marker " + string(rune('a'+i))
			if r := runCLI(t, s.env(), "", "send", "all", marker); r.code != exitOK {
				t.Fatalf("marker: %+v", r)
			}
			for _, l := range []*testListener{alice, bob} {
				if diff := cmp.Diff(textMsg("server", "", marker), l.next()); diff != "" {
					t.Errorf("an unexpected message arrived before the marker (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestServiceErrors checks that a refusal by the service is exit code 1 and
// one line without the key.
func TestServiceErrors(t *testing.T) {
	s := newService(t)
	wrongKey := strings.Replace(s.connStr, emulator.DefaultAccessKey, "WRONGKEYWRONGKEYWRONGKEYWRONGKEYWRONGKEY1234", 1)
	env := envMap(map[string]string{envConnectionString: wrongKey, envHub: testHub})
	for _, args := range [][]string{
		{"send", "all", "hi"},
		{"user", "exists", "alice"},
		{"group", "add", "g", "--connection", "nope"},
	} {
		r := runCLI(t, env, "", args...)
		if r.code != exitFailure {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, r.code, exitFailure, r.stderr)
		}
		if !strings.Contains(r.stderr, "401") || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "WRONGKEY") {
			t.Errorf("%v: stderr %q, want one line with 401 and no key", args, r.stderr)
		}
	}
	// A connection that is not open cannot join a group: 404 from the service.
	r := runCLI(t, s.env(), "", "group", "add", "g", "--connection", "nope")
	if r.code != exitFailure || !strings.Contains(r.stderr, "404") {
		t.Errorf("add unknown connection: %+v", r)
	}
}

func TestHealth(t *testing.T) {
	s := newService(t)
	tests := []struct {
		args   []string
		env    func(string) string
		stdout string
	}{
		{[]string{"health"}, s.env(), "healthy\n"},
		{[]string{"health", "--output", "json"}, s.env(), `{"healthy":true}` + "\n"},
		{[]string{"health", "--connection-string", s.connStr}, envMap(nil), "healthy\n"}, // no hub needed
		{[]string{"--connection-string", s.connStr, "--output", "json", "health"}, envMap(nil), `{"healthy":true}` + "\n"},
	}
	for _, tt := range tests {
		r := runCLI(t, tt.env, "", tt.args...)
		if diff := cmp.Diff(result{code: exitOK, stdout: tt.stdout}, r, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

// TestSecretsNeverInErrors pastes secrets where arguments belong: the
// error line names the mistake without them.
func TestSecretsNeverInErrors(t *testing.T) {
	s := newService(t)
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	tests := []struct {
		args   []string
		secret string
		stderr string
	}{
		{[]string{"user", "exists", "alice", s.connStr}, emulator.DefaultAccessKey, `unexpected argument "Endpoint=http://127.0.0.1:`},
		{[]string{"user", "exists", "alice", "wss://h/client/hubs/chat?access_token=" + jwt}, jwt, `access_token=REDACTED`},
		{[]string{"connection", "exists", "c", jwt}, jwt, `unexpected argument "REDACTED"`},
	}
	for _, tt := range tests {
		r := runCLI(t, s.env(), "", tt.args...)
		if r.code != exitUsage || strings.Contains(r.stderr, tt.secret) || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%v: %+v", tt.args[:2], r)
		}
	}
}

// TestUnreachable fails fast: a person is waiting.
func TestUnreachable(t *testing.T) {
	env := envMap(map[string]string{envConnectionString: "Endpoint=http://127.0.0.1:1;AccessKey=" + emulator.DefaultAccessKey, envHub: testHub})
	start := time.Now()
	r := runCLI(t, env, "", "send", "all", "hi")
	if r.code != exitFailure || !strings.Contains(r.stderr, "connection refused") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("%+v", r)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s to give up", d)
	}
}

// TestLogLevel shows each REST call of the SDK at info, on stderr only.
func TestLogLevel(t *testing.T) {
	s := newService(t)
	r := runCLI(t, s.env(), "", "user", "exists", "alice", "--log-level", "info")
	if r.code != exitOK || r.stdout != "false\n" {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"level=INFO", `msg="webpubsub request"`, "operation=UserExists", "status=404"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	if r := runCLI(t, s.env(), "", "user", "exists", "alice"); r.stderr != "" {
		t.Errorf("default level logs %q", r.stderr)
	}
}

// TestHealthFails points health at a server that is not Web PubSub: its
// 404 is not retried, and is exit code 1.
func TestHealthFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	env := envMap(map[string]string{envConnectionString: "Endpoint=" + srv.URL + ";AccessKey=" + emulator.DefaultAccessKey})
	r := runCLI(t, env, "", "health")
	if r.code != exitFailure || !strings.Contains(r.stderr, "404") || r.stdout != "" {
		t.Errorf("%+v", r)
	}
}

func TestGroupUserConnectionCommands(t *testing.T) {
	s := newService(t)
	alice := s.listener(t, &webpubsub.TokenOptions{UserID: "alice"})
	bob := s.listener(t, &webpubsub.TokenOptions{UserID: "bob"})
	carol := s.listener(t, &webpubsub.TokenOptions{UserID: "carol"})

	steps := []struct {
		args   []string
		stdout string
	}{
		{[]string{"group", "exists", "g"}, "false\n"},
		{[]string{"group", "add", "g", "--connection", alice.connectionID}, `added connection "` + alice.connectionID + `" to group "g"` + "\n"},
		{[]string{"group", "add", "g", "--user", "bob"}, `added user "bob" to group "g"` + "\n"},
		{[]string{"group", "exists", "g"}, "true\n"},
		{[]string{"group", "exists", "g", "--output", "json"}, `{"exists":true}` + "\n"},
		{[]string{"group", "members", "g", "--output", "json"}, ""}, // checked below
		{[]string{"group", "remove", "g", "--user", "bob"}, `removed user "bob" from group "g"` + "\n"},
		{[]string{"group", "members", "g"}, alice.connectionID + "\talice\n"},
		{[]string{"group", "remove", "g", "--connection", alice.connectionID}, `removed connection "` + alice.connectionID + `" from group "g"` + "\n"},
		{[]string{"group", "exists", "g"}, "false\n"},
		{[]string{"group", "add", "g1", "g2", "--filter", "userId eq 'carol'"}, `added the connections of filter "userId eq 'carol'" to group "g1", "g2"` + "\n"},
		{[]string{"group", "members", "g2"}, carol.connectionID + "\tcarol\n"},
		{[]string{"group", "remove", "g1", "--filter", "userId eq 'carol'", "--output", "json"}, `{"ok":true,"action":"remove"}` + "\n"},
		{[]string{"group", "exists", "g1"}, "false\n"},
		{[]string{"connection", "remove-from-all-groups", carol.connectionID}, `removed connection "` + carol.connectionID + `" from all groups` + "\n"},
		{[]string{"group", "exists", "g2"}, "false\n"},
		{[]string{"group", "add", "g3", "--user", "carol"}, `added user "carol" to group "g3"` + "\n"},
		{[]string{"user", "remove-from-all-groups", "carol"}, `removed user "carol" from all groups` + "\n"},
		{[]string{"group", "exists", "g3"}, "false\n"},
		{[]string{"user", "exists", "alice"}, "true\n"},
		{[]string{"user", "exists", "zed", "--output", "json"}, `{"exists":false}` + "\n"},
		{[]string{"connection", "exists", bob.connectionID}, "true\n"},
		{[]string{"connection", "exists", "no-such-connection"}, "false\n"},
		{[]string{"connection", "exists", "-looks-like-a-flag"}, "false\n"},
		{[]string{"user", "--output", "json", "exists", "alice"}, `{"exists":true}` + "\n"},
	}
	for _, st := range steps {
		r := runCLI(t, s.env(), "", st.args...)
		if r.code != exitOK || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", st.args, r.code, r.stderr)
		}
		if st.args[1] == "members" && st.stdout == "" {
			var got []map[string]string
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("%v: %v in %q", st.args, err, r.stdout)
			}
			want := []map[string]string{{"connectionId": alice.connectionID, "userId": "alice"}, {"connectionId": bob.connectionID, "userId": "bob"}}
			if got[0]["userId"] == "bob" {
				got[0], got[1] = got[1], got[0]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%v (-want +got):\n%s", st.args, diff)
			}
			continue
		}
		if diff := cmp.Diff(st.stdout, r.stdout); diff != "" {
			t.Errorf("%v (-want +got):\n%s", st.args, diff)
		}
	}

	// Closing: each listener gets the disconnected message with the reason.
	closes := []struct {
		args []string
		l    *testListener
	}{
		{[]string{"connection", "close", alice.connectionID, "--reason", "bye alice"}, alice},
		{[]string{"user", "close", "bob", "--reason", "bye bob"}, bob},
	}
	for _, c := range closes {
		r := runCLI(t, s.env(), "", c.args...)
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "closed ") {
			t.Fatalf("%v: %+v", c.args, r)
		}
		var got struct {
			Type, Event, Message string
		}
		if err := json.Unmarshal(c.l.readRaw(5e9), &got); err != nil {
			t.Fatal(err)
		}
		want := struct{ Type, Event, Message string }{wire.TypeSystem, wire.SystemEventDisconnected, "bye " + c.args[2]}
		if c.args[0] == "connection" {
			want.Message = "bye alice"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", c.args, diff)
		}
	}
	// group close: carol joins g4, the group is closed.
	if r := runCLI(t, s.env(), "", "group", "add", "g4", "--user", "carol"); r.code != exitOK {
		t.Fatal(r)
	}
	if r := runCLI(t, s.env(), "", "group", "close", "g4", "--reason", "closing g4"); r.code != exitOK || r.stdout != `closed the connections of group "g4"`+"\n" {
		t.Fatalf("group close: %+v", r)
	}
	var got message
	if err := json.Unmarshal(carol.readRaw(5e9), &got); err != nil || got.Event != wire.SystemEventDisconnected {
		t.Errorf("carol after group close: %+v, %v", got, err)
	}
}

func TestPermissionCommands(t *testing.T) {
	s := newService(t)
	alice := s.listener(t, &webpubsub.TokenOptions{UserID: "alice"})
	steps := []struct {
		args   []string
		stdout string
	}{
		{[]string{"permission", "check", "sendToGroup", alice.connectionID, "--group", "g"}, "false\n"},
		{[]string{"permission", "grant", "sendToGroup", alice.connectionID, "--group", "g"}, `granted sendToGroup on group "g" to connection "` + alice.connectionID + `"` + "\n"},
		{[]string{"permission", "check", "sendToGroup", alice.connectionID, "--group", "g"}, "true\n"},
		{[]string{"permission", "check", "sendToGroup", alice.connectionID, "--group", "g", "--output", "json"}, `{"granted":true}` + "\n"},
		{[]string{"permission", "check", "joinLeaveGroup", alice.connectionID}, "false\n"},
		{[]string{"permission", "grant", "joinLeaveGroup", alice.connectionID}, `granted joinLeaveGroup on every group to connection "` + alice.connectionID + `"` + "\n"},
		{[]string{"permission", "check", "joinLeaveGroup", alice.connectionID, "--group", "any"}, "true\n"},
		{[]string{"permission", "revoke", "sendToGroup", alice.connectionID, "--group", "g"}, `revoked sendToGroup on group "g" from connection "` + alice.connectionID + `"` + "\n"},
		{[]string{"permission", "check", "sendToGroup", alice.connectionID, "--group", "g"}, "false\n"},
	}
	for _, st := range steps {
		r := runCLI(t, s.env(), "", st.args...)
		if diff := cmp.Diff(result{code: exitOK, stdout: st.stdout}, r, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("%v (-want +got):\n%s", st.args, diff)
		}
	}
}

func TestToken(t *testing.T) {
	s := newService(t)
	r := runCLI(t, s.env(), "", "token", "--user", "dana", "--role", "webpubsub.sendToGroup.g", "--group", "g", "--expiry", "10m", "--output", "json")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	var tok struct {
		URL, BaseURL, Token string
		ExpiresAt           string
	}
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.BaseURL, "ws://127.0.0.1:") || !strings.HasSuffix(tok.BaseURL, "/client/hubs/chat") || tok.URL != tok.BaseURL+"?access_token="+tok.Token {
		t.Errorf("URLs: %+v", tok)
	}
	claims := jwtClaims(t, tok.Token)
	want := map[string]any{"sub": "dana", "role": []any{"webpubsub.sendToGroup.g"}, "webpubsub.group": []any{"g"}}
	got := map[string]any{"sub": claims["sub"], "role": claims["role"], "webpubsub.group": claims["webpubsub.group"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if lifetime := claims["exp"].(float64) - claims["iat"].(float64); lifetime != 600 {
		t.Errorf("lifetime %vs, want 600s", lifetime)
	}

	// The text form, and other protocols' paths.
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"token"}, []string{"url:     ws://", "/client/hubs/chat?access_token=", "token:   ey", "expires: 20"}},
		{[]string{"token", "--protocol", "mqtt"}, []string{"/clients/mqtt/hubs/chat?access_token="}},
		{[]string{"token", "--protocol", "socketio"}, []string{"/clients/socketio/hubs/chat?access_token="}},
	}
	for _, tt := range tests {
		r := runCLI(t, s.env(), "", tt.args...)
		if r.code != exitOK {
			t.Fatalf("%v: %+v", tt.args, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v: stdout %q lacks %q", tt.args, r.stdout, w)
			}
		}
	}
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args       []string
		positional []string
		typ, file  string
		exclude    []string
		err        string
	}{
		{args: []string{"all", "hi"}, positional: []string{"all", "hi"}, typ: "text"},
		{args: []string{"group", "g", "hi", "--type", "json"}, positional: []string{"group", "g", "hi"}, typ: "json"},
		{args: []string{"--type=binary", "all", "-", "--file", "-"}, positional: []string{"all", "-"}, typ: "binary", file: "-"},
		{args: []string{"connection", "-abc_DEF-1", "hi"}, positional: []string{"connection", "-abc_DEF-1", "hi"}, typ: "text"},
		{args: []string{"all", "--exclude", "-abc", "-exclude", "--xyz", "x"}, positional: []string{"all", "x"}, typ: "text", exclude: []string{"-abc", "--xyz"}},
		{args: []string{"all", "--", "--type", "-x"}, positional: []string{"all", "--type", "-x"}, typ: "text"},
		{args: []string{"all", "--colour", "x"}, err: "flag provided but not defined: -colour"},
		{args: []string{"all", "--type"}, err: "flag needs an argument: -type"},
		{args: []string{"all", "-h"}, err: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		fs := newFlagSet("t")
		typ := newChoice(typeText, typeJSON, typeText, typeBinary)
		fs.Var(typ, "type", "")
		file := fs.String("file", "", "")
		var exclude stringList
		fs.Var(&exclude, "exclude", "")
		got, err := parseInterspersed(fs, tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.positional, got); diff != "" {
			t.Errorf("%q: positional (-want +got):\n%s", tt.args, diff)
		}
		if typ.value != tt.typ || *file != tt.file || !cmp.Equal([]string(exclude), tt.exclude, cmpopts.EquateEmpty()) {
			t.Errorf("%q: type %q file %q exclude %q", tt.args, typ.value, *file, exclude)
		}
	}
}

// TestEveryCommandRefusesBadInput runs every leaf command with a missing
// connection string, an invalid hub and an unknown flag. A new command
// must be added to the table.
func TestEveryCommandRefusesBadInput(t *testing.T) {
	s := newService(t)
	valid := map[string][]string{ // valid arguments for each command
		"send":                              {"all", "hi"},
		"listen":                            {"--timeout", "1s"},
		"group add":                         {"g", "--user", "u"},
		"group remove":                      {"g", "--user", "u"},
		"group close":                       {"g"},
		"group exists":                      {"g"},
		"group members":                     {"g"},
		"user exists":                       {"u"},
		"user close":                        {"u"},
		"user remove-from-all-groups":       {"u"},
		"connection exists":                 {"c"},
		"connection close":                  {"c"},
		"connection remove-from-all-groups": {"c"},
		"permission grant":                  {"sendToGroup", "c"},
		"permission revoke":                 {"sendToGroup", "c"},
		"permission check":                  {"sendToGroup", "c"},
		"token":                             {},
		"health":                            {},
		"demo":                              {},
		"serve":                             {"--port", "0"},
		"version":                           {},
	}
	local := map[string]bool{"serve": true, "version": true, "demo": true} // need no connection string
	var leaves []string
	var walk func(prefix string, c *command)
	walk = func(prefix string, c *command) {
		for _, sub := range c.subs {
			name := strings.TrimSpace(prefix + " " + sub.name)
			if sub.subs != nil {
				walk(name, sub)
			} else {
				leaves = append(leaves, name)
			}
		}
	}
	walk("", rootCommand())
	for _, leaf := range leaves {
		args, ok := valid[leaf]
		if !ok {
			t.Errorf("command %q has no entry in this test", leaf)
			continue
		}
		cmd := append(strings.Fields(leaf), args...)
		t.Run(leaf, func(t *testing.T) {
			r := runCLI(t, s.env(), "", append(cmd, "--no-such-flag")...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "unknown flag --no-such-flag") {
				t.Errorf("unknown flag: %+v", r)
			}
			for _, empty := range []string{"--hub", "--connection-string"} {
				r = runCLI(t, s.env(), "", append(cmd, empty, "")...)
				if r.code != exitUsage || !strings.Contains(r.stderr, empty+" is empty") {
					t.Errorf("%s '': %+v", empty, r)
				}
			}
			if local[leaf] {
				return
			}
			r = runCLI(t, envMap(map[string]string{envHub: testHub}), "", cmd...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "no connection string") {
				t.Errorf("no connection string: %+v", r)
			}
			r = runCLI(t, s.env(), "", append(cmd, "--hub", "9lives")...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "9lives") {
				t.Errorf("bad hub: %+v", r)
			}
		})
	}
}
