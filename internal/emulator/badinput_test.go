package emulator

// The emulator's part of the bad-input table (docs/RELIABILITY.md): REST
// requests with forged or misused tokens, odd paths and bodies, and
// WebSocket client messages that are malformed or not allowed. Each gets a
// clear error and changes nothing.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestRESTBadInput(t *testing.T) {
	s := newTestServer(t)
	listener := s.connect("hub", clientOpts{subprotocol: "-", user: "listener"})
	sendURL := s.srv.URL + hubPath("hub", "/:send") + "?api-version=" + testAPIVersion
	userURL := s.srv.URL + hubPath("hub", "/users/a/:send") + "?api-version=" + testAPIVersion
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"aud": sendURL, "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(s.key))
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": sendURL}).SignedString([]byte(s.key))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"aud": sendURL, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct {
		name        string
		url         string
		auth        string
		contentType string
		body        string
		status      int
		message     string
	}{
		{"alg none", sendURL, "Bearer " + none, "text/plain", "x", 401, "HS256"},
		{"HS512 with the key", sendURL, "Bearer " + hs512, "text/plain", "x", 401, "HS256"},
		{"not valid yet", sendURL, "Bearer " + signToken(t, s.key, jwt.MapClaims{"aud": sendURL, "nbf": time.Now().Add(time.Hour).Unix()}), "text/plain", "x", 401, "not valid yet"},
		{"no exp", sendURL, "Bearer " + noExp, "text/plain", "x", 401, "no exp claim"},
		{"exp not a number", sendURL, "Bearer " + signToken(t, s.key, jwt.MapClaims{"aud": sendURL, "exp": "tomorrow"}), "text/plain", "x", 401, "claims are malformed"},
		{"aud not a string", sendURL, "Bearer " + signToken(t, s.key, jwt.MapClaims{"aud": 42}), "text/plain", "x", 401, "aud"},
		{"token of another operation", sendURL, "Bearer " + signToken(t, s.key, jwt.MapClaims{"aud": userURL}), "text/plain", "x", 401, "does not match the request URL"},
		{"token in the query", sendURL + "&access_token=" + url.QueryEscape(signToken(t, s.key, jwt.MapClaims{"aud": sendURL})), "", "text/plain", "x", 401, "Authorization"},
		{"two tokens", sendURL, "Bearer " + signToken(t, s.key, jwt.MapClaims{"aud": sendURL}) + " " + signToken(t, s.key, jwt.MapClaims{"aud": sendURL}), "text/plain", "x", 401, "JWT"},
		{"JSON with invalid UTF-8", sendURL, "", "application/json", "\"\xff\"", 415, "UTF-8"},
		{"text with invalid UTF-8", sendURL, "", "text/plain", "\xc3\x28", 415, "UTF-8"},
		{"JSON with two values", sendURL, "", "application/json", `{} {}`, 415, "not valid JSON"},
		{"unknown content type", sendURL, "", "application/xml", `<a/>`, 415, "Content-Type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			auth := tc.auth
			if auth == "" && !strings.Contains(tc.url, "access_token") {
				auth = "Bearer " + signToken(t, s.key, jwt.MapClaims{"aud": tc.url})
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, body := s.do(req)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.message) {
				t.Errorf("status %d, body %s; want %d mentioning %q", resp.StatusCode, body, tc.status, tc.message)
			}
		})
	}
	listener.expectNothing(50 * time.Millisecond)

	// Encoded traversal in an id stays the id of the operation it was sent to.
	for _, id := range []string{"..%2F..%2Fx", "%2E%2E", "a%2F%3Fb", "%00"} {
		u := s.srv.URL + hubPath("hub", "/connections/"+id) + "?api-version=" + testAPIVersion
		req, _ := http.NewRequest(http.MethodHead, u, nil)
		if op := s.e.Operation(req); op != "ConnectionExists" {
			t.Errorf("HEAD connections/%s is routed to %q", id, op)
		}
		req.Header.Set("Authorization", "Bearer "+signToken(t, s.key, jwt.MapClaims{"aud": u}))
		if resp, _ := s.do(req); resp.StatusCode != 404 {
			t.Errorf("HEAD connections/%s: %d, want 404 (no such connection)", id, resp.StatusCode)
		}
	}
}

