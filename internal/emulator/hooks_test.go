package emulator

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// hookRecorder implements EventHandler, ConnectHandler and LifecycleHandler.
type hookRecorder struct {
	connect func(ConnectRequest) (*ConnectResponse, error)
	mu      sync.Mutex
	reqs    []ConnectRequest
	life    []string
}

func (h *hookRecorder) HandleEvent(context.Context, Event) (*Payload, error) { return nil, nil }

func (h *hookRecorder) HandleConnect(_ context.Context, req ConnectRequest) (*ConnectResponse, error) {
	h.mu.Lock()
	h.reqs = append(h.reqs, req)
	h.mu.Unlock()
	return h.connect(req)
}

func (h *hookRecorder) HandleConnected(_ context.Context, info ConnectionInfo) {
	time.Sleep(10 * time.Millisecond) // a slow handler must still come first
	h.mu.Lock()
	h.life = append(h.life, "connected "+info.UserID+" "+info.Subprotocol)
	h.mu.Unlock()
}

func (h *hookRecorder) HandleDisconnected(_ context.Context, info ConnectionInfo, reason string) {
	h.mu.Lock()
	h.life = append(h.life, "disconnected "+info.UserID+": "+reason)
	h.mu.Unlock()
}

func (h *hookRecorder) lifecycle() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.life...)
}

func TestConnectHandler(t *testing.T) {
	h := &hookRecorder{connect: func(req ConnectRequest) (*ConnectResponse, error) {
		switch req.UserID {
		case "banned":
			return nil, &ConnectError{StatusCode: http.StatusForbidden, Message: "banned users may not connect"}
		case "broken":
			return nil, errors.New("upstream unreachable")
		case "anonymous":
			return nil, &ConnectError{Message: "who are you"}
		case "renamed":
			u := "alias"
			return &ConnectResponse{UserID: &u, Roles: []string{wire.RoleJoinLeaveGroup}, Groups: []string{"extra"}, Subprotocol: wire.SubprotocolJSON}, nil
		case "liar":
			return &ConnectResponse{Subprotocol: "mqtt"}, nil
		}
		return nil, nil
	}}
	s := newTestServer(t, WithEventHandler(h))
	dialStatus := func(user string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, resp, err := websocket.Dial(ctx, s.clientURL("hub", clientOpts{user: user}), nil)
		if err == nil {
			_ = ws.CloseNow()
			return 101
		}
		return resp.StatusCode
	}
	for user, want := range map[string]int{"banned": 403, "broken": 500, "anonymous": 401, "liar": 500, "plain": 101} {
		if got := dialStatus(user); got != want {
			t.Errorf("%s: status %d, want %d", user, got, want)
		}
	}

	// The handler sees the token's claims, query and headers, without secrets.
	claims := jwt.MapClaims{"aud": s.srv.URL + "/client/hubs/hub", "sub": "renamed", "role": []string{"webpubsub.sendToGroup"}, "tenant": "t1", "webpubsub.group": []string{"g"}}
	u := wire.WebSocketScheme(s.srv.URL) + "/client/hubs/hub?foo=bar&access_token=" + signToken(t, s.key, claims)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		Subprotocols: []string{wire.SubprotocolJSONReliable, wire.SubprotocolJSON},
		HTTPHeader:   http.Header{"X-Custom": {"yes"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != wire.SubprotocolJSON {
		t.Fatalf("negotiated %q, want the handler's choice", got)
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(string(b), `"userId":"alias"`) || contains(string(b), "reconnectionToken") {
		t.Fatalf("connected message %s", b)
	}
	h.mu.Lock()
	req := h.reqs[len(h.reqs)-1]
	h.mu.Unlock()
	if req.UserID != "renamed" || req.ConnectionID == "" || req.Hub != "hub" {
		t.Errorf("request %+v", req)
	}
	if diff := cmp.Diff([]string{wire.SubprotocolJSONReliable, wire.SubprotocolJSON}, req.Subprotocols); diff != "" {
		t.Errorf("subprotocols (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"t1"}, req.Claims["tenant"]); diff != "" {
		t.Errorf("claims %v", req.Claims)
	}
	if diff := cmp.Diff(map[string][]string{"foo": {"bar"}}, req.Query); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if req.Headers["X-Custom"][0] != "yes" || req.Headers["Authorization"] != nil {
		t.Errorf("headers %v", req.Headers)
	}
	// The response took effect: user, extra group, extra role.
	if !s.e.exists("hub", scopeUser, "alias") || s.e.exists("hub", scopeUser, "renamed") {
		t.Error("user id not replaced")
	}
	id := s.e.groupMembers("hub", "extra")
	g := s.e.groupMembers("hub", "g")
	if len(id) != 1 || len(g) != 1 {
		t.Fatalf("groups: extra %d, g %d", len(id), len(g))
	}
	if !s.e.check("hub", id[0].id, permission{kind: wire.RoleJoinLeaveGroup}) || !s.e.check("hub", id[0].id, permission{kind: wire.RoleSendToGroup}) {
		t.Error("roles not combined")
	}
}

func TestLifecycleHandler(t *testing.T) {
	h := &hookRecorder{connect: func(ConnectRequest) (*ConnectResponse, error) { return nil, nil }}
	s := newTestServer(t, WithEventHandler(h), WithRecoveryWindow(50*time.Millisecond))
	a := s.connect("hub", clientOpts{user: "a", subprotocol: "-"})
	b := s.connect("hub", clientOpts{user: "b"})
	r := s.connect("hub", clientOpts{user: "r", subprotocol: wire.SubprotocolJSONReliable})
	// A rejected or failed recovery is no new connection.
	s.dialURL(r.url+"&"+url.Values{wire.QueryConnectionID: {"nope"}, wire.QueryReconnectionToken: {"x"}}.Encode(), wire.SubprotocolJSONReliable)

	s.mustStatus(204, http.MethodDelete, hubPath("hub", "/connections/"+a.id), url.Values{"reason": {"kicked"}}, "", nil)
	_ = b.ws.Close(websocket.StatusNormalClosure, "")
	_ = r.ws.CloseNow() // expires after the recovery window
	eventually(t, "six lifecycle calls", func() bool { return len(h.lifecycle()) == 6 })
	got := h.lifecycle()
	for _, u := range []string{"a", "b", "r"} {
		ci, di := -1, -1
		for i, l := range got {
			if strings.HasPrefix(l, "connected "+u+" ") {
				ci = i
			}
			if strings.HasPrefix(l, "disconnected "+u+":") {
				di = i
			}
		}
		if ci < 0 || di < ci {
			t.Errorf("user %s: connected at %d, disconnected at %d: %v", u, ci, di, got)
		}
	}
	want := map[string]bool{
		"connected a " + wire.SubprotocolJSON:              true,
		"connected b ":                                     true,
		"connected r " + wire.SubprotocolJSONReliable:      true,
		"disconnected a: kicked":                           true,
		"disconnected b: the client closed the connection": true,
		"disconnected r: recovery window elapsed":          true,
	}
	for _, l := range got {
		if !want[l] {
			t.Errorf("unexpected lifecycle call %q (all: %v)", l, got)
		}
	}
}
