package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestAPIVersion(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{user: "u1", groups: []string{"g"}, subprotocol: "-"})
	tests := []struct {
		name, method, path, version string
		wantStatus                  int
	}{
		{"every stable version sends", http.MethodPost, hubPath("hub", "/:send"), "2021-10-01", http.StatusAccepted},
		{"2022-11-01", http.MethodPost, hubPath("hub", "/:send"), "2022-11-01", http.StatusAccepted},
		{"2023-07-01", http.MethodPost, hubPath("hub", "/:send"), "2023-07-01", http.StatusAccepted},
		{"2024-01-01", http.MethodPost, hubPath("hub", "/:send"), "2024-01-01", http.StatusAccepted},
		{wire.APIVersion20241201, http.MethodPost, hubPath("hub", "/:send"), wire.APIVersion20241201, http.StatusAccepted},
		{"unknown version", http.MethodPost, hubPath("hub", "/:send"), "2099-01-01", http.StatusBadRequest},
		{"malformed version", http.MethodPost, hubPath("hub", "/:send"), "latest", http.StatusBadRequest},
		{"unknown version on a HEAD check", http.MethodHead, hubPath("hub", "/users/u1"), "1.0", http.StatusBadRequest},
		{"unknown version on health", http.MethodHead, "/api/health", "2099-01-01", http.StatusBadRequest},
		{"remove from all groups before 2022-11-01", http.MethodDelete, hubPath("hub", "/connections/"+c.id+"/groups"), "2021-10-01", http.StatusBadRequest},
		{"remove from all groups from 2022-11-01", http.MethodDelete, hubPath("hub", "/connections/none/groups"), "2022-11-01", http.StatusNoContent},
		{"add to groups by filter before 2024-01-01", http.MethodPost, hubPath("hub", "/:addToGroups"), "2023-07-01", http.StatusBadRequest},
		{"remove from groups by filter before 2024-01-01", http.MethodPost, hubPath("hub", "/:removeFromGroups"), "2023-07-01", http.StatusBadRequest},
		{"list connections before " + wire.APIVersion20241201, http.MethodGet, hubPath("hub", "/groups/g/connections"), wire.APIVersion20240101, http.StatusBadRequest},
		{"list connections in " + wire.APIVersion20241201, http.MethodGet, hubPath("hub", "/groups/g/connections"), wire.APIVersion20241201, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"api-version": {tc.version}}
			var body []byte
			ct := ""
			if tc.method == http.MethodPost {
				ct, body = "application/json", []byte(`{"groups":["g2"],"filter":"userId eq 'u1'"}`)
				if strings.HasSuffix(tc.path, "/:send") {
					body = []byte(`"hi"`)
				}
			}
			resp, b := s.call(tc.method, tc.path, q, ct, body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.wantStatus, b)
			}
			if tc.wantStatus != http.StatusBadRequest {
				return
			}
			if got := errorCode(resp); got != "UnsupportedApiVersion" {
				t.Errorf("x-ms-error-code %q, want UnsupportedApiVersion", got)
			}
			if tc.method != http.MethodHead && !contains(string(b), "does not support the API version '"+tc.version+"'") {
				t.Errorf("body %s does not name the version", b)
			}
		})
	}
	// The refused calls changed nothing: the connection is still in g and
	// received only the five accepted sends.
	for range 5 {
		if m := c.next(); m["data"] != "hi" {
			t.Fatalf("got %v, want the message hi", m)
		}
	}
	c.expectNothing(50 * time.Millisecond)
	s.mustStatus(http.StatusOK, http.MethodHead, hubPath("hub", "/groups/g"), nil, "", nil)

	// A present but empty api-version is refused too (the generated router
	// lets it through).
	u := s.srv.URL + hubPath("hub", "/:send") + "?api-version="
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(`"hi"`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+signToken(t, s.key, jwt.MapClaims{"aud": u}))
	if resp, b := s.do(req); resp.StatusCode != http.StatusBadRequest || errorCode(resp) != "UnsupportedApiVersion" {
		t.Fatalf("empty api-version: status %d, code %q, body %s; want 400 UnsupportedApiVersion", resp.StatusCode, errorCode(resp), b)
	}
	c.expectNothing(50 * time.Millisecond)
}

func TestQueryAPIVersion(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{"api-version=" + wire.APIVersion20241201, wire.APIVersion20241201, true},
		{"a=1&api-version=" + wire.APIVersion20241201 + "&b=2", wire.APIVersion20241201, true},
		{"api-version=" + wire.APIVersion20241201 + "&api-version=" + wire.APIVersion20241201, wire.APIVersion20241201, true},
		{"api-version=" + wire.APIVersion20241201 + "&api-version=2021-10-01", "", false},
		{"api-version=", "", true},
		{"api-version", "", true},
		{"api-version=2024%2D12%2D01", wire.APIVersion20241201, true},
		{"api-version=a+b", "a b", true},
		{"api-version=%zz", "", false},
		{"xapi-version=1&api-versionx=2", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if v, ok := queryAPIVersion(tt.raw); v != tt.want || ok != tt.ok {
			t.Errorf("queryAPIVersion(%q) = %q, %v; want %q, %v", tt.raw, v, ok, tt.want, tt.ok)
		}
	}
}
