package interop

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// jsServerSDK runs testdata/server.mjs, which drives the official server
// SDK @azure/web-pubsub, one command at a time.
type jsServerSDK struct {
	t     *testing.T
	stdin io.WriteCloser
	out   *bufio.Scanner
	cmd   *exec.Cmd
}

// jsReply is server.mjs's answer to one command.
type jsReply struct {
	Op       string          `json:"op"`
	OK       bool            `json:"ok"`
	Result   json.RawMessage `json:"result"`
	Error    *jsError        `json:"error"`
	Requests []string        `json:"requests"` // "METHOD raw-URL", as the SDK sent them
}

type jsError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func startJSServerSDK(t *testing.T, connectionString, hub string, env ...string) *jsServerSDK {
	t.Helper()
	dir := nodeModules(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@azure", "web-pubsub")); err != nil {
		// node_modules predates the server SDK's pin in package.json.
		npmCI(t, dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "node", "server.mjs", connectionString, hub)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	js := &jsServerSDK{t: t, stdin: stdin, out: bufio.NewScanner(stdout), cmd: cmd}
	js.out.Buffer(nil, 1<<20)
	t.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Errorf("node server.mjs: %v", err)
		}
	})
	return js
}

// call runs one command and returns the SDK's answer.
func (js *jsServerSDK) call(cmd map[string]any) jsReply {
	js.t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		js.t.Fatal(err)
	}
	if _, err := js.stdin.Write(append(b, '\n')); err != nil {
		js.t.Fatalf("writing to node: %v", err)
	}
	if !js.out.Scan() {
		js.t.Fatalf("node exited while running %s: %v", b, js.out.Err())
	}
	var r jsReply
	if err := json.Unmarshal(js.out.Bytes(), &r); err != nil {
		js.t.Fatalf("node printed %q: %v", js.out.Text(), err)
	}
	return r
}

// ok runs a command that must succeed.
func (js *jsServerSDK) ok(cmd map[string]any) jsReply {
	js.t.Helper()
	r := js.call(cmd)
	if !r.OK {
		js.t.Fatalf("%v failed: %+v (requests %v)", cmd, *r.Error, r.Requests)
	}
	return r
}

// bool runs an existence or permission check.
func (js *jsServerSDK) bool(cmd map[string]any) bool {
	js.t.Helper()
	r := js.ok(cmd)
	var v bool
	if err := json.Unmarshal(r.Result, &v); err != nil {
		js.t.Fatalf("%v answered %s: %v", cmd, r.Result, err)
	}
	return v
}

