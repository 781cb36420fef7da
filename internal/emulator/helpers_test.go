package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
	"github.com/webpubsub-go/sdk/internal/wire"
)

const testAPIVersion = wire.APIVersion

// TestMain fails the package when goroutines outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

type testServer struct {
	t   testing.TB
	e   *Emulator
	srv *httptest.Server
	key string
}

func newTestServer(t testing.TB, opts ...Option) *testServer {
	t.Helper()
	e, err := New(append([]Option{WithKeepAlive(0)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		_ = e.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return &testServer{t: t, e: e, srv: srv, key: e.AccessKey()}
}

func signToken(t testing.TB, key string, claims jwt.MapClaims) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call performs a signed REST call. path is relative to /api/hubs/{hub} when
// it does not start with /.
func (s *testServer) call(method, path string, query url.Values, contentType string, body []byte) (*http.Response, []byte) {
	s.t.Helper()
	return s.callWithKey(s.key, method, path, query, contentType, body)
}

func (s *testServer) callWithKey(key, method, path string, query url.Values, contentType string, body []byte) (*http.Response, []byte) {
	s.t.Helper()
	if query == nil {
		query = url.Values{}
	}
	if query.Get("api-version") == "" {
		query.Set("api-version", testAPIVersion)
	}
	u := s.srv.URL + path + "?" + query.Encode()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+signToken(s.t, key, jwt.MapClaims{"aud": u}))
	}
	return s.do(req)
}

func (s *testServer) do(req *http.Request) (*http.Response, []byte) {
	s.t.Helper()
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (s *testServer) mustStatus(want int, method, path string, query url.Values, contentType string, body []byte) []byte {
	s.t.Helper()
	resp, b := s.call(method, path, query, contentType, body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

type clientOpts struct {
	user        string
	roles       []string
	groups      []string
	subprotocol string // "" for simple; "-" for json default
}

// wsClient is a raw test WebSocket client. A goroutine reads frames into
// a channel, because a WebSocket read whose context expires closes the
// connection.
type wsClient struct {
	t         testing.TB
	ws        *websocket.Conn
	frames    chan wsFrame
	readErr   error            // valid once frames is closed
	pending   []map[string]any // messages skipped while waiting for an ack
	earlyErr  error            // the connection ended before "connected"
	id        string
	token     string
	connected map[string]any
	url       string
	proto     string
}

func (s *testServer) clientURL(hub string, o clientOpts) string {
	claims := jwt.MapClaims{"aud": s.srv.URL + wire.ClientPathDefault + hub}
	if o.user != "" {
		claims[wire.ClaimSubject] = o.user
	}
	if o.roles != nil {
		claims[wire.ClaimRole] = o.roles
	}
	if o.groups != nil {
		claims[wire.ClaimGroup] = o.groups
	}
	return wire.WebSocketScheme(s.srv.URL) + wire.ClientPathDefault + hub + "?" + wire.QueryAccessToken + "=" + signToken(s.t, s.key, claims)
}

func (s *testServer) connect(hub string, o clientOpts) *wsClient {
	s.t.Helper()
	if o.subprotocol == "-" {
		o.subprotocol = wire.SubprotocolJSON
	}
	return s.dialURL(s.clientURL(hub, o), o.subprotocol)
}

func (s *testServer) dialURL(u, proto string) *wsClient {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var protos []string
	if proto != "" {
		protos = []string{proto}
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: protos})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		s.t.Fatalf("dial: %v (status %d)", err, status)
	}
	ws.SetReadLimit(4 << 20)
	c := &wsClient{t: s.t, ws: ws, url: u, proto: proto, frames: make(chan wsFrame, 10000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(c.frames)
		for {
			typ, b, err := ws.Read(context.Background())
			if err != nil {
				c.readErr = err
				return
			}
			c.frames <- wsFrame{typ, b}
		}
	}()
	s.t.Cleanup(func() { _ = ws.CloseNow(); <-done })
	if proto == wire.SubprotocolJSON || proto == wire.SubprotocolJSONReliable {
		_, b, err := c.read(5 * time.Second)
		if err != nil {
			c.earlyErr = err // refused after the handshake, e.g. a failed recovery
			return c
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m["event"] != "connected" {
			s.t.Fatalf("first message %v, want connected", m)
		}
		c.connected = m
		c.id, _ = m["connectionId"].(string)
		c.token, _ = m["reconnectionToken"].(string)
	}
	return c
}

type wsFrame struct {
	typ  websocket.MessageType
	data []byte
}

var errNoFrame = errors.New("no frame within the timeout")

func (c *wsClient) read(timeout time.Duration) (websocket.MessageType, []byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f, ok := <-c.frames:
		if !ok {
			return 0, nil, c.readErr
		}
		return f.typ, f.data, nil
	case <-t.C:
		return 0, nil, errNoFrame
	}
}

func (c *wsClient) next() map[string]any {
	c.t.Helper()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m
	}
	_, b, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// expectNothing asserts that no message arrives within d.
func (c *wsClient) expectNothing(d time.Duration) {
	c.t.Helper()
	if len(c.pending) > 0 {
		c.t.Fatalf("unexpected message %v", c.pending[0])
	}
	_, b, err := c.read(d)
	if err == nil {
		c.t.Fatalf("unexpected message %s", b)
	}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// request sends a message with ackId and returns the ack.
func (c *wsClient) request(ackID int, m map[string]any) map[string]any {
	c.t.Helper()
	m["ackId"] = ackID
	c.send(m)
	var skipped []map[string]any
	defer func() { c.pending = append(c.pending, skipped...) }()
	for {
		_, b, err := c.read(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for ack %d: %v", ackID, err)
		}
		var r map[string]any
		if err := json.Unmarshal(b, &r); err != nil {
			c.t.Fatalf("decode %q: %v", b, err)
		}
		if r["type"] == "ack" {
			if r["ackId"] != float64(ackID) {
				c.t.Fatalf("ack %v, want ackId %d", r, ackID)
			}
			return r
		}
		skipped = append(skipped, r)
	}
}

func (c *wsClient) mustAck(ackID int, m map[string]any) {
	c.t.Helper()
	if r := c.request(ackID, m); r["success"] != true {
		c.t.Fatalf("%v: ack %v, want success", m, r)
	}
}

// closeStatus waits for the connection to end and returns its close code.
func (c *wsClient) closeStatus() websocket.StatusCode {
	c.t.Helper()
	if c.earlyErr != nil {
		return websocket.CloseStatus(c.earlyErr)
	}
	for {
		_, _, err := c.read(5 * time.Second)
		if errors.Is(err, errNoFrame) {
			c.t.Fatal("the connection did not close")
		}
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// waitClosed waits for ch to be closed, at most 10 seconds.
func waitClosed(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s to finish", what)
	}
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hubPath(hub, rest string) string { return "/api/hubs/" + hub + rest }

func errorCode(resp *http.Response) string { return resp.Header.Get(wire.HeaderErrorCode) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
