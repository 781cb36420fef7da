package webpubsub_test

// Bad input across the public API: every case gets a clear error (wrapping
// ErrInvalidArgument, saying what is wrong) or, for odd but legal ids,
// reaches the service as exactly that id in exactly the intended
// operation. See docs/RELIABILITY.md for the whole table.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// oddIDs are legal ids that look like paths, queries, escapes or
// traversal. Each must stay one path segment with exactly this value.
var oddIDs = []string{
	"../groups/x", "../", "./", "..%2F", "%2E%2E", "a/b", "/a", "a/", "a?b=c", "a#frag", "100%", "%2F", "%", "a b", "a+b", "a;b", `a\b`,
	"ü-ñ-日本", "a\x00b", "line\nbreak", "tab\there", "\x7f", "'quoted'", strings.Repeat("x", 16<<10),
}

// TestOddIDsKeepTheirMeaning calls each operation that takes an id in its
// path with every odd id and checks, on the service's side, the operation
// it was routed to and the unescaped id.
func TestOddIDsKeepTheirMeaning(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	c := srv.Client(t, "hub", webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: -1}))
	ctx := context.Background()
	calls := []struct {
		operation string
		path      func(id string) string
		call      func(id string) error
	}{
		{"ConnectionExists", func(id string) string { return "/api/hubs/hub/connections/" + id }, func(id string) error {
			ok, err := c.ConnectionExists(ctx, id)
			if ok {
				return errors.New("an unknown connection exists")
			}
			return err
		}},
		{"SendToUser", func(id string) string { return "/api/hubs/hub/users/" + id + "/:send" }, func(id string) error {
			return c.SendToUser(ctx, id, webpubsub.Text("x"), nil)
		}},
		{"CloseConnection", func(id string) string { return "/api/hubs/hub/connections/" + id }, func(id string) error {
			return c.CloseConnection(ctx, id, nil)
		}},
		{"AddUserToGroup", func(id string) string { return "/api/hubs/hub/users/" + id + "/groups/" + id }, func(id string) error {
			return c.AddUserToGroup(ctx, id, id)
		}},
		{"GroupExists", func(id string) string { return "/api/hubs/hub/groups/" + id }, func(id string) error {
			_, err := c.GroupExists(ctx, id)
			return err
		}},
	}
	for _, id := range oddIDs {
		for _, call := range calls {
			srv.ResetRequests()
			err := call.call(id)
			if strings.Contains(call.operation, "Group") && len(id) > 1024 {
				if !errors.Is(err, webpubsub.ErrInvalidArgument) || len(srv.Requests()) != 0 {
					t.Errorf("%s with a group of %d characters: %v", call.operation, len(id), err)
				}
				continue
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Errorf("%s(%.20q): %d requests, want 1 (err %v)", call.operation, id, len(reqs), err)
				continue
			}
			r := reqs[0]
			if r.Operation != call.operation || r.Path != call.path(id) {
				t.Errorf("%s(%.20q) reached %s %.60q, want %s %.60q", call.operation, id, r.Operation, r.Path, call.operation, call.path(id))
			}
			if err != nil {
				// The operation may refuse an id, or not know it (AddUserToGroup
				// of a user without connections is 404); the answer must
				// come from the operation (it has an error code), never
				// from a route the id made up.
				var re *webpubsub.ResponseError
				if !errors.As(err, &re) || re.ErrorCode == "" {
					t.Errorf("%s(%.20q): %v", call.operation, id, err)
				}
			}
		}
	}
}

