package webpubsub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeCredential hands out numbered tokens and counts calls.
type fakeCredential struct {
	calls    atomic.Int32
	lifetime time.Duration
	delay    time.Duration
	err      error
	scopes   atomic.Value
}

func (f *fakeCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := f.calls.Add(1)
	f.scopes.Store(strings.Join(o.Scopes, " "))
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return azcore.AccessToken{}, ctx.Err()
		}
	}
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: "entra-token-" + string(rune('0'+n)), ExpiresOn: time.Now().Add(f.lifetime)}, nil
}

func TestEntraTokenCachedWithoutStampede(t *testing.T) {
	f := newFakeService(t, "")
	f.key = "" // bearer tokens are not JWTs signed with a key here
	cred := &fakeCredential{lifetime: time.Hour, delay: 20 * time.Millisecond}
	c, err := NewClient(f.url(), "chat", cred)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if err := c.SendToAll(context.Background(), Text("x"), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := cred.calls.Load(); n != 1 {
		t.Errorf("100 concurrent calls asked the credential %d times", n)
	}
	if s := cred.scopes.Load(); s != "https://webpubsub.azure.com/.default" {
		t.Errorf("scope %q", s)
	}
	f.mu.Lock()
	for _, a := range f.auths {
		if a != "Bearer entra-token-1" {
			t.Errorf("Authorization %q", a)
		}
	}
	f.mu.Unlock()
	f.take()
}

func TestEntraTokenRefresh(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cred := &fakeCredential{lifetime: time.Hour}
	a := &entraAuthorizer{cred: credFunc(func(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
		tok, err := cred.GetToken(ctx, o)
		tok.ExpiresOn = clock().Add(time.Hour)
		return tok, err
	}), now: clock}
	ctx := context.Background()
	get := func() string {
		t.Helper()
		tok, err := a.token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for i := range 2 {
		if got := get(); got != "entra-token-1" {
			t.Fatalf("call %d: got %s, want the cached entra-token-1", i+1, got)
		}
	}
	advance(54 * time.Minute)
	if got := get(); got != "entra-token-1" {
		t.Errorf("refreshed too early: %s", got)
	}
	advance(2 * time.Minute) // within 5 minutes of expiry
	if got := get(); got != "entra-token-2" {
		t.Errorf("not refreshed before expiry: %s", got)
	}
	// A failed refresh keeps a still-valid token.
	advance(56 * time.Minute)
	cred.err = errors.New("boom")
	if got := get(); got != "entra-token-2" {
		t.Errorf("failed refresh dropped the valid token: %s", got)
	}
	// Once expired, the failure surfaces.
	advance(10 * time.Minute)
	if _, err := a.token(ctx); err == nil || !strings.Contains(err.Error(), "Microsoft Entra ID token failed: boom") {
		t.Errorf("err = %v", err)
	}
	// RefreshOn is honoured.
	cred.err = nil
	a.tok = azcore.AccessToken{Token: "t", ExpiresOn: clock().Add(time.Hour), RefreshOn: clock().Add(-time.Second)}
	if got := get(); got == "t" {
		t.Error("RefreshOn ignored")
	}
}

type credFunc func(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error)

func (f credFunc) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return f(ctx, o)
}

func TestEntraErrors(t *testing.T) {
	f := newFakeService(t, "")
	cred := &fakeCredential{err: errors.New("no identity for eyJx.eyJy.sig")}
	c, _ := NewClient(f.url(), "chat", cred)
	err := c.SendToAll(context.Background(), Text("x"), nil)
	if err == nil || strings.Contains(err.Error(), "eyJx") || !errors.Is(err, cred.err) {
		t.Errorf("err = %v", err)
	}
	if got := f.take(); len(got) != 0 {
		t.Errorf("request sent without a token: %v", got)
	}
	empty := credFunc(func(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
		return azcore.AccessToken{}, nil
	})
	c, _ = NewClient(f.url(), "chat", empty)
	if err := c.CheckHealth(context.Background()); err == nil || !strings.Contains(err.Error(), "empty token") {
		t.Errorf("empty token: %v", err)
	}
	// Waiters give up when their context ends.
	slow := &fakeCredential{lifetime: time.Hour, delay: 200 * time.Millisecond}
	a := &entraAuthorizer{cred: slow, now: time.Now}
	go func() { _, _ = a.token(context.Background()) }()
	for slow.calls.Load() == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v", err)
	}
}

