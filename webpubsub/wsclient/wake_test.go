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
