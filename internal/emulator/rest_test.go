package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestHealth(t *testing.T) {
	s := newTestServer(t)
	resp, _ := s.callWithKey("", http.MethodHead, "/api/health", nil, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

func TestSendsReachTheRightClients(t *testing.T) {
	s := newTestServer(t)
	a1 := s.connect("hub", clientOpts{user: "alice", subprotocol: "-", groups: []string{"g"}})
	a2 := s.connect("hub", clientOpts{user: "alice", subprotocol: "-"})
	b := s.connect("hub", clientOpts{user: "bob", subprotocol: "-", groups: []string{"g"}})
	other := s.connect("other", clientOpts{user: "alice", subprotocol: "-", groups: []string{"g"}})

	server := func(dt string, data any) map[string]any {
		return map[string]any{"type": "message", "from": "server", "dataType": dt, "data": data}
	}
	group := func(dt string, data any) map[string]any {
		return map[string]any{"type": "message", "from": "group", "group": "g", "dataType": dt, "data": data}
	}
	tests := []struct {
		name        string
		path        string
		query       url.Values
		contentType string
		body        string
		receivers   []*wsClient
		wantMsg     map[string]any
	}{
		{"all json", hubPath("hub", "/:send"), nil, "application/json", `{"a":1}`, []*wsClient{a1, a2, b}, server("json", map[string]any{"a": float64(1)})},
		{"all excluded", hubPath("hub", "/:send"), url.Values{"excluded": {a1.id, b.id}}, "text/plain", "hi", []*wsClient{a2}, server("text", "hi")},
		{"all filtered", hubPath("hub", "/:send"), url.Values{"filter": {"userId eq 'bob'"}}, "text/plain", "hi", []*wsClient{b}, server("text", "hi")},
		{"all filtered groups", hubPath("hub", "/:send"), url.Values{"filter": {"'g' in groups"}}, "text/plain", "x", []*wsClient{a1, b}, server("text", "x")},
		{"user binary", hubPath("hub", "/users/alice/:send"), nil, "application/octet-stream", "\x00\x01", []*wsClient{a1, a2}, server("binary", base64.StdEncoding.EncodeToString([]byte{0, 1}))},
		{"user filtered", hubPath("hub", "/users/alice/:send"), url.Values{"filter": {"connectionId ne '" + a1.id + "'"}}, "text/plain", "y", []*wsClient{a2}, server("text", "y")},
		{"connection", hubPath("hub", "/connections/"+b.id+"/:send"), url.Values{"messageTtlSeconds": {"10"}}, "text/plain", "z", []*wsClient{b}, server("text", "z")},
		{"group", hubPath("hub", "/groups/g/:send"), nil, "application/json", `"s"`, []*wsClient{a1, b}, group("json", "s")},
		{"group excluded", hubPath("hub", "/groups/g/:send"), url.Values{"excluded": {a1.id}}, "text/plain", "q", []*wsClient{b}, group("text", "q")},
		{"unknown group", hubPath("hub", "/groups/nobody/:send"), nil, "text/plain", "q", nil, nil},
		{"unknown connection", hubPath("hub", "/connections/nope/:send"), nil, "text/plain", "q", nil, nil},
	}
	all := []*wsClient{a1, a2, b, other}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.mustStatus(http.StatusAccepted, http.MethodPost, tc.path, tc.query, tc.contentType, []byte(tc.body))
			for _, c := range all {
				if slices.Contains(tc.receivers, c) {
					if diff := cmp.Diff(tc.wantMsg, c.next()); diff != "" {
						t.Errorf("client %s message (-want +got):\n%s", c.id, diff)
					}
				}
			}
			for _, c := range all {
				if !slices.Contains(tc.receivers, c) {
					c.expectNothing(30 * time.Millisecond)
				}
			}
		})
	}
}

