package webpubsub

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func collect(t *testing.T, c *Client, group string, opts *ListConnectionsOptions) ([]GroupMember, error) {
	t.Helper()
	var out []GroupMember
	for m, err := range c.ListConnectionsInGroup(context.Background(), group, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

func TestListConnectionsInGroupPaging(t *testing.T) {
	f := newFakeService(t, "/prefix")
	c := newTestClient(t, f)
	// Page 1 links to page 2 on the same host without api-version; page 2
	// links to page 3 on another host (only its query is used).
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var page map[string]any
		switch r.URL.Query().Get("continuationToken") {
		case "":
			page = map[string]any{"value": []map[string]any{{"connectionId": "c1", "userId": "u1"}, {"connectionId": "c2"}},
				"nextLink": f.url() + "/api/hubs/chat/groups/g%2F1/connections?maxpagesize=2&continuationToken=p2"}
		case "p2":
			page = map[string]any{"value": []map[string]any{{"connectionId": "c3", "userId": "u3"}},
				"nextLink": "https://elsewhere.example/api/hubs/chat/groups/g%2F1/connections?continuationToken=p3&api-version=" + APIVersion}
		default:
			page = map[string]any{"value": []map[string]any{{"connectionId": "c4"}}}
		}
		_ = json.NewEncoder(w).Encode(page)
	})
	got, err := collect(t, c, "g/1", &ListConnectionsOptions{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []GroupMember{{"c1", "u1"}, {"c2", ""}, {"c3", "u3"}, {"c4", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	wantReqs := []wireRequest{
		{Method: "GET", URI: "/api/hubs/chat/groups/g%2F1/connections?maxpagesize=2&api-version=" + APIVersion},
		{Method: "GET", URI: "/api/hubs/chat/groups/g%2F1/connections?api-version=" + APIVersion + "&continuationToken=p2&maxpagesize=2"},
		{Method: "GET", URI: "/api/hubs/chat/groups/g%2F1/connections?continuationToken=p3&api-version=" + APIVersion},
	}
	if diff := cmp.Diff(wantReqs, f.take()); diff != "" { // take also checks every JWT
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// Top stops early even if the service sends more; breaking out stops
	// requesting.
	got, err = collect(t, c, "g/1", &ListConnectionsOptions{Top: 3})
	if err != nil || len(got) != 3 {
		t.Errorf("top 3: %v %v", got, err)
	}
	if reqs := f.take(); len(reqs) != 2 || !strings.Contains(reqs[0].URI, "top=3") {
		t.Errorf("top requests %+v", reqs)
	}
	for range c.Group("g/1").ListConnections(context.Background(), nil) {
		break
	}
	if reqs := f.take(); len(reqs) != 1 {
		t.Errorf("break: %d requests", len(reqs))
	}
}

func TestListConnectionsInGroupErrors(t *testing.T) {
	f := newFakeService(t, "")
	c := newTestClient(t, f, WithRetry(RetryOptions{MaxRetries: -1}))
	var nilCtx context.Context
	for _, tc := range []struct {
		group string
		opts  *ListConnectionsOptions
		ctx   context.Context
		want  string
	}{
		{"", nil, context.Background(), "group name is empty"},
		{"g", &ListConnectionsOptions{PageSize: 201}, context.Background(), "PageSize 201"},
		{"g", &ListConnectionsOptions{PageSize: -1}, context.Background(), "PageSize -1"},
		{"g", &ListConnectionsOptions{Top: -1}, context.Background(), "Top -1"},
		{"g", nil, nilCtx, "context is nil"},
	} {
		n := 0
		for _, err := range c.ListConnectionsInGroup(tc.ctx, tc.group, tc.opts) {
			n++
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%+v: %v", tc, err)
			}
		}
		if n != 1 {
			t.Errorf("%+v: %d yields", tc, n)
		}
	}
	pages := map[string]string{
		"500":     "",
		"badjson": `{"value":[`,
		"loop":    `{"value":[{"connectionId":"c"}],"nextLink":"/api/hubs/chat/groups/loop/connections?continuationToken=same&api-version=` + APIVersion + `"}`,
		"badlink": `{"value":[],"nextLink":"http://[::1"}`,
		"huge":    `{"value":[{"connectionId":"` + strings.Repeat("c", maxPageBody) + `"}]}`,
	}
	f.setHandler(func(w http.ResponseWriter, r *http.Request) {
		g := strings.Split(r.URL.Path, "/")[5]
		if g == "500" {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write([]byte(pages[g]))
	})
	for g, want := range map[string]string{"500": "500 Internal Server Error", "badjson": "decoding the page", "loop": "same nextLink twice", "badlink": "invalid nextLink", "huge": "a page of more than 8 MiB"} {
		_, err := collect(t, c, g, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", g, err)
		}
	}
	f.take()
}

func TestFilter(t *testing.T) {
	tests := []struct {
		tmpl string
		args []any
		want string
	}{
		{"userId eq {}", []any{"bob"}, "userId eq 'bob'"},
		{"userId eq {} and {} in groups", []any{"o'brien", "g'1"}, "userId eq 'o''brien' and 'g''1' in groups"},
		{"userId eq {}", []any{"x' or '1' eq '1"}, "userId eq 'x'' or ''1'' eq ''1'"},
		{"userId in {}", []any{[]string{"a", "b'c"}}, "userId in ('a','b''c')"},
		{"userId eq {}", []any{nil}, "userId eq null"},
		{"length(userId) gt {} and {} eq {}", []any{3, true, false}, "length(userId) gt 3 and true eq false"},
		{"{} {} {} {} {} {} {} {} {} {} {} {}", []any{int8(-1), int16(2), int32(3), int64(4), uint(5), uint8(6), uint16(7), uint32(8), uint64(9), float32(2), 3.0, Permission("p")},
			"-1 2 3 4 5 6 7 8 9 2 3 'p'"},
		{"no placeholders", nil, "no placeholders"},
	}
	for _, tt := range tests {
		got, err := Filter(tt.tmpl, tt.args...)
		if err != nil || got != tt.want {
			t.Errorf("Filter(%q, %v) = %q, %v; want %q", tt.tmpl, tt.args, got, err, tt.want)
		}
	}
	stringer := struct{ error }{errors.New("x")}
	for _, bad := range []struct {
		tmpl string
		args []any
		want string
	}{
		{"{} {}", []any{"a"}, "more {} than the 1 argument"},
		{"{}", []any{"a", "b"}, "1 {} but 2 argument"},
		{"{}", []any{[]string{}}, "empty list"},
		{"{}", []any{struct{}{}}, "cannot be a filter literal"},
		{"{}", []any{stringer}, "cannot be a filter literal"},
		{"{}", []any{math.Inf(1)}, "not a number"},
		{"{}", []any{float32(math.NaN())}, "not a number"},
		{"{}", []any{1.5}, "integers only"},
		{"{}", []any{1e300}, "integers only"},
		{"{}", []any{uint64(math.MaxUint64)}, "above the largest integer"},
		{"{}", []any{"\xff"}, "not valid UTF-8"},
		{"{}", []any{[]string{"ok", "\xfe"}}, "list item 2"},
	} {
		if _, err := Filter(bad.tmpl, bad.args...); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Filter(%q, %v): %v", bad.tmpl, bad.args, err)
		}
	}
}

// TestFilterInjection checks that a quoted value stays one literal: after
// removing every literal, only the template's own tokens remain.
func TestFilterInjection(t *testing.T) {
	for _, evil := range []string{"x' or '1' eq '1", "'", "''", "a') or ('b", "x' or true or '", `\'`} {
		f, err := Filter("userId eq {}", evil)
		if err != nil {
			t.Fatal(err)
		}
		rest, literals := stripLiterals(f)
		if rest != "userId eq " || len(literals) != 1 || literals[0] != evil {
			t.Errorf("%q became %q (outside literals: %q, literals %q)", evil, f, rest, literals)
		}
	}
}

// stripLiterals splits an OData expression into its text outside string
// literals and the decoded literals.
func stripLiterals(s string) (string, []string) {
	var out strings.Builder
	var lits []string
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			out.WriteByte(s[i])
			continue
		}
		var lit strings.Builder
		for i++; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					lit.WriteByte('\'')
					i++
					continue
				}
				break
			}
			lit.WriteByte(s[i])
		}
		lits = append(lits, lit.String())
	}
	return out.String(), lits
}

func TestMessageContentTypes(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{JSON(1), "application/json"}, {RawJSON([]byte("1")), "application/json"}, {Text("t"), "text/plain"},
		{Binary(nil), "application/octet-stream"}, {BinaryReader(strings.NewReader("")), "application/octet-stream"},
		{Stream("Application/JSON; charset=utf-8", strings.NewReader("1")), "Application/JSON; charset=utf-8"},
	} {
		if tc.m.ContentType() != tc.want || tc.m.err != nil {
			t.Errorf("ContentType %q (err %v), want %q", tc.m.ContentType(), tc.m.err, tc.want)
		}
	}
}
