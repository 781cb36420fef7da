package wire

import (
	"net/http"
	"time"
)

// HTTPTransport returns a new transport with net/http's default settings
// for a package of this module to adjust: a clone of
// http.DefaultTransport, or, when a program replaced that with another
// RoundTripper (tracing libraries wrap it in their init), the same
// settings written out, so that no package here panics on a type
// assertion at start-up.
func HTTPTransport() *http.Transport {
	if base, ok := http.DefaultTransport.(*http.Transport); ok {
		return base.Clone()
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
