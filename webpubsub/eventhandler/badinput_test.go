package eventhandler_test

// The event handler's part of the bad-input table (docs/RELIABILITY.md),
// beyond TestRefusedRequests: forged events that try to smuggle a second
// identity or overwhelm the signature check. Each is refused, or handled
// consistently as the one event the signature covers; user code never sees
// an identity the signature does not cover.

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

func TestForgedEvents(t *testing.T) {
	tests := []struct {
		name string
		file string
		edit func(r *http.Request)
		// wantStatus 0: any 2xx, and user code must see signedConnection.
		wantStatus int
	}{
		{"second ce-connectionId after the signed one", "event_text.http", func(r *http.Request) {
			r.Header.Add("ce-connectionId", "victim-connection")
		}, 0},
		{"signed ce-connectionId after a forged one", "event_text.http", func(r *http.Request) {
			signed := r.Header.Get("ce-connectionId")
			r.Header["Ce-Connectionid"] = []string{"victim-connection", signed}
		}, http.StatusUnauthorized},
		{"10,000 forged signatures before the real one", "event_text.http", func(r *http.Request) {
			r.Header.Set("ce-signature", strings.Repeat("sha256="+strings.Repeat("0", 64)+",", 10000)+r.Header.Get("ce-signature"))
		}, 0},
		{"signature of the right length but another key", "connect.http", func(r *http.Request) {
			r.Header.Set("ce-signature", sign("guessed-key", r.Header.Get("ce-connectionId")))
		}, http.StatusUnauthorized},
		{"empty signature list", "connect.http", func(r *http.Request) { r.Header.Set("ce-signature", ",,,") }, http.StatusUnauthorized},
		{"hub in another case (hub names are case-insensitive)", "event_text.http", func(r *http.Request) { r.Header.Set("ce-hub", "CHAT") }, 0},
		{"another hub", "event_text.http", func(r *http.Request) { r.Header.Set("ce-hub", "chat2") }, http.StatusBadRequest},
		{"connection state of 1 MiB", "event_json.http", func(r *http.Request) {
			r.Header.Set("ce-connectionState", strings.Repeat("A", 1<<20))
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			var logs bytes.Buffer
			h := newHandler(t, c.handlers(nil, nil, nil), eventhandler.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			req := loadRequest(t, tt.file)
			signed := req.Header.Get("ce-connectionId")
			tt.edit(req)
			got := func() (r result) {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				return serve(h, req)
			}()
			if tt.wantStatus != 0 {
				if got.Status != tt.wantStatus || c.n != 0 {
					t.Errorf("status %d (%q), %d callbacks; want %d and none", got.Status, got.Body, c.n, tt.wantStatus)
				}
			} else {
				if got.Status/100 != 2 {
					t.Fatalf("status %d (%q), want success", got.Status, got.Body)
				}
				if c.event == nil || c.event.ConnectionID != signed {
					t.Errorf("user code saw connection %+v, want the signed %q", c.event, signed)
				}
			}
			assertNoSecrets(t, logs.String())
		})
	}
}
