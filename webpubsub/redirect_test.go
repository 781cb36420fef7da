package webpubsub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedirectNeverCarriesCredentials answers every request with a 307 to
// another scheme, host or port and checks, for a key client and a
// Microsoft Entra ID client, with the default HTTP client and with a
// caller's (WithHTTPClient), that the redirect is refused with a clear
// error, not retried, and that the target never sees a request. A
// redirect within the origin is still followed. Issue 12, defect 8.
func TestRedirectNeverCarriesCredentials(t *testing.T) {
	var targetHits atomic.Int32
	target := func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}
	plainTarget := httptest.NewServer(http.HandlerFunc(target))
	defer plainTarget.Close()
	tlsTarget := httptest.NewTLSServer(http.HandlerFunc(target))
	defer tlsTarget.Close()
	plainPort := plainTarget.URL[strings.LastIndexByte(plainTarget.URL, ':'):]

	var location atomic.Value
	var originHits atomic.Int32
	origin := func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		if strings.HasSuffix(r.URL.Path, "/moved") {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Location", location.Load().(string))
		w.WriteHeader(http.StatusTemporaryRedirect)
	}
	plainOrigin := httptest.NewServer(http.HandlerFunc(origin))
	defer plainOrigin.Close()
	tlsOrigin := httptest.NewTLSServer(http.HandlerFunc(origin))
	defer tlsOrigin.Close()

	tlsTransport := tlsOrigin.Client().Transport.(*http.Transport).Clone()
	key, _ := NewKeyCredential(testKey)
	fast := WithRetry(RetryOptions{RetryDelay: time.Millisecond, RetryNonIdempotent: true})
	type mk func(endpoint string, opts ...Option) (*Client, error)
	withKey := func(ep string, opts ...Option) (*Client, error) { return NewClientWithKey(ep, "hub", key, opts...) }
	withEntra := func(ep string, opts ...Option) (*Client, error) {
		return NewClient(ep, "hub", &fakeCredential{lifetime: time.Hour}, opts...)
	}
	ownClient := WithHTTPClient(&http.Client{Transport: tlsTransport, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }})
	tests := []struct {
		name, origin, location, wantErr string
		ownClient                       bool
	}{
		{"https to http, same host", tlsOrigin.URL, "http://127.0.0.1" + plainPort + "/x", "from https to http", false},
		{"https to http, same host, own client", tlsOrigin.URL, "http://127.0.0.1" + plainPort + "/x", "from https to http", true},
		{"https to another port", tlsOrigin.URL, tlsTarget.URL + "/x", "to another port", false},
		{"https to another host", tlsOrigin.URL, strings.Replace(tlsOrigin.URL, "127.0.0.1", "localhost", 1) + "/x", "to another host", true},
		{"http to another host", plainOrigin.URL, strings.Replace(plainOrigin.URL, "127.0.0.1", "localhost", 1) + "/x", "to another host", false},
		{"http to another port", plainOrigin.URL, plainTarget.URL + "/x", "to another port", false},
		{"http to https", plainOrigin.URL, tlsTarget.URL + "/x", "from http to https", false},
		{"same origin is followed", tlsOrigin.URL, "/moved", "", false},
	}
	for _, tt := range tests {
		for name, newC := range map[string]mk{"key": withKey, "entra": withEntra} {
			opts := []Option{fast}
			if tt.ownClient {
				opts = append(opts, ownClient)
			}
			c, err := newC(tt.origin, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.ownClient && strings.HasPrefix(tt.origin, "https") {
				c.pipe.http.Transport = tlsTransport // the default client, trusting the test certificate
			}
			location.Store(tt.location)
			targetHits.Store(0)
			originHits.Store(0)
			for _, call := range []func() error{
				func() error { return c.SendToAll(context.Background(), Text("x"), nil) },
				func() error { _, err := c.UserExists(context.Background(), "u"); return err }, // idempotent: would be retried
			} {
				err := call()
				if tt.wantErr == "" {
					if err != nil && !errors.As(err, new(*ResponseError)) {
						t.Errorf("%s/%s: %v", tt.name, name, err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "not followed") {
					t.Errorf("%s/%s: error %v, want one saying %q", tt.name, name, err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "/x") {
					t.Errorf("%s/%s: the error quotes the redirect target: %v", tt.name, name, err)
				}
			}
			if tt.wantErr != "" {
				if n := targetHits.Load(); n != 0 {
					t.Errorf("%s/%s: the redirect target got %d requests", tt.name, name, n)
				}
				if n := originHits.Load(); n != 2 {
					t.Errorf("%s/%s: the origin got %d requests, want 2 (no retries of a refused redirect)", tt.name, name, n)
				}
			} else if n := originHits.Load(); n != 4 {
				t.Errorf("%s/%s: the origin got %d requests, want 4 (two redirects followed)", tt.name, name, n)
			}
		}
	}
}

func TestDefaultTransport(t *testing.T) {
	c, err := NewClientWithKey("https://x.webpubsub.azure.com", "hub", mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.pipe.http.Transport.(*http.Transport)
	if !ok || tr != defaultTransport {
		t.Fatalf("the default client's transport is %T, want the shared default", c.pipe.http.Transport)
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.TLSHandshakeTimeout <= 0 || tr.TLSHandshakeTimeout > 30*time.Second || tr.DialContext == nil ||
		tr.Protocols == nil || tr.Protocols.HTTP2() || !tr.Protocols.HTTP1() {
		t.Errorf("default transport: %d idle per host, handshake timeout %v, protocols %v", tr.MaxIdleConnsPerHost, tr.TLSHandshakeTimeout, tr.Protocols)
	}
	if c.pipe.http.CheckRedirect == nil {
		t.Error("the default client has no redirect policy")
	}
	hc := &http.Client{Timeout: time.Second}
	if _, err := NewClientWithKey("https://x.webpubsub.azure.com", "hub", mustKey(t), WithHTTPClient(hc)); err != nil || hc.CheckRedirect != nil {
		t.Errorf("WithHTTPClient changed the caller's client (%v)", err)
	}
}

// TestDefaultTransportOverTLS sends through a copy of the default
// transport (trusting the test certificate) to a server that offers
// HTTP/2 and HTTP/1.1: the client must offer only HTTP/1.1 in ALPN and
// get an answer.
func TestDefaultTransportOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	tr := newDefaultTransport()
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	defer tr.CloseIdleConnections()
	c, err := NewClientWithKey(srv.URL, "hub", mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	c.pipe.http.Transport = tr
	for range 3 {
		if err := c.SendToAll(context.Background(), Text("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.Proto != "HTTP/1.1" || resp.Header.Get("X-Proto") != "HTTP/1.1" || resp.TLS == nil || resp.TLS.NegotiatedProtocol == "h2" {
		t.Errorf("negotiated %q (server saw %q)", resp.Proto, resp.Header.Get("X-Proto"))
	}
}

func mustKey(t *testing.T) *KeyCredential {
	t.Helper()
	k, err := NewKeyCredential(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
