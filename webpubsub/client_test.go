package webpubsub

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// odd is an id with every character that needs escaping in a path.
const odd = "a/b?c#d%e f ü"

// oddEsc is odd as it must appear on the wire.
const oddEsc = "a%2Fb%3Fc%23d%25e%20f%20%C3%BC"

func TestOperationsOnTheWire(t *testing.T) {
	ctx := context.Background()
	const v = "api-version=" + APIVersion
	type tc struct {
		name string
		call func(c *Client) error
		want wireRequest
	}
	tests := []tc{
		{"SendToAll JSON", func(c *Client) error { return c.SendToAll(ctx, JSON(map[string]int{"a": 1}), nil) },
			wireRequest{"POST", "/api/hubs/chat/:send?" + v, "application/json", `{"a":1}`}},
		{"SendToAll text with options", func(c *Client) error {
			return c.SendToAll(ctx, Text("hi"), &SendToAllOptions{Filter: "userId eq 'x'", Excluded: []string{"c 1", "c,2"}, TTL: 30 * time.Second})
		}, wireRequest{"POST", "/api/hubs/chat/:send?excluded=c+1&excluded=c%2C2&" + v + "&filter=userId+eq+%27x%27&messageTtlSeconds=30", "text/plain", "hi"}},
		{"SendToAll empty excluded omitted", func(c *Client) error {
			return c.SendToAll(ctx, Binary([]byte{0, 1}), &SendToAllOptions{Excluded: []string{}})
		}, wireRequest{"POST", "/api/hubs/chat/:send?" + v, "application/octet-stream", "\x00\x01"}},
		{"SendToAll raw JSON", func(c *Client) error { return c.SendToAll(ctx, RawJSON([]byte(`"s"`)), nil) },
			wireRequest{"POST", "/api/hubs/chat/:send?" + v, "application/json", `"s"`}},
		{"SendToAll stream", func(c *Client) error {
			return c.SendToAll(ctx, Stream("text/plain; charset=utf-8", strings.NewReader("streamed")), nil)
		}, wireRequest{"POST", "/api/hubs/chat/:send?" + v, "text/plain; charset=utf-8", "streamed"}},
		{"SendToUser", func(c *Client) error {
			return c.SendToUser(ctx, odd, Text("u"), &SendToUserOptions{Filter: "'g' in groups", TTL: time.Second})
		}, wireRequest{"POST", "/api/hubs/chat/users/" + oddEsc + "/:send?" + v + "&filter=%27g%27+in+groups&messageTtlSeconds=1", "text/plain", "u"}},
		{"SendToConnection", func(c *Client) error {
			return c.SendToConnection(ctx, odd, BinaryReader(bytes.NewReader([]byte("b"))), &SendToConnectionOptions{TTL: 300 * time.Second})
		}, wireRequest{"POST", "/api/hubs/chat/connections/" + oddEsc + "/:send?" + v + "&messageTtlSeconds=300", "application/octet-stream", "b"}},
		{"SendToGroup", func(c *Client) error {
			return c.SendToGroup(ctx, odd, JSON("x"), &SendToGroupOptions{Excluded: []string{"c1"}, Filter: "userId ne 'a'"})
		}, wireRequest{"POST", "/api/hubs/chat/groups/" + oddEsc + "/:send?excluded=c1&" + v + "&filter=userId+ne+%27a%27", "application/json", `"x"`}},
		{"Group.Send", func(c *Client) error { return c.Group("g").Send(ctx, Text("t"), nil) },
			wireRequest{"POST", "/api/hubs/chat/groups/g/:send?" + v, "text/plain", "t"}},
		{"CloseConnection", func(c *Client) error { return c.CloseConnection(ctx, odd, &CloseConnectionOptions{Reason: "bye now"}) },
			wireRequest{"DELETE", "/api/hubs/chat/connections/" + oddEsc + "?reason=bye+now&" + v, "", ""}},
		{"CloseConnection nil opts", func(c *Client) error { return c.CloseConnection(ctx, "c", nil) },
			wireRequest{"DELETE", "/api/hubs/chat/connections/c?" + v, "", ""}},
		{"CloseAllConnections", func(c *Client) error {
			return c.CloseAllConnections(ctx, &CloseConnectionsOptions{Reason: "r", Excluded: []string{"a", "b"}})
		}, wireRequest{"POST", "/api/hubs/chat/:closeConnections?excluded=a&excluded=b&reason=r&" + v, "", ""}},
		{"CloseAllConnections nil", func(c *Client) error { return c.CloseAllConnections(ctx, nil) },
			wireRequest{"POST", "/api/hubs/chat/:closeConnections?" + v, "", ""}},
		{"CloseUserConnections", func(c *Client) error {
			return c.CloseUserConnections(ctx, odd, &CloseConnectionsOptions{Reason: "r", Excluded: []string{"a"}})
		}, wireRequest{"POST", "/api/hubs/chat/users/" + oddEsc + "/:closeConnections?excluded=a&reason=r&" + v, "", ""}},
		{"CloseGroupConnections", func(c *Client) error {
			return c.Group(odd).CloseConnections(ctx, &CloseConnectionsOptions{Excluded: []string{"a"}})
		}, wireRequest{"POST", "/api/hubs/chat/groups/" + oddEsc + "/:closeConnections?excluded=a&" + v, "", ""}},
		{"AddConnectionToGroup", func(c *Client) error { return c.AddConnectionToGroup(ctx, odd, "c/1") },
			wireRequest{"PUT", "/api/hubs/chat/groups/" + oddEsc + "/connections/c%2F1?" + v, "", ""}},
		{"Group.AddConnection", func(c *Client) error { return c.Group("g").AddConnection(ctx, "c") },
			wireRequest{"PUT", "/api/hubs/chat/groups/g/connections/c?" + v, "", ""}},
		{"RemoveConnectionFromGroup", func(c *Client) error { return c.Group(odd).RemoveConnection(ctx, "c") },
			wireRequest{"DELETE", "/api/hubs/chat/groups/" + oddEsc + "/connections/c?" + v, "", ""}},
		{"RemoveConnectionFromAllGroups", func(c *Client) error { return c.RemoveConnectionFromAllGroups(ctx, odd) },
			wireRequest{"DELETE", "/api/hubs/chat/connections/" + oddEsc + "/groups?" + v, "", ""}},
		{"AddUserToGroup", func(c *Client) error { return c.Group(odd).AddUser(ctx, odd) },
			wireRequest{"PUT", "/api/hubs/chat/users/" + oddEsc + "/groups/" + oddEsc + "?" + v, "", ""}},
		{"RemoveUserFromGroup", func(c *Client) error { return c.Group("g").RemoveUser(ctx, "u") },
			wireRequest{"DELETE", "/api/hubs/chat/users/u/groups/g?" + v, "", ""}},
		{"RemoveUserFromAllGroups", func(c *Client) error { return c.RemoveUserFromAllGroups(ctx, odd) },
			wireRequest{"DELETE", "/api/hubs/chat/users/" + oddEsc + "/groups?" + v, "", ""}},
		{"AddConnectionsToGroups", func(c *Client) error { return c.AddConnectionsToGroups(ctx, []string{"a", "b"}, "userId eq 'u'") },
			wireRequest{"POST", "/api/hubs/chat/:addToGroups?" + v, "application/json", `{"filter":"userId eq 'u'","groups":["a","b"]}`}},
		{"RemoveConnectionsFromGroups", func(c *Client) error { return c.RemoveConnectionsFromGroups(ctx, []string{"a"}, "") },
			wireRequest{"POST", "/api/hubs/chat/:removeFromGroups?" + v, "application/json", `{"groups":["a"]}`}},
		{"GrantPermission", func(c *Client) error {
			return c.GrantPermission(ctx, PermissionSendToGroup, odd, &PermissionOptions{TargetGroup: "g 1"})
		}, wireRequest{"PUT", "/api/hubs/chat/permissions/sendToGroup/connections/" + oddEsc + "?targetName=g+1&" + v, "", ""}},
		{"RevokePermission", func(c *Client) error { return c.RevokePermission(ctx, PermissionJoinLeaveGroup, "c", nil) },
			wireRequest{"DELETE", "/api/hubs/chat/permissions/joinLeaveGroup/connections/c?" + v, "", ""}},
		{"HasPermission", func(c *Client) error {
			_, err := c.HasPermission(ctx, PermissionJoinLeaveGroup, "c", &PermissionOptions{TargetGroup: "g"})
			return err
		}, wireRequest{"HEAD", "/api/hubs/chat/permissions/joinLeaveGroup/connections/c?targetName=g&" + v, "", ""}},
		{"ConnectionExists", func(c *Client) error { _, err := c.ConnectionExists(ctx, odd); return err },
			wireRequest{"HEAD", "/api/hubs/chat/connections/" + oddEsc + "?" + v, "", ""}},
		{"UserExists", func(c *Client) error { _, err := c.UserExists(ctx, odd); return err },
			wireRequest{"HEAD", "/api/hubs/chat/users/" + oddEsc + "?" + v, "", ""}},
		{"GroupExists", func(c *Client) error { _, err := c.Group(odd).Exists(ctx); return err },
			wireRequest{"HEAD", "/api/hubs/chat/groups/" + oddEsc + "?" + v, "", ""}},
		{"CheckHealth", func(c *Client) error { return c.CheckHealth(ctx) },
			wireRequest{"HEAD", "/api/health?" + v, "", ""}},
	}
	for _, prefix := range []string{"", "/prefix"} {
		f := newFakeService(t, prefix)
		c := newTestClient(t, f)
		for _, tt := range tests {
			t.Run(tt.name+prefix, func(t *testing.T) {
				if err := tt.call(c); err != nil {
					t.Fatal(err)
				}
				got := f.take()
				if diff := cmp.Diff([]wireRequest{tt.want}, got); diff != "" {
					t.Errorf("wire mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestExistsMapping(t *testing.T) {
	ctx := context.Background()
	f := newFakeService(t, "")
	c := newTestClient(t, f, WithRetry(RetryOptions{MaxRetries: -1}))
	checks := map[string]func() (bool, error){
		"ConnectionExists": func() (bool, error) { return c.ConnectionExists(ctx, "c") },
		"UserExists":       func() (bool, error) { return c.UserExists(ctx, "u") },
		"GroupExists":      func() (bool, error) { return c.GroupExists(ctx, "g") },
		"HasPermission":    func() (bool, error) { return c.HasPermission(ctx, PermissionSendToGroup, "c", nil) },
	}
	for name, check := range checks {
		for _, tc := range []struct {
			status  int
			want    bool
			wantErr bool
		}{{200, true, false}, {404, false, false}, {403, false, true}, {500, false, true}, {204, false, true}} {
			f.setHandler(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-ms-error-code", "Code")
				w.WriteHeader(tc.status)
			})
			got, err := check()
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("%s with %d = %v, %v; want %v, error %v", name, tc.status, got, err, tc.want, tc.wantErr)
			}
			var re *ResponseError
			if tc.wantErr && (!errors.As(err, &re) || re.StatusCode != tc.status || re.Operation != name || re.ErrorCode != "Code") {
				t.Errorf("%s with %d: error %#v is not the expected *ResponseError", name, tc.status, err)
			}
		}
	}
}

func TestGroupClientName(t *testing.T) {
	f := newFakeService(t, "")
	if got := newTestClient(t, f).Group("room").Name(); got != "room" {
		t.Errorf("Name() = %q", got)
	}
}

// TestRESTClaimsParse checks that a REST token parses back with the
// client's own claims type, as the emulator may do.
func TestRESTClaimsParse(t *testing.T) {
	k, _ := NewKeyCredential(testKey)
	a := &keyAuthorizer{cred: k, now: time.Now}
	h := http.Header{}
	if err := a.authorize(context.Background(), h, "https://x/api/health?api-version=1"); err != nil {
		t.Fatal(err)
	}
	var claims restClaims
	tok := strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
	_, err := jwt.NewParser(jwt.WithAudience("https://x/api/health?api-version=1"), jwt.WithIssuedAt(), jwt.WithExpirationRequired()).
		ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte(testKey), nil })
	if err != nil || claims.Exp-claims.Iat != 300 {
		t.Errorf("%v %+v", err, claims)
	}
	nbf, _ := claims.GetNotBefore()
	iss, _ := claims.GetIssuer()
	sub, _ := claims.GetSubject()
	if nbf != nil || iss != "" || sub != "" {
		t.Errorf("unexpected claims %v %q %q", nbf, iss, sub)
	}
}

func TestAPIVersionOnTheWire(t *testing.T) {
	f := newFakeService(t, "")
	for _, v := range supportedAPIVersions {
		c := newTestClient(t, f, WithAPIVersion(v))
		if err := c.SendToAll(context.Background(), Text("x"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GroupExists(context.Background(), "g"); err != nil {
			t.Fatal(err)
		}
		want := []wireRequest{
			{Method: "POST", URI: "/api/hubs/chat/:send?api-version=" + v, ContentType: "text/plain", Body: "x"},
			{Method: "HEAD", URI: "/api/hubs/chat/groups/g?api-version=" + v},
		}
		if diff := cmp.Diff(want, f.take()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", v, diff)
		}
	}
}
