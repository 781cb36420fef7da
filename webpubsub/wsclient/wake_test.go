package wsclient

import (
	"net/http"
	"testing"
	"time"
)

// A connection dialed with the default HTTP client reports its reads; one
// dialed with the user's client does not, and wakes the consumer per
// message.
func TestDefaultDialReportsReads(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name     string
		client   *http.Client
		wantLazy bool
	}{
		{"default client", nil, true},
		{"user's client", &http.Client{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(e.direct("h", tokenOpts{user: "u"}), &Options{HTTPClient: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.dial(ctxT(t, 10*time.Second), e.direct("h", tokenOpts{user: "u"}))
			if err != nil {
				t.Fatal(err)
			}
			defer s.ws.CloseNow()
			if s.lazy != tc.wantLazy {
				t.Errorf("lazy = %v, want %v", s.lazy, tc.wantLazy)
			}
		})
	}
}

// A program whose http.DefaultTransport was replaced by another
// RoundTripper (a tracing wrapper, say) still gets a default transport
// with the same proxy and timeouts, and connections that report reads.
func TestDefaultTransportWithWrappedDefault(t *testing.T) {
	saved := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = saved })
	http.DefaultTransport = roundTripperFunc(func(r *http.Request) (*http.Response, error) { return saved.RoundTrip(r) })
	tr := newDefaultTransport()
	if tr.Proxy == nil || tr.TLSHandshakeTimeout != 10*time.Second || !tr.DisableKeepAlives || tr.DialContext == nil {
		t.Errorf("transport settings: proxy set %v, TLS handshake timeout %v, keep-alives disabled %v, dialer set %v",
			tr.Proxy != nil, tr.TLSHandshakeTimeout, tr.DisableKeepAlives, tr.DialContext != nil)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