// TestBadArgumentsAreExplained is the public API's part of the bad-input
// table: each input is refused before any request with an error that wraps
// ErrInvalidArgument and names the problem.
func TestBadArgumentsAreExplained(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	c := srv.Client(t, "hub")
	ctx := context.Background()
	first := func(seq func(func(webpubsub.GroupMember, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"hub name empty", func() error {
			_, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "")
			return err
		}, "hub"},
		{"hub name with a hyphen", func() error {
			_, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "my-hub")
			return err
		}, "no hyphens"},
		{"hub name starting with a digit", func() error {
			_, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "1hub")
			return err
		}, "start with a letter"},
		{"hub name with a slash", func() error {
			_, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "hub/../x")
			return err
		}, "hub"},
		{"hub name of 129 characters", func() error {
			_, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "h"+strings.Repeat("a", 128))
			return err
		}, "at most 128"},
		{"connection string of garbage", func() error { _, err := webpubsub.ParseConnectionString("\x00\x01;;=="); return err }, "Key=Value"},
		{"empty connection id", func() error { _, err := c.ConnectionExists(ctx, ""); return err }, "empty"},
		{"empty user id", func() error { return c.SendToUser(ctx, "", webpubsub.Text("x"), nil) }, "empty"},
		{"group of 1025 characters", func() error { return c.AddUserToGroup(ctx, strings.Repeat("é", 1025), "u") }, "1024"},
		{"group of only whitespace", func() error { return c.Group(" \t").Send(ctx, webpubsub.Text("x"), nil) }, "whitespace"},
		{"TTL negative", func() error {
			return c.SendToAll(ctx, webpubsub.Text("x"), &webpubsub.SendToAllOptions{TTL: -time.Second})
		}, "TTL"},
		{"TTL over five minutes", func() error {
			return c.SendToAll(ctx, webpubsub.Text("x"), &webpubsub.SendToAllOptions{TTL: 301 * time.Second})
		}, "TTL"},
		{"TTL not whole seconds", func() error {
			return c.SendToAll(ctx, webpubsub.Text("x"), &webpubsub.SendToAllOptions{TTL: 1500 * time.Millisecond})
		}, "TTL"},
		{"page size 201", func() error {
			return first(c.ListConnectionsInGroup(ctx, "g", &webpubsub.ListConnectionsOptions{PageSize: 201}))
		}, "200"},
		{"page size negative", func() error {
			return first(c.ListConnectionsInGroup(ctx, "g", &webpubsub.ListConnectionsOptions{PageSize: -1}))
		}, "page"},
		{"top negative", func() error {
			return first(c.ListConnectionsInGroup(ctx, "g", &webpubsub.ListConnectionsOptions{Top: -1}))
		}, "Top"},
		{"message that is not JSON-encodable", func() error { return c.SendToAll(ctx, webpubsub.JSON(func() {}), nil) }, "JSON"},
		{"raw JSON that is not UTF-8", func() error { return c.SendToAll(ctx, webpubsub.RawJSON([]byte("\"\xff\"")), nil) }, "UTF-8"},
		{"text that is not UTF-8", func() error { return c.SendToAll(ctx, webpubsub.Text("\xc3\x28"), nil) }, "UTF-8"},
		{"raw JSON that is not JSON", func() error { return c.SendToAll(ctx, webpubsub.RawJSON([]byte(`{"a":`)), nil) }, "JSON"},
		{"filter template with too few values", func() error { _, err := webpubsub.Filter("userId eq {} or userId eq {}", "a"); return err }, "argument"},
		{"connection id ..", func() error { _, err := c.ConnectionExists(ctx, ".."); return err }, "parent folder"},
		{"user id .", func() error { return c.SendToUser(ctx, ".", webpubsub.Text("x"), nil) }, "same or the parent"},
		{"group ..", func() error { return c.Group("..").Send(ctx, webpubsub.Text("x"), nil) }, "another operation"},
		{"filter value of an unsupported type", func() error { _, err := webpubsub.Filter("userId eq {}", struct{}{}); return err }, "type"},
		{"token lifetime negative", func() error {
			_, err := c.ClientAccessToken(ctx, &webpubsub.TokenOptions{Expiry: -time.Minute})
			return err
		}, "Expiry"},
		{"token header alg", func() error {
			_, err := c.ClientAccessToken(ctx, &webpubsub.TokenOptions{JWTHeaders: map[string]any{"alg": "none"}})
			return err
		}, "alg"},
		{"empty access key", func() error { _, err := webpubsub.NewKeyCredential(""); return err }, "empty"},
	}
	srv.ResetRequests()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				return tt.call()
			}()
			if !errors.Is(err, webpubsub.ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("bad arguments sent %d requests, e.g. %+v", len(reqs), reqs[0])
	}
	// A filter is checked by the service, which says what is wrong.
	err := c.SendToAll(ctx, webpubsub.Text("x"), &webpubsub.SendToAllOptions{Filter: "userId eq"})
	var re *webpubsub.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 400 || !strings.Contains(re.Message, "expected a string after 'eq'") {
		t.Errorf("bad filter: %v", err)
	}
	// A group name of 1024 characters is legal even when its UTF-8 form is
	// longer than 1024 bytes.
	if _, err := c.GroupExists(ctx, strings.Repeat("é", 1024)); err != nil {
		t.Errorf("group of 1024 two-byte characters: %v", err)
	}
}
