package webpubsub

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// Default transport settings (see newDefaultTransport).
const (
	defaultMaxIdleConnsPerHost = 128
	defaultDialTimeout         = 10 * time.Second
	defaultTLSHandshakeTimeout = 10 * time.Second
)

// defaultTransport is shared by every client made without WithHTTPClient,
// so that clients of several hubs of one service share one pool.
var defaultTransport = newDefaultTransport()

// newDefaultTransport returns a clone of http.DefaultTransport that keeps
// enough idle connections per host for many concurrent senders (the
// standard 2 makes 32 senders open and close a connection per request),
// with bounded dial and TLS handshake times.
//
// Over TLS it speaks HTTP/1.1 only, with a pool of connections. Measured
// side by side (docs/PERFORMANCE.md), neither protocol won every run with
// 32 senders; the pool is kept because it works the same against every
// server (gateways that speak only HTTP/1.1 included) and one lost packet
// stalls one send, not all of them. Callers who want HTTP/2 pass their own
// client with WithHTTPClient.
func newDefaultTransport() *http.Transport {
	t := wire.HTTPTransport()
	t.DialContext = (&net.Dialer{Timeout: defaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = defaultTLSHandshakeTimeout
	t.MaxIdleConns = 2 * defaultMaxIdleConnsPerHost
	t.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	t.ForceAttemptHTTP2 = false
	var p http.Protocols
	p.SetHTTP1(true)
	t.Protocols = &p
	// Clone set HTTP/2 up on http.DefaultTransport and copied its TLS
	// config, which offers "h2" in ALPN: offer only what this transport
	// speaks, or a server that prefers HTTP/2 would answer in it.
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return t
}

// maxRedirects is how many redirects a request may follow, as net/http's
// default policy allows.
const maxRedirects = 10

// redirectError refuses a redirect to another scheme or host.
type redirectError struct{ detail string }

func (e *redirectError) Error() string {
	return "the service redirected the request " + e.detail +
		"; the redirect was not followed, so the credentials were not sent there (check the endpoint's scheme and host)"
}

// safeRedirect wraps a CheckRedirect policy (nil: net/http's default of
// at most 10 redirects) so that a redirect to another scheme, host or
// port is refused: net/http would follow https to http on the same host
// with the Authorization header, in clear. Redirects within the same
// origin keep the header (a key-signed JWT names the original URL and is
// refused by the service elsewhere anyway).
func safeRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		from, to := via[0].URL, req.URL
		switch {
		case !strings.EqualFold(from.Scheme, to.Scheme):
			return &redirectError{detail: "from " + strings.ToLower(from.Scheme) + " to " + strings.ToLower(to.Scheme)}
		case !strings.EqualFold(from.Hostname(), to.Hostname()):
			return &redirectError{detail: "to another host"}
		case effectivePort(from) != effectivePort(to):
			return &redirectError{detail: "to another port"}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return &redirectError{detail: "more than 10 times"}
		}
		return nil
	}
}

// effectivePort is u's port, or its scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
