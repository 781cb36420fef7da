package eventhandler_test

// The hostile sweep (docs/RELIABILITY.md, "Event handler and CLI sweep"):
// header values a sender controls are never echoed whole, and an answer of
// user code that JSON or the service would read differently is refused.

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

func TestHostileHeadersAreNotEchoed(t *testing.T) {
	const marker = "HOSTILE"
	big := marker + strings.Repeat("x", 512<<10)
	set := func(name, value string) func(r *http.Request) {
		return func(r *http.Request) { r.Header.Set(name, value) }
	}
	tests := []struct {
		name       string
		edit       func(r *http.Request)
		wantStatus int
	}{
		{"ce-hub of 512 KiB", set("ce-hub", big), http.StatusBadRequest},
		{"ce-type of 512 KiB", set("ce-type", big), http.StatusBadRequest},
		{"ce-specversion of 512 KiB", set("ce-specversion", big), http.StatusBadRequest},
		{"ce-eventName of 512 KiB", set("ce-eventName", big), http.StatusBadRequest},
		{"Content-Type of 512 KiB", set("Content-Type", big), http.StatusUnsupportedMediaType},
		{"WebHook-Request-Origin of 512 KiB", set("WebHook-Request-Origin", big), http.StatusForbidden},
		{"WebHook-Request-Origin 10,000 times", func(r *http.Request) {
			r.Header["Webhook-Request-Origin"] = nil
			for range 10000 {
				r.Header.Add("WebHook-Request-Origin", marker+".example.com")
			}
		}, http.StatusForbidden},
		{"ce-connectionId of 512 KiB with a wrong hub", func(r *http.Request) {
			r.Header.Set("ce-connectionId", big)
			r.Header.Set("ce-hub", "other")
		}, http.StatusBadRequest},
		{"ce-hub of 1,000 two-byte characters", set("ce-hub", strings.Repeat("é", 1000)), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			var logs bytes.Buffer
			h := newHandler(t, c.handlers(nil, nil, nil), eventhandler.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			req := loadRequest(t, "event_text.http")
			tt.edit(req)
			got := serve(h, req)
			if got.Status != tt.wantStatus || c.n != 0 {
				t.Fatalf("status %d, %d callbacks; want %d and none", got.Status, c.n, tt.wantStatus)
			}
			// Before the fix the reason quoted the whole value: 512 KiB
			// in the answer and 0.5-1 MiB in the log, from an unsigned request.
			if len(got.Body) > 400 || logs.Len() > 800 {
				t.Errorf("answer of %d bytes and log of %d bytes; want at most 400 and 800:\n%.500s", len(got.Body), logs.Len(), got.Body)
			}
			if strings.Count(got.Body, "\n") != 1 || !utf8.ValidString(got.Body) || strings.Contains(got.Body, `\x`) {
				t.Errorf("answer %q: want one line of valid UTF-8, no character cut in two", got.Body)
			}
			if !strings.Contains(got.Body+logs.String(), "bytes)") && len(req.Header.Get("ce-connectionId")) > 1000 {
				t.Errorf("the log does not say the connection id was cut:\n%.500s", logs.String())
			}
			assertNoSecrets(t, logs.String())
		})
	}
}

func TestInvalidCallbackAnswersAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		connect *eventhandler.ConnectResponse
		reply   *eventhandler.EventResponse
		wantLog string // in the Error log line; the answer is a generic 500
	}{
		{"user id not UTF-8", "connect.http", &eventhandler.ConnectResponse{UserID: "ana\xff"}, nil, "UserID that is not valid UTF-8"},
		{"group not UTF-8", "connect.http", &eventhandler.ConnectResponse{UserID: "ana", Groups: []string{"ok", "g\xc3"}}, nil, "group 2 that is not valid UTF-8"},
		{"empty group", "connect.http", &eventhandler.ConnectResponse{Groups: []string{""}}, nil, "group 1 that is empty"},
		{"whitespace group", "connect.http", &eventhandler.ConnectResponse{Groups: []string{" \t"}}, nil, "group 1 that is empty or only whitespace"},
		{"group of 1,025 characters", "connect.http", &eventhandler.ConnectResponse{Groups: []string{strings.Repeat("é", 1025)}}, nil, "1025 characters"},
		{"role not UTF-8", "connect.http", &eventhandler.ConnectResponse{Roles: []string{"webpubsub.joinLeaveGroup.\xff"}}, nil, "role 1 that is empty or not valid UTF-8"},
		{"empty role", "connect.http", &eventhandler.ConnectResponse{Roles: []string{""}}, nil, "role 1"},
		{"MQTT user property not UTF-8", "mqtt_connect.http", &eventhandler.ConnectResponse{
			MQTTUserProperties: []eventhandler.MQTTUserProperty{{Name: "a", Value: "\xff"}}}, nil, "MQTT user property 1"},
		{"text reply not UTF-8", "event_text.http", nil, eventhandler.TextReply("caf\xe9"), "text data that is not valid UTF-8"},
		{"JSON reply with a string not UTF-8", "event_text.http", nil,
			&eventhandler.EventResponse{DataType: eventhandler.DataJSON, Data: []byte("\"caf\xe9\"")}, "json data that is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			var logs bytes.Buffer
			h := newHandler(t, c.handlers(tt.connect, tt.reply, nil), eventhandler.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			got := serve(h, loadRequest(t, tt.file))
			// Before the fix: 200, with U+FFFD in place of the invalid
			// bytes (another user, group or role), or the bytes as text.
			if got.Status != http.StatusInternalServerError || got.Body != "the event handler failed\n" {
				t.Errorf("answer %d %q; want 500 with the generic message", got.Status, got.Body)
			}
			if c.n != 1 {
				t.Errorf("%d callbacks, want 1", c.n)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log does not say %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
	// The limits themselves are accepted.
	var c calls
	ok := &eventhandler.ConnectResponse{UserID: "日本", Groups: []string{strings.Repeat("é", 1024)}, Roles: []string{"webpubsub.sendToGroup"}}
	if got := serve(newHandler(t, c.handlers(ok, nil, nil)), loadRequest(t, "connect.http")); got.Status != http.StatusOK {
		t.Errorf("a valid answer at the limits got %d %q", got.Status, got.Body)
	}
}