// TestClientBadInput sends client messages that are malformed or not
// allowed: each is refused with a failed ack that names the problem, or
// ends the connection with 1008 and a reason; none reaches other clients.
func TestClientBadInput(t *testing.T) {
	s := newTestServer(t)
	watcher := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	ackCases := []struct {
		name    string
		msg     map[string]any
		errName string
		message string
	}{
		{"join a group of 1025 characters", map[string]any{"type": "joinGroup", "group": strings.Repeat("g", 1025)}, "BadRequest", "1024"},
		{"join a whitespace group", map[string]any{"type": "joinGroup", "group": " \t"}, "BadRequest", "whitespace"},
		{"join without a group", map[string]any{"type": "joinGroup"}, "BadRequest", "group"},
		{"send with unknown dataType", map[string]any{"type": "sendToGroup", "group": "g", "dataType": "xml", "data": "<a/>"}, "BadRequest", "dataType"},
		{"send binary that is not base64", map[string]any{"type": "sendToGroup", "group": "g", "dataType": "binary", "data": "!!"}, "BadRequest", "base64"},
		{"send text that is not a string", map[string]any{"type": "sendToGroup", "group": "g", "dataType": "text", "data": 5}, "BadRequest", "JSON string"},
		{"send without permission", map[string]any{"type": "sendToGroup", "group": "g", "dataType": "text", "data": "x"}, "Forbidden", "permission"},
		{"event without a name", map[string]any{"type": "event", "dataType": "text", "data": "x"}, "BadRequest", "event"},
		{"unknown message type", map[string]any{"type": "bogus"}, "BadRequest", "unsupported message type"},
		{"no message type", map[string]any{"group": "g"}, "BadRequest", "type is required"},
	}
	c := s.connect("hub", clientOpts{subprotocol: "-", roles: []string{"webpubsub.joinLeaveGroup"}})
	for i, tc := range ackCases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.request(100+i, tc.msg)
			e, _ := r["error"].(map[string]any)
			if r["success"] != false || e["name"] != tc.errName || !strings.Contains(strings.ToLower(e["message"].(string)), strings.ToLower(tc.message)) {
				t.Errorf("ack %v; want %s mentioning %q", r, tc.errName, tc.message)
			}
		})
	}
	c.mustAck(200, map[string]any{"type": "joinGroup", "group": "x"})
	r := c.request(200, map[string]any{"type": "leaveGroup", "group": "x"}) // ackId 200 succeeded above
	if e, _ := r["error"].(map[string]any); r["success"] != false || e["name"] != wire.AckErrorDuplicate {
		t.Errorf("reused ackId: %v", r)
	}

	closeCases := []struct {
		name   string
		typ    websocket.MessageType
		frame  string
		code   websocket.StatusCode
		reason string
	}{
		{"not a JSON object", websocket.MessageText, `[1,2]`, wire.ClosePolicyViolation, "not a valid JSON object"},
		{"binary frame", websocket.MessageBinary, `{"type":"ping"}`, wire.ClosePolicyViolation, "binary frames"},
		{"frame over 1 MiB", websocket.MessageText, `{"type":"ping","pad":"` + strings.Repeat("x", 1<<20) + `"}`, websocket.StatusMessageTooBig, ""},
	}
	for _, tc := range closeCases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect("hub", clientOpts{subprotocol: "-"})
			_ = c.ws.Write(context.Background(), tc.typ, []byte(tc.frame))
			var reason string
			for {
				_, b, err := c.read(5 * time.Second)
				if err != nil {
					if code := websocket.CloseStatus(err); code != tc.code {
						t.Errorf("close code %d (%v), want %d", code, err, tc.code)
					}
					break
				}
				if strings.Contains(string(b), `"disconnected"`) {
					reason = string(b)
				}
			}
			if !strings.Contains(reason, tc.reason) {
				t.Errorf("disconnected message %q does not mention %q", reason, tc.reason)
			}
		})
	}
	watcher.expectNothing(50 * time.Millisecond)
}