// query parses the query of the only request a reply made.
func query(t *testing.T, r jsReply) url.Values {
	t.Helper()
	if len(r.Requests) != 1 {
		t.Fatalf("%s made %d requests, want 1: %v", r.Op, len(r.Requests), r.Requests)
	}
	_, raw, _ := strings.Cut(r.Requests[0], " ")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// got is a received message in a comparable form.
type got struct {
	From, Group, DataType, Data string
}

// receive reads n messages and checks that no other one follows.
func receive(t *testing.T, c *webpubsubtest.Conn, n int) []got {
	t.Helper()
	var out []got
	for range n {
		m := c.Next(t)
		data := string(m.Data)
		if m.DataType == "binary" {
			data = base64.StdEncoding.EncodeToString(m.Data)
		}
		out = append(out, got{From: m.From, Group: m.Group, DataType: string(m.DataType), Data: data})
	}
	c.ExpectNoMessage(t, 50*time.Millisecond)
	return out
}

// TestJSServerSDK runs the whole public API of the official JavaScript
// server SDK @azure/web-pubsub against the emulator and checks each answer
// and, through WebSocket clients, each effect.
func TestJSServerSDK(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	js := startJSServerSDK(t, srv.ConnectionString(), "chat")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	alice1 := srv.Connect(t, "chat", "alice")
	alice2 := srv.Connect(t, "chat", "alice")
	bob := srv.Connect(t, "chat", "bob")
	oneil := srv.Connect(t, "chat", "o'neil")
	anon := srv.Connect(t, "chat", "")
	everyone := []*webpubsubtest.Conn{alice1, alice2, bob, oneil, anon}

	t.Run("sends", func(t *testing.T) {
		server := func(dataType, data string) got { return got{From: "server", DataType: dataType, Data: data} }
		js.ok(map[string]any{"op": "sendToAll", "message": map[string]any{"a": 1}})
		js.ok(map[string]any{"op": "sendToAll", "type": "text", "message": "hi"})
		js.ok(map[string]any{"op": "sendToAll", "type": "binary", "message": "AQID"})
		r := js.ok(map[string]any{"op": "sendToAll", "type": "text", "message": "not-alice1-bob",
			"options": map[string]any{"excludedConnections": []string{alice1.ConnectionID(), bob.ConnectionID()}}})
		if diff := cmp.Diff([]string{alice1.ConnectionID(), bob.ConnectionID()}, query(t, r)["excluded"]); diff != "" {
			t.Errorf("excluded as the SDK sent it (-want +got):\n%s\n%v", diff, r.Requests)
		}
		r = js.ok(map[string]any{"op": "sendToAll", "type": "text", "message": "oneil-only", "filterUserId": "o'neil"})
		if f := query(t, r).Get("filter"); f != "userId eq 'o''neil'" {
			t.Errorf("filter %q, want the odata helper's quoting", f)
		}
		r = js.ok(map[string]any{"op": "sendToAll", "type": "text", "message": "ttl", "options": map[string]any{"messageTtlSeconds": 30}})
		if ttl := query(t, r).Get("messageTtlSeconds"); ttl != "30" {
			t.Errorf("messageTtlSeconds %q", ttl)
		}
		js.ok(map[string]any{"op": "sendToUser", "user": "alice", "type": "text", "message": "to-alice"})
		js.ok(map[string]any{"op": "sendToUser", "user": "alice", "type": "text", "message": "to-alice-filtered",
			"options": map[string]any{"filter": "connectionId eq '" + alice2.ConnectionID() + "'"}})
		js.ok(map[string]any{"op": "sendToConnection", "connectionId": bob.ConnectionID(), "message": "a JSON string"})
		js.ok(map[string]any{"op": "sendToConnection", "connectionId": anon.ConnectionID(), "type": "binary", "message": "/w==",
			"options": map[string]any{"messageTtlSeconds": 300}})
		// Unknown targets are accepted, as on the service.
		js.ok(map[string]any{"op": "sendToUser", "user": "nobody", "message": 1})
		js.ok(map[string]any{"op": "sendToConnection", "connectionId": "nope", "message": 1})

		common := []got{server("json", `{"a":1}`), server("text", "hi"), server("binary", "AQID")}
		want := map[*webpubsubtest.Conn][]got{
			alice1: append(slices.Clone(common), server("text", "ttl"), server("text", "to-alice")),
			alice2: append(slices.Clone(common), server("text", "not-alice1-bob"), server("text", "ttl"), server("text", "to-alice"), server("text", "to-alice-filtered")),
			bob:    append(slices.Clone(common), server("text", "ttl"), server("json", `"a JSON string"`)),
			oneil:  append(slices.Clone(common), server("text", "not-alice1-bob"), server("text", "oneil-only"), server("text", "ttl")),
			anon:   append(slices.Clone(common), server("text", "not-alice1-bob"), server("text", "ttl"), server("binary", "/w==")),
		}
		for c, w := range want {
			if diff := cmp.Diff(w, receive(t, c, len(w))); diff != "" {
				t.Errorf("%s (%s) received (-want +got):\n%s", c.UserID(), c.ConnectionID(), diff)
			}
		}
	})

	t.Run("exists", func(t *testing.T) {
		checks := []struct {
			cmd  map[string]any
			want bool
		}{
			{map[string]any{"op": "connectionExists", "connectionId": alice1.ConnectionID()}, true},
			{map[string]any{"op": "connectionExists", "connectionId": "nope"}, false},
			{map[string]any{"op": "userExists", "user": "o'neil"}, true},
			{map[string]any{"op": "userExists", "user": "carol"}, false},
			{map[string]any{"op": "groupExists", "group": "room"}, false},
		}
		for _, c := range checks {
			if got := js.bool(c.cmd); got != c.want {
				t.Errorf("%v = %v, want %v", c.cmd, got, c.want)
			}
		}
	})

	type member struct {
		ConnectionID string `json:"connectionId"`
		UserID       string `json:"userId,omitempty"`
	}
	type listing struct {
		Items []member `json:"items"`
		Pages []int    `json:"pages"`
	}
	list := func(t *testing.T, group string, options map[string]any) (listing, jsReply) {
		t.Helper()
		r := js.ok(map[string]any{"op": "listConnections", "group": group, "options": options})
		var l listing
		if err := json.Unmarshal(r.Result, &l); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(l.Items, func(a, b member) int { return strings.Compare(a.ConnectionID, b.ConnectionID) })
		return l, r
	}
	members := func(cs ...*webpubsubtest.Conn) []member {
		var out []member
		for _, c := range cs {
			out = append(out, member{ConnectionID: c.ConnectionID(), UserID: c.UserID()})
		}
		slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.ConnectionID, b.ConnectionID) })
		return out
	}
	groupExists := func(group string) bool {
		return js.bool(map[string]any{"op": "groupExists", "group": group})
	}

	t.Run("groups", func(t *testing.T) {
		js.ok(map[string]any{"op": "groupAddUser", "group": "room", "user": "alice"})
		if !groupExists("room") {
			t.Fatal("groupExists(room) = false after addUser")
		}
		// A user without connections cannot be added, as on the service.
		r := js.call(map[string]any{"op": "groupAddUser", "group": "room", "user": "offline"})
		if r.OK || r.Error.Status != 404 || r.Error.Code != "Warning.User.NotExisted" {
			t.Errorf("addUser of a user without connections: %+v, want a 404 RestError", r)
		}
		js.ok(map[string]any{"op": "groupAddConnection", "group": "room", "connectionId": bob.ConnectionID()})
		r = js.call(map[string]any{"op": "groupAddConnection", "group": "room", "connectionId": "nope"})
		if r.OK || r.Error.Status != 404 {
			t.Errorf("addConnection of an unknown connection: %+v, want a 404 RestError", r)
		}
		js.ok(map[string]any{"op": "addConnectionsToGroups", "groups": []string{"room", "lobby"}, "filter": "userId eq 'o''neil'"})
		js.ok(map[string]any{"op": "groupAddConnection", "group": "room", "connectionId": anon.ConnectionID()})

		l, r := list(t, "room", map[string]any{"maxPageSize": 2})
		if diff := cmp.Diff(listing{Items: members(alice1, alice2, bob, oneil, anon), Pages: []int{2, 2, 1}}, l); diff != "" {
			t.Errorf("room (-want +got):\n%s", diff)
		}
		// Two walks of three pages; the pages after the first follow nextLink.
		if len(r.Requests) != 6 || !strings.Contains(r.Requests[0], "maxpagesize=2") {
			t.Errorf("paging requests %v", r.Requests)
		}

		// top caps the whole listing, across pages.
		if l, _ := list(t, "room", map[string]any{"maxPageSize": 2, "top": 3}); len(l.Items) != 3 || !cmp.Equal(l.Pages, []int{2, 1}) {
			t.Errorf("room with top 3: %+v", l)
		}

		js.ok(map[string]any{"op": "groupSendToAll", "group": "room", "type": "text", "message": "to-room",
			"options": map[string]any{"excludedConnections": []string{anon.ConnectionID()}}})
		js.ok(map[string]any{"op": "groupSendToAll", "group": "lobby", "type": "binary", "message": "AA=="})
		for _, c := range []*webpubsubtest.Conn{alice1, alice2, bob} {
			if diff := cmp.Diff([]got{{From: "group", Group: "room", DataType: "text", Data: "to-room"}}, receive(t, c, 1)); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", c.ConnectionID(), diff)
			}
		}
		wantOneil := []got{{From: "group", Group: "room", DataType: "text", Data: "to-room"}, {From: "group", Group: "lobby", DataType: "binary", Data: "AA=="}}
		if diff := cmp.Diff(wantOneil, receive(t, oneil, 2)); diff != "" {
			t.Errorf("o'neil: (-want +got):\n%s", diff)
		}
		anon.ExpectNoMessage(t, 50*time.Millisecond)

		js.ok(map[string]any{"op": "groupRemoveConnection", "group": "room", "connectionId": anon.ConnectionID()})
		js.ok(map[string]any{"op": "removeConnectionsFromGroups", "groups": []string{"room"}, "filter": "userId eq 'o''neil'"})
		if l, _ := list(t, "room", nil); !cmp.Equal(l.Items, members(alice1, alice2, bob)) {
			t.Errorf("room after removals: %+v", l.Items)
		}
		js.ok(map[string]any{"op": "removeConnectionFromAllGroups", "connectionId": oneil.ConnectionID()})
		if groupExists("lobby") {
			t.Error("lobby exists after its only connection left all groups")
		}
		js.ok(map[string]any{"op": "groupRemoveUser", "group": "room", "user": "alice"})
		if l, _ := list(t, "room", nil); !cmp.Equal(l.Items, members(bob)) {
			t.Errorf("room after removeUser(alice): %+v", l.Items)
		}
		js.ok(map[string]any{"op": "removeUserFromAllGroups", "user": "bob"})
		if groupExists("room") {
			t.Error("room exists after removeUserFromAllGroups(bob)")
		}
		if l, _ := list(t, "room", nil); len(l.Items) != 0 || !cmp.Equal(l.Pages, []int{0}) {
			t.Errorf("empty room lists %+v", l)
		}
	})

	t.Run("permissions", func(t *testing.T) {
		perm := func(op, permission, target string) map[string]any {
			m := map[string]any{"op": op, "connectionId": anon.ConnectionID(), "permission": permission}
			if target != "" {
				m["options"] = map[string]any{"targetName": target}
			}
			return m
		}
		if err := anon.SendToGroup(ctx, "room", webpubsubtest.Text("x"), nil); err == nil {
			t.Fatal("a connection without permission published to a group")
		}
		js.ok(perm("grantPermission", "sendToGroup", "room"))
		r := js.ok(perm("hasPermission", "sendToGroup", "room"))
		if string(r.Result) != "true" || query(t, r).Get("targetName") != "room" {
			t.Errorf("hasPermission(sendToGroup, room) = %s; requests %v", r.Result, r.Requests)
		}
		if js.bool(perm("hasPermission", "sendToGroup", "other")) || js.bool(perm("hasPermission", "sendToGroup", "")) {
			t.Error("a permission for room counts for another group or for all groups")
		}
		if err := anon.SendToGroup(ctx, "room", webpubsubtest.Text("x"), nil); err != nil {
			t.Errorf("publish after grantPermission: %v", err)
		}
		js.ok(perm("revokePermission", "sendToGroup", "room"))
		if js.bool(perm("hasPermission", "sendToGroup", "room")) {
			t.Error("hasPermission after revoke")
		}
		if err := anon.SendToGroup(ctx, "room", webpubsubtest.Text("x"), nil); err == nil {
			t.Error("publish after revokePermission succeeded")
		}
		js.ok(perm("grantPermission", "joinLeaveGroup", ""))
		if !js.bool(perm("hasPermission", "joinLeaveGroup", "any")) {
			t.Error("joinLeaveGroup for all groups does not cover group any")
		}
		if err := anon.Join(ctx, "any"); err != nil {
			t.Errorf("join after grantPermission(joinLeaveGroup): %v", err)
		}
		r = js.call(map[string]any{"op": "grantPermission", "connectionId": "nope", "permission": "sendToGroup"})
		if r.OK || r.Error.Status != 404 {
			t.Errorf("grantPermission to an unknown connection: %+v, want a 404 RestError", r)
		}
	})

	t.Run("client access tokens", func(t *testing.T) {
		type token struct {
			Token, BaseURL, URL string
		}
		get := func(options map[string]any) token {
			var tok token
			if err := json.Unmarshal(js.ok(map[string]any{"op": "getClientAccessToken", "options": options}).Result, &tok); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		ws := "ws" + strings.TrimPrefix(srv.URL(), "http")
		for _, tc := range []struct {
			protocol, path string
		}{{"", "/client/hubs/chat"}, {"mqtt", "/clients/mqtt/hubs/chat"}, {"socketio", "/clients/socketio/hubs/chat"}} {
			options := map[string]any{"userId": "tok", "roles": []string{"webpubsub.joinLeaveGroup"}, "groups": []string{"g1"}, "expirationTimeInMinutes": 5}
			if tc.protocol != "" {
				options["clientProtocol"] = tc.protocol
			}
			tok := get(options)
			if tok.BaseURL != ws+tc.path || tok.URL != tok.BaseURL+"?access_token="+tok.Token {
				t.Errorf("%q: baseUrl %q, url %q", tc.protocol, tok.BaseURL, tok.URL)
			}
			claims := jwt.MapClaims{}
			if _, err := jwt.ParseWithClaims(tok.Token, claims, func(*jwt.Token) (any, error) { return []byte(srv.AccessKey()), nil },
				jwt.WithAudience(srv.URL()+tc.path), jwt.WithExpirationRequired()); err != nil {
				t.Errorf("%q token: %v", tc.protocol, err)
			}
			if claims["sub"] != "tok" || !cmp.Equal(claims["role"], []any{"webpubsub.joinLeaveGroup"}) || !cmp.Equal(claims["webpubsub.group"], []any{"g1"}) {
				t.Errorf("%q claims %v", tc.protocol, claims)
			}
		}

		// The emulator accepts the SDK's default token: the client joins
		// its groups and is the user the token names.
		c := dialURL(t, ctx, get(map[string]any{"userId": "tok", "groups": []string{"g1"}}).URL)
		if c.userID != "tok" {
			t.Errorf("connected as %q", c.userID)
		}
		if !groupExists("g1") {
			t.Error("the token's group was not joined")
		}
		js.ok(map[string]any{"op": "groupSendToAll", "group": "g1", "message": []int{1}})
		if m := c.next(t); m["group"] != "g1" || m["dataType"] != "json" || !cmp.Equal(m["data"], []any{float64(1)}) {
			t.Errorf("token client got %v", m)
		}
		anonymous := dialURL(t, ctx, get(nil).URL)
		if anonymous.userID != "" {
			t.Errorf("token without userId connected as %q", anonymous.userID)
		}
	})

	t.Run("closes", func(t *testing.T) {
		closed := func(c *webpubsubtest.Conn, reason string) {
			t.Helper()
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			code, got, err := c.CloseStatus(cctx)
			if err != nil || (reason != "" && got != reason) {
				t.Errorf("%s: close %d %q, %v; want reason %q", c.ConnectionID(), code, got, err, reason)
			}
		}
		open := func(c *webpubsubtest.Conn) bool {
			return js.bool(map[string]any{"op": "connectionExists", "connectionId": c.ConnectionID()})
		}
		js.ok(map[string]any{"op": "closeConnection", "connectionId": anon.ConnectionID(), "options": map[string]any{"reason": "bye anon"}})
		closed(anon, "bye anon")

		// closeUserConnections: the typed options have only reason; the
		// generated layer still sends excluded, as repeated keys.
		r := js.ok(map[string]any{"op": "closeUserConnections", "user": "alice",
			"options": map[string]any{"reason": "bye alice", "excluded": []string{alice2.ConnectionID()}}})
		if diff := cmp.Diff([]string{alice2.ConnectionID()}, query(t, r)["excluded"]); diff != "" {
			t.Errorf("excluded (-want +got):\n%s", diff)
		}
		closed(alice1, "bye alice")
		if !open(alice2) {
			t.Error("the excluded connection of alice was closed")
		}

		js.ok(map[string]any{"op": "groupAddConnection", "group": "last", "connectionId": bob.ConnectionID()})
		js.ok(map[string]any{"op": "groupAddConnection", "group": "last", "connectionId": alice2.ConnectionID()})
		js.ok(map[string]any{"op": "groupCloseAllConnections", "group": "last",
			"options": map[string]any{"reason": "bye group", "excluded": []string{alice2.ConnectionID()}}})
		closed(bob, "bye group")

		r = js.ok(map[string]any{"op": "closeAllConnections",
			"options": map[string]any{"reason": "bye all", "excluded": []string{alice2.ConnectionID(), "nope"}}})
		if diff := cmp.Diff([]string{alice2.ConnectionID(), "nope"}, query(t, r)["excluded"]); diff != "" {
			t.Errorf("excluded (-want +got):\n%s", diff)
		}
		closed(oneil, "bye all")
		if !open(alice2) {
			t.Error("closeAllConnections closed an excluded connection")
		}
		js.ok(map[string]any{"op": "closeAllConnections"})
		closed(alice2, "")
		for _, c := range everyone {
			if open(c) {
				t.Errorf("%s is still open", c.ConnectionID())
			}
		}
		if js.bool(map[string]any{"op": "userExists", "user": "alice"}) {
			t.Error("alice exists with every connection closed")
		}
	})

	// Every request the SDK made reached a known operation with a 2xx, or
	// the 404 of a check or of the deliberate calls for unknown targets.
	for _, req := range srv.Requests() {
		if req.Operation == "" || (req.Status >= 300 && req.Status != 404) {
			t.Errorf("request %s %s?%s: operation %q, status %d", req.Method, req.Path, req.Query.Encode(), req.Operation, req.Status)
		}
	}
}

