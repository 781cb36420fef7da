package webpubsub

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestInvalidArgumentsBeforeIO(t *testing.T) {
	ctx := context.Background()
	f := newFakeService(t, "")
	c := newTestClient(t, f)
	old := newTestClient(t, f, WithAPIVersion("2021-10-01"))
	v2022 := newTestClient(t, f, WithAPIVersion("2022-11-01"))
	v2024 := newTestClient(t, f, WithAPIVersion("2024-01-01"))
	long := strings.Repeat("g", 1025)
	var nilCtx context.Context
	tests := []struct {
		name, want string
		call       func() error
	}{
		{"nil ctx", "context is nil", func() error { return c.SendToAll(nilCtx, Text("x"), nil) }},
		{"zero message", "message is empty", func() error { return c.SendToAll(ctx, Message{}, nil) }},
		{"bad JSON value", "JSON message", func() error { return c.SendToAll(ctx, JSON(func() {}), nil) }},
		{"invalid raw JSON", "not valid JSON", func() error { return c.SendToAll(ctx, RawJSON([]byte("{")), nil) }},
		{"stream content type", "must be application/json", func() error { return c.SendToAll(ctx, Stream("image/png", strings.NewReader("x")), nil) }},
		{"stream nil reader", "nil reader", func() error { return c.SendToAll(ctx, Stream("text/plain", nil), nil) }},
		{"ttl negative", "between 1s and 5m0s", func() error { return c.SendToAll(ctx, Text("x"), &SendToAllOptions{TTL: -time.Second}) }},
		{"ttl too big", "between 1s and 5m0s", func() error { return c.SendToAll(ctx, Text("x"), &SendToAllOptions{TTL: 301 * time.Second}) }},
		{"ttl fraction", "whole number of seconds", func() error {
			return c.SendToGroup(ctx, "g", Text("x"), &SendToGroupOptions{TTL: 1500 * time.Millisecond})
		}},
		{"excluded empty id", "excluded connection id 2 is empty", func() error {
			return c.SendToAll(ctx, Text("x"), &SendToAllOptions{Excluded: []string{"a", ""}})
		}},
		{"excluded empty id group", "excluded connection id", func() error {
			return c.SendToGroup(ctx, "g", Text("x"), &SendToGroupOptions{Excluded: []string{""}})
		}},
		{"user empty", "user id is empty", func() error { return c.SendToUser(ctx, "", Text("x"), nil) }},
		{"user ttl", "between", func() error { return c.SendToUser(ctx, "u", Text("x"), &SendToUserOptions{TTL: time.Hour}) }},
		{"user message", "message is empty", func() error { return c.SendToUser(ctx, "u", Message{}, nil) }},
		{"conn empty", "connection id is empty", func() error { return c.SendToConnection(ctx, "", Text("x"), nil) }},
		{"conn ttl", "between", func() error { return c.SendToConnection(ctx, "c", Text("x"), &SendToConnectionOptions{TTL: -1}) }},
		{"conn message", "message is empty", func() error { return c.SendToConnection(ctx, "c", Message{}, nil) }},
		{"group empty", "group name is empty", func() error { return c.SendToGroup(ctx, "", Text("x"), nil) }},
		{"group spaces", "only whitespace", func() error { return c.Group("  ").AddUser(ctx, "u") }},
		{"group too long", "at most 1024", func() error { return c.AddConnectionToGroup(ctx, long, "c") }},
		{"group message", "message is empty", func() error { return c.SendToGroup(ctx, "g", Message{}, nil) }},
		{"close conn", "connection id is empty", func() error { return c.CloseConnection(ctx, "", nil) }},
		{"close all excluded", "excluded", func() error { return c.CloseAllConnections(ctx, &CloseConnectionsOptions{Excluded: []string{""}}) }},
		{"close user", "user id is empty", func() error { return c.CloseUserConnections(ctx, "", nil) }},
		{"close user excluded", "excluded", func() error {
			return c.CloseUserConnections(ctx, "u", &CloseConnectionsOptions{Excluded: []string{""}})
		}},
		{"close group", "group name is empty", func() error { return c.CloseGroupConnections(ctx, "", nil) }},
		{"close group excluded", "excluded", func() error {
			return c.CloseGroupConnections(ctx, "g", &CloseConnectionsOptions{Excluded: []string{""}})
		}},
		{"exists conn", "connection id is empty", func() error { _, err := c.ConnectionExists(ctx, ""); return err }},
		{"exists user", "user id is empty", func() error { _, err := c.UserExists(ctx, ""); return err }},
		{"exists group", "group name is empty", func() error { _, err := c.GroupExists(ctx, ""); return err }},
		{"add conn", "connection id is empty", func() error { return c.AddConnectionToGroup(ctx, "g", "") }},
		{"remove conn group", "group name is empty", func() error { return c.RemoveConnectionFromGroup(ctx, "", "c") }},
		{"remove conn id", "connection id is empty", func() error { return c.RemoveConnectionFromGroup(ctx, "g", "") }},
		{"remove conn all", "connection id is empty", func() error { return c.RemoveConnectionFromAllGroups(ctx, "") }},
		{"add user group", "group name is empty", func() error { return c.AddUserToGroup(ctx, "", "u") }},
		{"add user id", "user id is empty", func() error { return c.AddUserToGroup(ctx, "g", "") }},
		{"remove user group", "group name is empty", func() error { return c.RemoveUserFromGroup(ctx, "", "u") }},
		{"remove user id", "user id is empty", func() error { return c.RemoveUserFromGroup(ctx, "g", "") }},
		{"remove user all", "user id is empty", func() error { return c.RemoveUserFromAllGroups(ctx, "") }},
		{"add by filter no groups", "no groups given", func() error { return c.AddConnectionsToGroups(ctx, nil, "") }},
		{"remove by filter bad group", "group name is empty", func() error { return c.RemoveConnectionsFromGroups(ctx, []string{""}, "") }},
		{"permission unknown", "is neither", func() error { return c.GrantPermission(ctx, "admin", "c", nil) }},
		{"permission conn", "connection id is empty", func() error { return c.RevokePermission(ctx, PermissionSendToGroup, "", nil) }},
		{"permission target", "only whitespace", func() error {
			_, err := c.HasPermission(ctx, PermissionSendToGroup, "c", &PermissionOptions{TargetGroup: " "})
			return err
		}},
		{"health nil ctx", "context is nil", func() error { return c.CheckHealth(nilCtx) }},
		// api-version gating
		{"filter on 2021", "Filter needs api-version 2022-11-01", func() error {
			return old.SendToAll(ctx, Text("x"), &SendToAllOptions{Filter: "userId eq 'a'"})
		}},
		{"filter user on 2021", "Filter needs", func() error {
			return old.SendToUser(ctx, "u", Text("x"), &SendToUserOptions{Filter: "x"})
		}},
		{"filter group on 2021", "Filter needs", func() error {
			return old.SendToGroup(ctx, "g", Text("x"), &SendToGroupOptions{Filter: "x"})
		}},
		{"ttl on 2022", "messageTtlSeconds) needs api-version 2024-01-01", func() error {
			return v2022.SendToConnection(ctx, "c", Text("x"), &SendToConnectionOptions{TTL: time.Second})
		}},
		{"remove all groups on 2021", "RemoveConnectionFromAllGroups needs api-version 2022-11-01", func() error {
			return old.RemoveConnectionFromAllGroups(ctx, "c")
		}},
		{"add by filter on 2022", "AddConnectionsToGroups needs api-version 2024-01-01", func() error {
			return v2022.AddConnectionsToGroups(ctx, []string{"g"}, "")
		}},
		{"remove by filter on 2022", "RemoveConnectionsFromGroups needs", func() error {
			return v2022.RemoveConnectionsFromGroups(ctx, []string{"g"}, "")
		}},
		{"list token too long", "ContinuationToken is longer", func() error {
			for _, err := range c.ListConnectionsInGroupPages(ctx, "g", &ListConnectionsOptions{ContinuationToken: strings.Repeat("t", 5000)}) {
				return err
			}
			return nil
		}},
		{"list on 2024-01", "ListConnectionsInGroup needs api-version " + wire.APIVersion20241201, func() error {
			for _, err := range v2024.ListConnectionsInGroup(ctx, "g", nil) {
				return err
			}
			return nil
		}},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v does not wrap ErrInvalidArgument", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %q does not say %q", tt.name, err, tt.want)
		}
	}
	if got := f.take(); len(got) != 0 {
		t.Errorf("invalid calls reached the service: %v", got)
	}
}

