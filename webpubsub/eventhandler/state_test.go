package eventhandler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

func TestStateGet(t *testing.T) {
	s := eventhandler.State{"room": json.RawMessage(`"lobby"`), "n": json.RawMessage(`7`)}
	var room string
	if ok, err := s.Get("room", &room); !ok || err != nil || room != "lobby" {
		t.Errorf("Get(room) = %v, %v, %q; want true, nil, lobby", ok, err, room)
	}
	var missing string
	if ok, err := s.Get("absent", &missing); ok || err != nil || missing != "" {
		t.Errorf("Get(absent) = %v, %v, %q; want false, nil, untouched", ok, err, missing)
	}
	if ok, err := s.Get("n", &room); !ok || err == nil || !strings.Contains(err.Error(), `connection state "n"`) {
		t.Errorf("Get(n) into a string = %v, %v; want true and an error naming the key", ok, err)
	}
	var none eventhandler.State
	if ok, err := none.Get("room", &room); ok || err != nil {
		t.Errorf("nil State Get = %v, %v; want false, nil", ok, err)
	}
}

func TestSetStateErrors(t *testing.T) {
	var u eventhandler.StateUpdate
	if err := u.SetState("", 1); err == nil || !strings.Contains(err.Error(), "the key is empty") {
		t.Errorf("SetState(empty key) = %v", err)
	}
	if err := u.SetState("ch", make(chan int)); err == nil || !strings.Contains(err.Error(), `SetState "ch"`) {
		t.Errorf("SetState(chan) = %v", err)
	}
	// Failed calls change nothing: the response carries no state header.
	resp := &eventhandler.EventResponse{StateUpdate: u}
	h := newHandler(t, eventhandler.Handlers{OnEvent: func(context.Context, *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
		return resp, nil
	}})
	if diff := cmp.Diff(result{Status: http.StatusNoContent}, serve(h, loadRequest(t, "event_json.http"))); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// The state a handler writes is the state the next event reads.
func TestStateRoundTrip(t *testing.T) {
	var seen eventhandler.State
	h := newHandler(t, eventhandler.Handlers{
		OnConnect: func(context.Context, *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			resp := &eventhandler.ConnectResponse{UserID: "ana"}
			if err := resp.SetState("profile", map[string]any{"name": "Ana", "langs": []string{"go", "ts"}}); err != nil {
				return nil, err
			}
			return resp, nil
		},
		OnEvent: func(_ context.Context, e *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			seen = e.State
			return nil, nil
		},
	})
	first := serve(h, loadRequest(t, "connect.http"))
	req := loadRequest(t, "event_text.http")
	req.Header.Set("ce-connectionState", first.ConnectionState)
	serve(h, req)
	want := eventhandler.State{"profile": json.RawMessage(`{"langs":["go","ts"],"name":"Ana"}`)}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

func TestLenientHeaders(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		edit  func(*http.Request)
		check func(*testing.T, *eventhandler.UserEvent)
	}{
		{"unrecognised ce-time is the zero time", "event_text.http",
			func(r *http.Request) { r.Header.Set("ce-time", "yesterday") },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if !e.Time.IsZero() {
					t.Errorf("Time = %v, want zero", e.Time)
				}
			}},
		{"absent ce-time is the zero time", "event_text.http",
			func(r *http.Request) { r.Header.Del("ce-time") },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if e.Time != (time.Time{}) {
					t.Errorf("Time = %v, want zero", e.Time)
				}
			}},
		{"event name matched case-insensitively", "event_text.http",
			func(r *http.Request) { r.Header.Set("ce-eventName", "GREET") },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if e.EventName != "GREET" {
					t.Errorf("EventName = %q, want the header's value", e.EventName)
				}
			}},
		{"event name from ce-type", "event_text.http",
			func(r *http.Request) { r.Header.Del("ce-eventName") },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if e.EventName != "greet" {
					t.Errorf("EventName = %q, want greet", e.EventName)
				}
			}},
		{"empty text body", "message_text.http",
			func(r *http.Request) { setBody(r, nil) },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if e.Data == nil || len(e.Data) != 0 || e.DataType != eventhandler.DataText {
					t.Errorf("Data = %#v (%s), want empty non-nil text", e.Data, e.DataType)
				}
			}},
		{"nil body", "message_binary.http",
			func(r *http.Request) { r.Body, r.ContentLength = nil, 0 },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if e.Data == nil || len(e.Data) != 0 {
					t.Errorf("Data = %#v, want empty", e.Data)
				}
			}},
		{"content type parameters and case", "event_json.http",
			func(r *http.Request) { r.Header.Set("Content-Type", "Application/JSON; charset=UTF-8") },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if e.DataType != eventhandler.DataJSON {
					t.Errorf("DataType = %s, want json", e.DataType)
				}
			}},
		{"unpadded base64 state", "event_json.http",
			func(r *http.Request) { r.Header.Set("ce-connectionState", strings.TrimRight(b64(`{"k":1}`), "=")) },
			func(t *testing.T, e *eventhandler.UserEvent) {
				if diff := cmp.Diff(eventhandler.State{"k": json.RawMessage(`1`)}, e.State); diff != "" {
					t.Errorf("State (-want +got):\n%s", diff)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			h := newHandler(t, c.handlers(nil, nil, nil))
			req := loadRequest(t, tt.file)
			tt.edit(req)
			if got := serve(h, req); got.Status != http.StatusNoContent {
				t.Fatalf("status %d (%q), want 204", got.Status, got.Body)
			}
			tt.check(t, c.event)
		})
	}
}

func TestSignatureIsRedacted(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	serve(h, loadRequest(t, "event_json.http"))
	if c.event == nil {
		t.Fatal("OnEvent not called")
	}
	if string(c.event.Signature) != bothSignatures(conn1) {
		t.Errorf("string(Signature) = %q, want the header value", string(c.event.Signature))
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(format, c.event)
		if strings.Contains(out, "sha256=") || strings.Contains(out, strings.TrimPrefix(sign(primaryKey, conn1), "sha256=")) {
			t.Errorf("%s of the event shows the signature: %s", format, out)
		}
		if !strings.Contains(fmt.Sprintf(format, c.event.Signature), "[REDACTED]") {
			t.Errorf("%s of the signature is not redacted", format)
		}
	}
	if s := eventhandler.Signature("").String(); s != "" {
		t.Errorf("empty Signature String() = %q", s)
	}
	// Format answers every fmt verb; GoString is for callers that ask for
	// it directly (fmt.GoStringer).
	var gs fmt.GoStringer = c.event.Signature
	if s := gs.GoString(); s != "[REDACTED]" {
		t.Errorf("GoString() = %q, want [REDACTED]", s)
	}
}