func TestKeyRotationOnTheWire(t *testing.T) {
	f := newFakeService(t, "")
	key, _ := NewKeyCredential(testKey)
	c, err := NewClientWithKey(f.url(), "chat", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.take()
	_ = key.Update("rotated-key")
	f.mu.Lock()
	f.key = "rotated-key"
	f.mu.Unlock()
	if err := c.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.take() // fails the test if the JWT was not signed with the new key
}

func TestReverseProxy(t *testing.T) {
	const service = "https://svc.webpubsub.azure.com/base"
	var got []string
	var auth string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Host+" "+r.RequestURI)
		auth = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer proxy.Close()
	c, err := NewClientFromConnectionString("Endpoint="+service+";AccessKey="+testKey, "chat", WithReverseProxy(proxy.URL+"/apim/"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendToGroup(context.Background(), "g/1", Text("x"), nil); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(proxy.URL, "http://")
	if want := host + " /apim/api/hubs/chat/groups/g%2F1/:send?api-version=" + APIVersion; len(got) != 1 || got[0] != want {
		t.Errorf("proxy saw %v, want %q", got, want)
	}
	if msg := checkRESTJWT(auth, testKey, service+"/api/hubs/chat/groups/g%2F1/:send?api-version="+APIVersion); msg != "" {
		t.Error(msg)
	}
	tok, err := c.ClientAccessToken(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.BaseURL != "wss://svc.webpubsub.azure.com/base/client/hubs/chat" {
		t.Errorf("client URL %q points away from the service", tok.BaseURL)
	}
}

func TestUserAgent(t *testing.T) {
	f := newFakeService(t, "")
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{nil, "azsdk-go-webpubsub/" + SDKVersion + " (" + runtime.Version() + "; " + runtime.GOOS + ")"},
		{[]Option{WithUserAgent("myapp/1.2")}, "myapp/1.2 azsdk-go-webpubsub/" + SDKVersion + " (" + runtime.Version() + "; " + runtime.GOOS + ")"},
	} {
		c := newTestClient(t, f, tc.opts...)
		if err := c.CheckHealth(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		ua := f.uas[len(f.uas)-1]
		f.mu.Unlock()
		if ua != tc.want {
			t.Errorf("User-Agent %q, want %q", ua, tc.want)
		}
	}
	f.take()
}

func TestWithHTTPClientIsCopied(t *testing.T) {
	f := newFakeService(t, "")
	ct := &countingTransport{next: http.DefaultTransport}
	hc := &http.Client{Transport: ct}
	c := newTestClient(t, f, WithHTTPClient(hc))
	hc.Transport = nil // later changes to the caller's client do not matter
	if err := c.CheckHealth(context.Background()); err != nil || ct.n.Load() != 1 {
		t.Errorf("err %v, %d round trips through the given transport", err, ct.n.Load())
	}
	f.take()
}

// TestEntraWaiterSurvivesRefresherCancel: the caller that started a
// refresh gives up; the refresh goes on (it is detached from that caller's
// context) and the waiting caller gets its token, with one token request.
func TestEntraWaiterSurvivesRefresherCancel(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	cred := credFunc(func(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
		calls.Add(1)
		select {
		case <-release:
			return azcore.AccessToken{Token: "first", ExpiresOn: time.Now().Add(time.Hour)}, nil
		case <-ctx.Done(): // the first caller's cancel reached the refresh
			return azcore.AccessToken{}, ctx.Err()
		}
	})
	a := &entraAuthorizer{cred: cred, now: time.Now}
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { _, err := a.token(ctx1); done1 <- err }()
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	done2 := make(chan string, 1)
	go func() { tok, _ := a.token(context.Background()); done2 <- tok }()
	time.Sleep(10 * time.Millisecond) // let the second caller start waiting
	cancel1()
	if err := <-done1; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: %v", err)
	}
	close(release)
	if tok := <-done2; tok != "first" {
		t.Errorf("waiter got %q", tok)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestEntraNeedsTLS(t *testing.T) {
	cred := &fakeCredential{lifetime: time.Hour}
	for _, tc := range []struct {
		endpoint string
		opts     []Option
		ok       bool
	}{
		{"https://x.webpubsub.azure.com", nil, true},
		{"http://localhost:8080", nil, true},
		{"http://127.0.0.1:8080", nil, true},
		{"http://[::1]:8080", nil, true},
		{"http://x.webpubsub.azure.com", nil, false},
		{"https://x.webpubsub.azure.com", []Option{WithReverseProxy("http://apim.example.com")}, false},
		{"https://x.webpubsub.azure.com", []Option{WithReverseProxy("https://apim.example.com")}, true},
	} {
		_, err := NewClient(tc.endpoint, "hub", cred, tc.opts...)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidArgument)) {
			t.Errorf("%s %d options: %v", tc.endpoint, len(tc.opts), err)
		}
	}
	// Keys sign short-lived, URL-bound JWTs, so plain http is allowed.
	key, _ := NewKeyCredential("k")
	if _, err := NewClientWithKey("http://x.webpubsub.azure.com", "hub", key); err != nil {
		t.Error(err)
	}
}

// TestWithTokenScope checks that the scope reaches the credential, that a
// key client refuses the option and that a bad scope is refused.
func TestWithTokenScope(t *testing.T) {
	f := newFakeService(t, "")
	f.key = ""
	const scope = "https://webpubsub.example.sovereign/.default"
	cred := &fakeCredential{lifetime: time.Hour}
	c, err := NewClient(f.url(), "chat", cred, WithTokenScope(scope))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendToAll(context.Background(), Text("x"), nil); err != nil {
		t.Fatal(err)
	}
	if s := cred.scopes.Load(); s != scope {
		t.Errorf("scope %q, want %q", s, scope)
	}
	f.take()
	key, _ := NewKeyCredential(testKey)
	for _, tt := range []struct {
		name string
		mk   func() (*Client, error)
		want string
	}{
		{"key client", func() (*Client, error) { return NewClientWithKey(f.url(), "chat", key, WithTokenScope(scope)) }, "use the option with NewClient"},
		{"connection string", func() (*Client, error) {
			return NewClientFromConnectionString(f.connString(), "chat", WithTokenScope(scope))
		}, "use the option with NewClient"},
		{"empty", func() (*Client, error) { return NewClient(f.url(), "chat", cred, WithTokenScope("")) }, "non-empty string without spaces"},
		{"spaces", func() (*Client, error) { return NewClient(f.url(), "chat", cred, WithTokenScope("a b")) }, "non-empty string without spaces"},
	} {
		if _, err := tt.mk(); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an invalid argument saying %q", tt.name, err, tt.want)
		}
	}
}