func TestConstructorErrors(t *testing.T) {
	key, _ := NewKeyCredential("k")
	var nilKey *KeyCredential
	tests := []struct {
		name, want string
		make       func() (*Client, error)
	}{
		{"hub hyphen", "no hyphens", func() (*Client, error) { return NewClientWithKey("https://x.com", "my-hub", key) }},
		{"hub empty", "must start with a letter", func() (*Client, error) { return NewClientWithKey("https://x.com", "", key) }},
		{"hub digit", "must start with a letter", func() (*Client, error) { return NewClientWithKey("https://x.com", "1hub", key) }},
		{"hub long", "at most 128", func() (*Client, error) { return NewClientWithKey("https://x.com", "h"+strings.Repeat("a", 128), key) }},
		{"endpoint", "absolute http", func() (*Client, error) { return NewClientWithKey("x.com", "hub", key) }},
		{"nil cred", "credential is nil", func() (*Client, error) { return NewClient("https://x.com", "hub", nil) }},
		{"nil key", "KeyCredential is nil", func() (*Client, error) { return NewClientWithKey("https://x.com", "hub", nilKey) }},
		{"zero key", "NewKeyCredential", func() (*Client, error) { return NewClientWithKey("https://x.com", "hub", &KeyCredential{}) }},
		{"entra over http", "only sent over https", func() (*Client, error) { return NewClient("http://x.com", "hub", &fakeCredential{}) }},
		{"api version", "not a supported api-version", func() (*Client, error) {
			return NewClientWithKey("https://x.com", "hub", key, WithAPIVersion("2020-10-01"))
		}},
		{"proxy", "WithReverseProxy", func() (*Client, error) { return NewClientWithKey("https://x.com", "hub", key, WithReverseProxy("::")) }},
		{"http client", "nil", func() (*Client, error) { return NewClientWithKey("https://x.com", "hub", key, WithHTTPClient(nil)) }},
		{"retry", "negative", func() (*Client, error) {
			return NewClientWithKey("https://x.com", "hub", key, WithRetry(RetryOptions{RetryDelay: -1}))
		}},
		{"user agent space", "without spaces", func() (*Client, error) { return NewClientWithKey("https://x.com", "hub", key, WithUserAgent("my app")) }},
		{"user agent long", "1 to 24", func() (*Client, error) {
			return NewClientWithKey("https://x.com", "hub", key, WithUserAgent(strings.Repeat("a", 25)))
		}},
		{"conn string", "AccessKey is missing", func() (*Client, error) { return NewClientFromConnectionString("Endpoint=https://x.com", "hub") }},
		{"conn string hub", "no hyphens", func() (*Client, error) {
			return NewClientFromConnectionString("Endpoint=https://x.com;AccessKey=k", "a-b")
		}},
	}
	for _, tt := range tests {
		c, err := tt.make()
		if c != nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, %v; want an ErrInvalidArgument saying %q", tt.name, c, err, tt.want)
		}
	}
	for _, hub := range []string{"a", "Hub_1", "h`,.[]", "A" + strings.Repeat("b", 127)} {
		if _, err := NewClientWithKey("https://x.com", hub, key); err != nil {
			t.Errorf("hub %q refused: %v", hub, err)
		}
	}
	c, err := NewClientWithKey("https://X.com:8443/base/", "hub", key, nil, WithAPIVersion("2023-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != "https://X.com:8443/base" || c.Hub() != "hub" || c.APIVersion() != "2023-07-01" {
		t.Errorf("Endpoint %q, Hub %q, APIVersion %q", c.Endpoint(), c.Hub(), c.APIVersion())
	}
}