func TestGroupMembershipOperations(t *testing.T) {
	s := newTestServer(t)
	a := s.connect("hub", clientOpts{user: "alice", subprotocol: "-"})
	a2 := s.connect("hub", clientOpts{user: "alice", subprotocol: "-"})
	b := s.connect("hub", clientOpts{user: "bob", subprotocol: "-"})
	exists := func(path string) bool {
		resp, _ := s.call(http.MethodHead, path, nil, "", nil)
		switch resp.StatusCode {
		case 200:
			return true
		case 404:
			return false
		}
		t.Fatalf("HEAD %s: %d", path, resp.StatusCode)
		return false
	}
	members := func(group string) []string {
		b := s.mustStatus(200, http.MethodGet, hubPath("hub", "/groups/"+group+"/connections"), nil, "", nil)
		var page struct {
			Value []struct {
				ConnectionID string `json:"connectionId"`
			} `json:"value"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range page.Value {
			ids = append(ids, v.ConnectionID)
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	sendG := func(group string) {
		s.mustStatus(202, http.MethodPost, hubPath("hub", "/groups/"+group+"/:send"), nil, "text/plain", []byte("m-"+group))
	}

	if exists(hubPath("hub", "/groups/g")) {
		t.Fatal("group exists before anyone joined")
	}
	// AddConnectionToGroup
	s.mustStatus(200, http.MethodPut, hubPath("hub", "/groups/g/connections/"+a.id), nil, "", nil)
	if !exists(hubPath("hub", "/groups/g")) {
		t.Fatal("group does not exist after AddConnectionToGroup")
	}
	sendG("g")
	if m := a.next(); m["data"] != "m-g" {
		t.Fatalf("a got %v", m)
	}
	b.expectNothing(30 * time.Millisecond)
	// Unknown connection: 404.
	resp, _ := s.call(http.MethodPut, hubPath("hub", "/groups/g/connections/nope"), nil, "", nil)
	if resp.StatusCode != 404 || errorCode(resp) != "ConnectionNotFound" {
		t.Fatalf("add unknown connection: %d %q", resp.StatusCode, errorCode(resp))
	}
	// AddUserToGroup adds all of alice's connections.
	s.mustStatus(200, http.MethodPut, hubPath("hub", "/users/alice/groups/h"), nil, "", nil)
	if diff := cmp.Diff(sorted(a.id, a2.id), members("h")); diff != "" {
		t.Fatalf("members of h (-want +got):\n%s", diff)
	}
	// AddConnectionsToGroups by filter.
	s.mustStatus(200, http.MethodPost, hubPath("hub", "/:addToGroups"), nil, "application/json", []byte(`{"groups":["f1","f2"],"filter":"userId eq 'bob'"}`))
	if diff := cmp.Diff([]string{b.id}, members("f2")); diff != "" {
		t.Fatalf("members of f2 (-want +got):\n%s", diff)
	}
	// RemoveConnectionsFromGroups by filter.
	s.mustStatus(200, http.MethodPost, hubPath("hub", "/:removeFromGroups"), nil, "application/json", []byte(`{"groups":["f1"],"filter":"connectionId eq '`+b.id+`'"}`))
	if exists(hubPath("hub", "/groups/f1")) || !exists(hubPath("hub", "/groups/f2")) {
		t.Fatal("removeFromGroups removed the wrong groups")
	}
	// RemoveConnectionFromGroup
	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/groups/h/connections/"+a2.id), nil, "", nil)
	if diff := cmp.Diff([]string{a.id}, members("h")); diff != "" {
		t.Fatalf("members of h after remove (-want +got):\n%s", diff)
	}
	// RemoveUserFromGroup
	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/users/alice/groups/h"), nil, "", nil)
	if exists(hubPath("hub", "/groups/h")) {
		t.Fatal("h still exists after RemoveUserFromGroup")
	}
	// RemoveConnectionFromAllGroups
	s.mustStatus(200, http.MethodPut, hubPath("hub", "/groups/g2/connections/"+a.id), nil, "", nil)
	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/connections/"+a.id+"/groups"), nil, "", nil)
	if exists(hubPath("hub", "/groups/g")) || exists(hubPath("hub", "/groups/g2")) {
		t.Fatal("a is still in a group after RemoveConnectionFromAllGroups")
	}
	sendG("g")
	a.expectNothing(30 * time.Millisecond)
	// RemoveUserFromAllGroups
	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/users/bob/groups"), nil, "", nil)
	if exists(hubPath("hub", "/groups/f2")) {
		t.Fatal("bob is still in f2 after RemoveUserFromAllGroups")
	}
	// Exists checks.
	if !exists(hubPath("hub", "/users/alice")) || exists(hubPath("hub", "/users/carol")) {
		t.Fatal("UserExists is wrong")
	}
	if !exists(hubPath("hub", "/connections/"+b.id)) || exists(hubPath("hub", "/connections/nope")) {
		t.Fatal("ConnectionExists is wrong")
	}
}

func TestCloseOperations(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name   string
		path   func(c []*wsClient) string
		query  func(c []*wsClient) url.Values
		closed []int // indexes of clients that must be closed
	}{
		{"connection", func(c []*wsClient) string { return hubPath("hub", "/connections/"+c[0].id) }, nil, []int{0}},
		{"all excluded", func([]*wsClient) string { return hubPath("hub", "/:closeConnections") },
			func(c []*wsClient) url.Values { return url.Values{"excluded": {c[1].id}} }, []int{0, 2, 3}},
		{"user", func([]*wsClient) string { return hubPath("hub", "/users/alice/:closeConnections") }, nil, []int{0, 1}},
		{"group", func([]*wsClient) string { return hubPath("hub", "/groups/g/:closeConnections") },
			func(c []*wsClient) url.Values { return url.Values{"excluded": {c[2].id}} }, []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := []*wsClient{
				s.connect("hub", clientOpts{user: "alice", subprotocol: "-"}),
				s.connect("hub", clientOpts{user: "alice", subprotocol: "-"}),
				s.connect("hub", clientOpts{user: "bob", subprotocol: "-", groups: []string{"g"}}),
				s.connect("hub", clientOpts{user: "carol", subprotocol: wire.SubprotocolJSONReliable, groups: []string{"g"}}),
			}
			method := http.MethodPost
			if tc.name == "connection" {
				method = http.MethodDelete
			}
			var q url.Values
			if tc.query != nil {
				q = tc.query(cs)
			}
			if q == nil {
				q = url.Values{}
			}
			q.Set("reason", "bye now")
			s.mustStatus(204, method, tc.path(cs), q, "", nil)
			for i, c := range cs {
				if slices.Contains(tc.closed, i) {
					m := c.next()
					if diff := cmp.Diff(map[string]any{"type": "system", "event": "disconnected", "message": "bye now"}, m); diff != "" {
						t.Errorf("client %d (-want +got):\n%s", i, diff)
					}
					wantCode := 1000
					if c.proto == wire.SubprotocolJSONReliable {
						wantCode = 1008
					}
					if code := c.closeStatus(); int(code) != wantCode {
						t.Errorf("client %d close code %d, want %d", i, code, wantCode)
					}
					eventually(t, "connection removed", func() bool { return !s.e.exists("hub", scopeConnection, c.id) })
				} else {
					c.expectNothing(20 * time.Millisecond)
					if !s.e.exists("hub", scopeConnection, c.id) {
						t.Errorf("client %d was closed", i)
					}
				}
			}
			s.mustStatus(204, http.MethodPost, hubPath("hub", "/:closeConnections"), nil, "", nil)
			for _, c := range cs {
				c.closeStatus()
			}
			eventually(t, "hub empty", func() bool { return !s.e.exists("hub", scopeAll, "") })
		})
	}
}

func TestListConnectionsPaging(t *testing.T) {
	s := newTestServer(t)
	var want []string
	for range 7 {
		c := s.connect("hub", clientOpts{user: "u", subprotocol: "-", groups: []string{"g"}})
		want = append(want, c.id)
	}
	slices.Sort(want)
	type page struct {
		Value []struct {
			ConnectionID string `json:"connectionId"`
			UserID       string `json:"userId"`
		} `json:"value"`
		NextLink string `json:"nextLink"`
	}
	fetch := func(u string) page {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+signToken(t, s.key, jwt.MapClaims{"aud": u}))
		resp, b := s.do(req)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
		}
		var p page
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name      string
		query     string
		wantPages []int
	}{
		{"default", "", []int{7}},
		{"pages of 3", "&maxpagesize=3", []int{3, 3, 1}},
		{"top 5 by 2", "&maxpagesize=2&top=5", []int{2, 2, 1}},
		{"top 2", "&top=2", []int{2}},
		{"top 7 by 7", "&maxpagesize=7&top=7", []int{7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := s.srv.URL + hubPath("hub", "/groups/g/connections") + "?api-version=" + testAPIVersion + tc.query
			var got []string
			var sizes []int
			for u != "" {
				p := fetch(u)
				sizes = append(sizes, len(p.Value))
				for _, v := range p.Value {
					if v.UserID != "u" {
						t.Errorf("userId %q", v.UserID)
					}
					got = append(got, v.ConnectionID)
				}
				u = p.NextLink
			}
			if diff := cmp.Diff(tc.wantPages, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want[:len(got)], got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	resp, b := s.call(http.MethodGet, hubPath("hub", "/groups/g/connections"), url.Values{"continuationToken": {"garbage!"}}, "", nil)
	if resp.StatusCode != 400 || errorCode(resp) != "InvalidContinuationToken" {
		t.Fatalf("bad token: %d %s", resp.StatusCode, b)
	}
	// An empty group lists nothing, without nextLink.
	if b := s.mustStatus(200, http.MethodGet, hubPath("hub", "/groups/none/connections"), nil, "", nil); string(b) != "{\"value\":[]}\n" {
		t.Fatalf("empty group: %s", b)
	}
}

func TestValidation(t *testing.T) {
	s := newTestServer(t)
	long := make([]byte, 1025)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		name        string
		method      string
		path        string
		query       url.Values
		contentType string
		body        string
		status      int
		code        string
	}{
		{"hub with hyphen", "POST", hubPath("my-hub", "/:send"), nil, "text/plain", "x", 400, "InvalidHub"},
		{"hub starts with digit", "POST", hubPath("1hub", "/:send"), nil, "text/plain", "x", 400, "InvalidHub"},
		{"whitespace group", "POST", hubPath("hub", "/groups/%20%20/:send"), nil, "text/plain", "x", 400, "InvalidGroup"},
		{"long group", "PUT", hubPath("hub", "/users/u/groups/"+string(long)), nil, "", "", 400, "InvalidGroup"},
		{"ttl too big", "POST", hubPath("hub", "/:send"), url.Values{"messageTtlSeconds": {"301"}}, "text/plain", "x", 400, "InvalidMessageTtl"},
		{"ttl negative", "POST", hubPath("hub", "/users/u/:send"), url.Values{"messageTtlSeconds": {"-1"}}, "text/plain", "x", 400, "InvalidMessageTtl"},
		{"ttl not a number", "POST", hubPath("hub", "/:send"), url.Values{"messageTtlSeconds": {"abc"}}, "text/plain", "x", 400, "InvalidParameter"},
		{"maxpagesize 0", "GET", hubPath("hub", "/groups/g/connections"), url.Values{"maxpagesize": {"0"}}, "", "", 400, "InvalidParameter"},
		{"maxpagesize 201", "GET", hubPath("hub", "/groups/g/connections"), url.Values{"maxpagesize": {"201"}}, "", "", 400, "InvalidParameter"},
		{"top 0", "GET", hubPath("hub", "/groups/g/connections"), url.Values{"top": {"0"}}, "", "", 400, "InvalidParameter"},
		{"bad filter", "POST", hubPath("hub", "/:send"), url.Values{"filter": {"userId eq"}}, "text/plain", "x", 400, "InvalidFilter"},
		{"bad filter body", "POST", hubPath("hub", "/:addToGroups"), nil, "application/json", `{"groups":["g"],"filter":"nope nope"}`, 400, "InvalidFilter"},
		{"no groups", "POST", hubPath("hub", "/:addToGroups"), nil, "application/json", `{"filter":"userId eq 'a'"}`, 400, "InvalidRequestBody"},
		{"unknown body field", "POST", hubPath("hub", "/:removeFromGroups"), nil, "application/json", `{"groups":["g"],"x":1}`, 200, ""},
		{"bad json", "POST", hubPath("hub", "/:send"), nil, "application/json", `{`, 400, "InvalidRequestBody"},
		{"bad content type", "POST", hubPath("hub", "/:send"), nil, "image/png", "x", 415, "UnsupportedContentType"},
		{"bad permission", "PUT", hubPath("hub", "/permissions/admin/connections/c"), nil, "", "", 400, "InvalidPermission"},
		{"bad target", "PUT", hubPath("hub", "/permissions/sendToGroup/connections/c"), url.Values{"targetName": {" "}}, "", "", 400, "InvalidGroup"},
		{"minutesToExpire 0", "POST", hubPath("hub", "/:generateToken"), url.Values{"minutesToExpire": {"0"}}, "", "", 400, "InvalidParameter"},
		{"clientType", "POST", hubPath("hub", "/:generateToken"), url.Values{"clientType": {"SignalR"}}, "", "", 400, "InvalidParameter"},
		{"missing api-version", "POST", hubPath("hub", "/:send"), url.Values{"api-version": {""}}, "text/plain", "x", 400, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.query
			if q != nil && q.Has("api-version") && q.Get("api-version") == "" {
				// Sign a URL without api-version.
				u := s.srv.URL + tc.path
				req, _ := http.NewRequest(tc.method, u, nil)
				req.Header.Set("Authorization", "Bearer "+signToken(t, s.key, jwt.MapClaims{"aud": u}))
				resp, b := s.do(req)
				if resp.StatusCode != tc.status || errorCode(resp) != tc.code {
					t.Fatalf("status %d code %q body %s", resp.StatusCode, errorCode(resp), b)
				}
				return
			}
			resp, b := s.call(tc.method, tc.path, q, tc.contentType, []byte(tc.body))
			if resp.StatusCode != tc.status || errorCode(resp) != tc.code {
				t.Fatalf("status %d code %q body %s, want %d %q", resp.StatusCode, errorCode(resp), b, tc.status, tc.code)
			}
			if tc.status >= 400 {
				var e struct{ Code, Message string }
				if err := json.Unmarshal(b, &e); err != nil || e.Code != tc.code || e.Message == "" {
					t.Fatalf("error body %s", b)
				}
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := newTestServer(t)
	big := make([]byte, MaxRequestBodyBytes+1)
	resp, _ := s.call(http.MethodPost, hubPath("hub", "/:send"), nil, "application/octet-stream", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	c := s.connect("hub", clientOpts{subprotocol: "-"})
	ok := make([]byte, MaxRequestBodyBytes)
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/:send"), nil, "application/octet-stream", ok)
	m := c.next()
	if got, _ := base64.StdEncoding.DecodeString(m["data"].(string)); len(got) != MaxRequestBodyBytes {
		t.Fatalf("got %d bytes", len(got))
	}
}

func TestRESTAuthentication(t *testing.T) {
	s := newTestServer(t, WithAccessKeys("primary-key-0123456789", "secondary-key-0123456789"))
	u := s.srv.URL + hubPath("hub", "/:send") + "?api-version=" + testAPIVersion
	entra := func(aud string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"aud": aud, "exp": time.Now().Add(time.Hour).Unix()})
		unsigned, _ := tok.SigningString()
		return unsigned + ".c2lnbmF0dXJl"
	}
	tests := []struct {
		name   string
		auth   string
		status int
		reason string
	}{
		{"primary", "Bearer " + signToken(t, "primary-key-0123456789", jwt.MapClaims{"aud": u}), 202, ""},
		{"secondary", "Bearer " + signToken(t, "secondary-key-0123456789", jwt.MapClaims{"aud": u}), 202, ""},
		{"missing", "", 401, "no Authorization header"},
		{"not bearer", "Basic abc", 401, "Bearer"},
		{"wrong key", "Bearer " + signToken(t, "other", jwt.MapClaims{"aud": u}), 401, "signature"},
		{"aud without query", "Bearer " + signToken(t, "primary-key-0123456789", jwt.MapClaims{"aud": s.srv.URL + hubPath("hub", "/:send")}), 401, "does not match the request URL"},
		{"aud trailing slash", "Bearer " + signToken(t, "primary-key-0123456789", jwt.MapClaims{"aud": u + "/"}), 401, "does not match"},
		{"expired", "Bearer " + signToken(t, "primary-key-0123456789", jwt.MapClaims{"aud": u, "exp": time.Now().Add(-time.Minute).Unix()}), 401, "expired"},
		{"garbage", "Bearer abc.def", 401, "well-formed"},
		{"entra off", "Bearer " + entra("https://webpubsub.azure.com"), 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, u, nil)
			req.Header.Set("Content-Type", "text/plain")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, b := s.do(req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d body %s, want %d", resp.StatusCode, b, tc.status)
			}
			if tc.reason != "" && !contains(string(b), tc.reason) {
				t.Errorf("body %s does not mention %q", b, tc.reason)
			}
			if tc.auth != "" && len(tc.auth) > 7 && contains(string(b), tc.auth[7:]) {
				t.Errorf("the error echoes the token")
			}
		})
	}

	t.Run("entra mode", func(t *testing.T) {
		s := newTestServer(t, WithUnvalidatedEntraTokens(true))
		u := s.srv.URL + hubPath("hub", "/:send") + "?api-version=" + testAPIVersion
		for _, tc := range []struct {
			aud    string
			status int
		}{{"https://webpubsub.azure.com", 202}, {"https://webpubsub.azure.com/", 202}, {"https://management.azure.com", 401}} {
			req, _ := http.NewRequest(http.MethodPost, u, nil)
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("Authorization", "Bearer "+entra(tc.aud))
			if resp, b := s.do(req); resp.StatusCode != tc.status {
				t.Errorf("aud %s: %d %s, want %d", tc.aud, resp.StatusCode, b, tc.status)
			}
		}
		// Key tokens still work, and are still checked.
		resp, _ := s.call(http.MethodPost, hubPath("hub", "/:send"), nil, "text/plain", []byte("x"))
		if resp.StatusCode != 202 {
			t.Errorf("key token in entra mode: %d", resp.StatusCode)
		}
		resp, _ = s.callWithKey("wrong", http.MethodPost, hubPath("hub", "/:send"), nil, "text/plain", []byte("x"))
		if resp.StatusCode != 401 {
			t.Errorf("wrong key in entra mode: %d", resp.StatusCode)
		}
	})
}

func TestGenerateClientToken(t *testing.T) {
	s := newTestServer(t)
	q := url.Values{"userId": {"alice"}, "role": {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup.chat"}, "group": {"g1", "g2"}, "minutesToExpire": {"5"}}
	b := s.mustStatus(200, http.MethodPost, hubPath("hub", "/:generateToken"), q, "", nil)
	var resp struct{ Token string }
	if err := json.Unmarshal(b, &resp); err != nil || resp.Token == "" {
		t.Fatalf("body %s", b)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(resp.Token, claims, func(*jwt.Token) (any, error) { return []byte(s.key), nil }); err != nil {
		t.Fatalf("token does not verify with the access key: %v", err)
	}
	if claims["aud"] != s.srv.URL+"/client/hubs/hub" || claims["sub"] != "alice" {
		t.Errorf("claims %v", claims)
	}
	if exp, _ := claims.GetExpirationTime(); time.Until(exp.Time) > 5*time.Minute || time.Until(exp.Time) < 4*time.Minute {
		t.Errorf("exp %v", exp)
	}
	// The token connects, with its user, groups and roles.
	c := s.dialURL(wire.WebSocketScheme(s.srv.URL)+"/client/hubs/hub?access_token="+resp.Token, wire.SubprotocolJSON)
	if c.connected["userId"] != "alice" {
		t.Errorf("connected %v", c.connected)
	}
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/groups/g2/:send"), nil, "text/plain", []byte("in g2"))
	if m := c.next(); m["data"] != "in g2" {
		t.Errorf("got %v", m)
	}
	c.mustAck(1, map[string]any{"type": "joinGroup", "group": "x"})
	c.mustAck(2, map[string]any{"type": "sendToGroup", "group": "chat", "data": "hi", "noEcho": true})

	for _, tc := range []struct{ clientType, path string }{{"MQTT", "/clients/mqtt/hubs/hub"}, {"socketio", "/clients/socketio/hubs/hub"}, {"default", "/client/hubs/hub"}} {
		b := s.mustStatus(200, http.MethodPost, hubPath("hub", "/:generateToken"), url.Values{"clientType": {tc.clientType}}, "", nil)
		_ = json.Unmarshal(b, &resp)
		claims := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(resp.Token, claims, func(*jwt.Token) (any, error) { return []byte(s.key), nil }); err != nil {
			t.Fatal(err)
		}
		if claims["aud"] != s.srv.URL+tc.path {
			t.Errorf("%s: aud %v", tc.clientType, claims["aud"])
		}
		if _, ok := claims["sub"]; ok {
			t.Errorf("%s: sub without userId", tc.clientType)
		}
	}
}

func TestOperationNames(t *testing.T) {
	s := newTestServer(t)
	for _, tc := range []struct{ method, path, want string }{
		{"HEAD", "/api/health", "GetServiceStatus"},
		{"POST", "/api/hubs/h/:send", "SendToAll"},
		{"GET", "/api/hubs/h/groups/g/connections", "ListConnectionsInGroup"},
		{"PUT", "/api/hubs/h/permissions/sendToGroup/connections/c", "GrantPermission"},
		{"GET", "/client/hubs/h", OperationConnect},
		{"GET", "/client/", OperationConnect},
		{"GET", "/nothing", ""},
	} {
		r, _ := http.NewRequest(tc.method, "http://x"+tc.path, nil)
		if got := s.e.Operation(r); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
	// All 25 operations are routed.
	if n := len(s.e.apiMux.ops); n != 25 {
		t.Errorf("%d operations routed, want 25", n)
	}
}

// TestEscapedNames: group and user names with "/", spaces and non-ASCII
// characters travel percent-encoded in the path and arrive unescaped.
func TestEscapedNames(t *testing.T) {
	s := newTestServer(t)
	for _, name := range []string{"tenant/1", "a b", "grüße", "x%2Fy"} {
		t.Run(name, func(t *testing.T) {
			c := s.connect("hub", clientOpts{user: name, subprotocol: "-", groups: []string{name}})
			esc := url.PathEscape(name)
			s.mustStatus(202, http.MethodPost, hubPath("hub", "/groups/"+esc+"/:send"), nil, "text/plain", []byte("g"))
			if m := c.next(); m["group"] != name || m["data"] != "g" {
				t.Fatalf("group message %v", m)
			}
			s.mustStatus(202, http.MethodPost, hubPath("hub", "/users/"+esc+"/:send"), nil, "text/plain", []byte("u"))
			if m := c.next(); m["data"] != "u" {
				t.Fatalf("user message %v", m)
			}
			s.mustStatus(200, http.MethodHead, hubPath("hub", "/users/"+esc), nil, "", nil)
			b := s.mustStatus(200, http.MethodGet, hubPath("hub", "/groups/"+esc+"/connections"), nil, "", nil)
			if !contains(string(b), c.id) {
				t.Fatalf("list: %s", b)
			}
			s.mustStatus(204, http.MethodDelete, hubPath("hub", "/users/"+esc+"/groups/"+esc), nil, "", nil)
			s.mustStatus(404, http.MethodHead, hubPath("hub", "/groups/"+esc), nil, "", nil)
		})
	}
}

func TestHeadErrorsHaveNoBody(t *testing.T) {
	s := newTestServer(t)
	resp, b := s.call(http.MethodHead, hubPath("bad-hub", "/groups/g"), nil, "", nil)
	if resp.StatusCode != 400 || errorCode(resp) != "InvalidHub" || len(b) != 0 {
		t.Fatalf("HEAD error: %d %q %q", resp.StatusCode, errorCode(resp), b)
	}
	resp, _ = s.callWithKey("", http.MethodHead, hubPath("hub", "/groups/g"), nil, "", nil)
	if resp.StatusCode != 401 || errorCode(resp) != "Unauthorized" {
		t.Fatalf("HEAD without token: %d %q", resp.StatusCode, errorCode(resp))
	}
}

func TestRepeatedAPIVersionFromPager(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	q := url.Values{"api-version": {testAPIVersion, testAPIVersion}}
	b := s.mustStatus(200, http.MethodGet, hubPath("hub", "/groups/g/connections"), q, "", nil)
	if !contains(string(b), c.id) {
		t.Fatalf("list: %s", b)
	}
	q = url.Values{"api-version": {testAPIVersion, "2023-07-01"}}
	if resp, _ := s.call(http.MethodGet, hubPath("hub", "/groups/g/connections"), q, "", nil); resp.StatusCode != 400 {
		t.Fatalf("conflicting api-versions: %d", resp.StatusCode)
	}
}

func TestLongCloseReason(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{subprotocol: "-"})
	reason := strings.Repeat("é", 200) // 400 bytes: longer than a close frame holds
	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/connections/"+c.id), url.Values{"reason": {reason}}, "", nil)
	if m := c.next(); m["message"] != reason {
		t.Fatalf("disconnected message %v", m)
	}
	if code := c.closeStatus(); code != 1000 {
		t.Fatalf("close code %d", code)
	}
	if got := truncateReason(reason); len(got) > 123 || !utf8.ValidString(got) {
		t.Fatalf("truncated reason %q (%d bytes)", got, len(got))
	}
}