// tokenClient is a bare json.webpubsub.azure.v1 client for a URL the JS SDK
// built, so the URL is used exactly as the SDK returned it.
type tokenClient struct {
	ws     *websocket.Conn
	userID string
}

func dialURL(t *testing.T, ctx context.Context, u string) *tokenClient {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{webpubsubtest.SubprotocolJSON}})
	if err != nil {
		t.Fatalf("dial the SDK's client URL: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	c := &tokenClient{ws: ws}
	m := c.next(t)
	if m["type"] != "system" || m["event"] != "connected" {
		t.Fatalf("first message %v, want connected", m)
	}
	c.userID, _ = m["userId"].(string)
	return c
}

func (c *tokenClient) next(t *testing.T) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// TestJSServerSDKWithTokenCredential runs the SDK with a TokenCredential
// against the emulator over TLS (the SDK sends bearer tokens over https
// only): getClientAccessToken then asks the service's :generateToken, the
// one call with the array parameters role and group.
func TestJSServerSDKWithTokenCredential(t *testing.T) {
	e, err := emulator.New(emulator.WithUnvalidatedEntraTokens(true))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(e.Handler())
	t.Cleanup(func() { ts.Close(); _ = e.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	js := startJSServerSDK(t, ts.URL, "chat", "NODE_EXTRA_CA_CERTS="+ca)

	js.ok(map[string]any{"op": "sendToAll", "message": "accepted with an Entra token"})

	r := js.ok(map[string]any{"op": "getClientAccessToken", "options": map[string]any{
		"userId": "u1", "roles": []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup.g1"},
		"groups": []string{"g1", "g2"}, "expirationTimeInMinutes": 5, "clientProtocol": "mqtt",
	}})
	q := query(t, r)
	t.Logf("the SDK sent %s", r.Requests[0])
	wantQuery := url.Values{
		"api-version": {wire.APIVersion20241201}, "userId": {"u1"}, "minutesToExpire": {"5"}, "clientType": {"mqtt"},
		"role":  {"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup.g1"},
		"group": {"g1", "g2"},
	}
	if diff := cmp.Diff(wantQuery, q); diff != "" {
		t.Errorf(":generateToken query (-want +got):\n%s\nraw: %v", diff, r.Requests)
	}
	var tok struct{ Token, BaseURL, URL string }
	if err := json.Unmarshal(r.Result, &tok); err != nil {
		t.Fatal(err)
	}
	wantBase := "wss" + strings.TrimPrefix(ts.URL, "https") + "/clients/mqtt/hubs/chat"
	if tok.BaseURL != wantBase || tok.URL != wantBase+"?access_token="+tok.Token {
		t.Errorf("baseUrl %q url %q, want base %q", tok.BaseURL, tok.URL, wantBase)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok.Token, claims, func(*jwt.Token) (any, error) { return []byte(e.AccessKey()), nil },
		jwt.WithAudience(ts.URL+"/clients/mqtt/hubs/chat"), jwt.WithExpirationRequired()); err != nil {
		t.Fatalf("token: %v", err)
	}
	wantClaims := map[string]any{
		"sub":             "u1",
		"role":            []any{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup.g1"},
		"webpubsub.group": []any{"g1", "g2"},
	}
	for k, want := range wantClaims {
		if diff := cmp.Diff(want, claims[k]); diff != "" {
			t.Errorf("claim %s (-want +got):\n%s", k, diff)
		}
	}
	if exp, _ := claims.GetExpirationTime(); exp == nil || time.Until(exp.Time) > 5*time.Minute+time.Second {
		t.Errorf("exp %v, want within 5 minutes", exp)
	}
}