func TestResponseError(t *testing.T) {
	ctx := context.Background()
	f := newFakeService(t, "/p")
	c := newTestClient(t, f, WithRetry(RetryOptions{MaxRetries: -1}))
	big := strings.Repeat("x", 10000)
	tests := []struct {
		name     string
		status   int
		header   string
		ctype    string
		body     string
		wantCode string
		wantMsg  string
	}{
		{"header code", 400, "InvalidHub", "text/plain", "bad hub", "InvalidHub", "bad hub"},
		{"body code", 400, "", "application/json", `{"code":"BadRequest","message":"m"}`, "BadRequest", `{"code":"BadRequest","message":"m"}`},
		{"nested code", 409, "", "application/json", `{"error":{"code":"Conflict"}}`, "Conflict", `{"error":{"code":"Conflict"}}`},
		{"header wins", 400, "FromHeader", "application/json", `{"code":"FromBody"}`, "FromHeader", `{"code":"FromBody"}`},
		{"problem details", 400, "", "application/problem+json", `{"errors":{"hub":["x"]},"status":400}`, "", `{"errors":{"hub":["x"]},"status":400}`},
		{"no body", 403, "", "", "", "", ""},
		{"bounded", 500, "", "text/plain", big, "", big[:4096]},
		{"token in body", 401, "", "text/plain", "bad token eyJhbGciOi.eyJhdWQiOi.c2ln here", "", "bad token [REDACTED] here"},
	}
	for _, tt := range tests {
		f.setHandler(func(w http.ResponseWriter, r *http.Request) {
			if tt.header != "" {
				w.Header().Set("x-ms-error-code", tt.header)
			}
			if tt.ctype != "" {
				w.Header().Set("Content-Type", tt.ctype)
			}
			w.WriteHeader(tt.status)
			_, _ = io.WriteString(w, tt.body)
		})
		err := c.SendToGroup(ctx, "g", Text("x"), nil)
		var re *ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v is not a *ResponseError", tt.name, err)
		}
		want := ResponseError{Operation: "SendToGroup", Method: "POST", URL: f.url() + "/api/hubs/chat/groups/g/:send",
			StatusCode: tt.status, ErrorCode: tt.wantCode, Message: tt.wantMsg}
		if len(re.RequestID) != 36 || re.Header.Get("Content-Type") != tt.ctype || re.Header.Get("Date") == "" {
			t.Errorf("%s: request id %q, headers %v", tt.name, re.RequestID, re.Header)
		}
		got := *re
		got.RequestID, got.Header = "", nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
		if strings.Contains(re.Error(), "api-version") || !strings.Contains(re.Error(), "SendToGroup: POST") {
			t.Errorf("%s: Error() = %q", tt.name, re.Error())
		}
		if errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: a response error must not be an invalid argument", tt.name)
		}
	}
	f.take()
	e := &ResponseError{Operation: "Op", Method: "GET", URL: "u", StatusCode: 429, ErrorCode: "Throttled", Message: "slow down"}
	if got, want := e.Error(), "webpubsub: Op: GET u: 429 Too Many Requests (error code Throttled): slow down"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestWrongCredentialDoesNotCompile builds testdata/wrongcred, which passes
// an access key to NewClient, an Entra ID credential to NewClientWithKey
// and an azcore.KeyCredential to NewClient, and expects the compiler to
// refuse each of the three calls.
func TestWrongCredentialDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "build", "-o", os.DevNull, "./testdata/wrongcred").CombinedOutput()
	if err == nil {
		t.Fatal("testdata/wrongcred compiled; a wrong credential type must be a compile error")
	}
	for _, want := range []string{
		"main.go:15:", "as azcore.TokenCredential value in argument to webpubsub.NewClient",
		"main.go:17:", "as *webpubsub.KeyCredential value in argument to webpubsub.NewClientWithKey",
		"main.go:18:", "*azcore.KeyCredential) as azcore.TokenCredential",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the compiler's output does not contain %q:\n%s", want, out)
		}
	}
}
