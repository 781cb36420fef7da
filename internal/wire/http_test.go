package wire

import (
	"net/http"
	"testing"
	"time"
)

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// With http.DefaultTransport replaced by a wrapper, HTTPTransport still
// returns net/http's default settings instead of panicking.
func TestHTTPTransportWithWrappedDefault(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		saved := http.DefaultTransport
		if wrapped {
			http.DefaultTransport = roundTripperFunc(saved.RoundTrip)
		}
		tr := HTTPTransport()
		http.DefaultTransport = saved
		if tr.Proxy == nil || tr.TLSHandshakeTimeout != 10*time.Second || tr.IdleConnTimeout != 90*time.Second || tr.MaxIdleConns != 100 {
			t.Errorf("wrapped=%v: proxy set %v, TLS handshake timeout %v, idle timeout %v, max idle %d",
				wrapped, tr.Proxy != nil, tr.TLSHandshakeTimeout, tr.IdleConnTimeout, tr.MaxIdleConns)
		}
	}
}
