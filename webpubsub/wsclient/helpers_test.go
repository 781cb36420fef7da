package wsclient

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/faultproxy"
	"github.com/webpubsub-go/sdk/internal/leakcheck"
	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

const testKey = "wsclient-test-access-key-0123456789abcdef"

// env is an emulator behind a fault proxy.
type env struct {
	t     *testing.T
	emu   *emulator.Emulator
	srv   *httptest.Server
	proxy *faultproxy.Proxy
}

func newEnv(t *testing.T, opts ...emulator.Option) *env {
	t.Helper()
	emu, err := emulator.New(append([]emulator.Option{emulator.WithAccessKeys(testKey)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	p, err := faultproxy.New(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Close()
		_ = emu.Close()
		srv.Close()
	})
	return &env{t: t, emu: emu, srv: srv, proxy: p}
}

type tokenOpts struct {
	user   string
	roles  []string
	groups []string
	exp    time.Duration
}

// clientURL returns a client access URL of hub on host (the proxy's or
// the server's address).
func clientURL(t testing.TB, host, hub string, o tokenOpts) string {
	t.Helper()
	if o.exp == 0 {
		o.exp = time.Hour
	}
	claims := jwt.MapClaims{
		wire.ClaimAudience: "http://" + host + wire.ClientPathDefault + hub,
		wire.ClaimExpiry:   time.Now().Add(o.exp).Unix(),
	}
	if o.user != "" {
		claims[wire.ClaimSubject] = o.user
	}
	if len(o.roles) > 0 {
		claims[wire.ClaimRole] = o.roles
	}
	if len(o.groups) > 0 {
		claims[wire.ClaimGroup] = o.groups
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	return "ws://" + host + wire.ClientPathDefault + hub + "?" + wire.QueryAccessToken + "=" + url.QueryEscape(tok)
}

// viaProxy is a client access URL through the fault proxy.
func (e *env) viaProxy(hub string, o tokenOpts) string { return clientURL(e.t, e.proxy.Addr(), hub, o) }

// direct is a client access URL straight to the emulator.
func (e *env) direct(hub string, o tokenOpts) string {
	return clientURL(e.t, strings.TrimPrefix(e.srv.URL, "http://"), hub, o)
}

var allRoles = []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}

// start starts a client of u and stops it when the test ends.
func start(t testing.TB, u string, o *Options) *Client {
	t.Helper()
	c, err := New(u, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// events records a client's events.
type events struct {
	mu     sync.Mutex
	list   []any
	signal chan struct{}
}

func newEvents() *events { return &events{signal: make(chan struct{}, 1)} }

func (e *events) add(ev any) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
	select {
	case e.signal <- struct{}{}:
	default:
	}
}

func (e *events) options(o *Options) *Options {
	if o == nil {
		o = &Options{}
	}
	o.OnConnected = func(ev ConnectedEvent) { e.add(ev) }
	o.OnDisconnected = func(ev DisconnectedEvent) { e.add(ev) }
	o.OnStopped = func(ev StoppedEvent) { e.add(ev) }
	o.OnRejoinGroupFailed = func(ev RejoinGroupFailedEvent) { e.add(ev) }
	return o
}

// snapshot returns the events so far.
func (e *events) snapshot() []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]any(nil), e.list...)
}

// wait waits until pred holds for the events so far.
func (e *events) wait(t testing.TB, d time.Duration, what string, pred func([]any) bool) []any {
	t.Helper()
	deadline := time.After(d)
	for {
		e.mu.Lock()
		list := append([]any(nil), e.list...)
		e.mu.Unlock()
		if pred(list) {
			return list
		}
		select {
		case <-e.signal:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %#v", what, list)
		}
	}
}

func count[T any](list []any) int {
	n := 0
	for _, ev := range list {
		if _, ok := ev.(T); ok {
			n++
		}
	}
	return n
}

// receiveN reads n messages.
func receiveN(t testing.TB, c *Client, n int, d time.Duration) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out := make([]Message, 0, n)
	for len(out) < n {
		m, err := c.Receive(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
