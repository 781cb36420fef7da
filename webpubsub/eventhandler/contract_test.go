package eventhandler_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// wireRequest builds an event the way a sender using internal/wire (the
// emulator) does, so the two sides cannot drift apart.
func wireRequest(t testing.TB, ceType, event, dataType string, body []byte) *http.Request {
	t.Helper()
	contentType := wire.ContentTypeJSON
	if dataType != "" {
		var ok bool
		if contentType, ok = wire.CEContentType(dataType); !ok {
			t.Fatalf("no content type for %q", dataType)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/eventhandler", strings.NewReader(string(body)))
	h := req.Header
	h.Set(wire.HeaderContentType, contentType)
	h.Set(wire.HeaderWebHookRequestOrigin, serviceHost)
	h.Set(wire.HeaderCESpecVersion, wire.CESpecVersion)
	h.Set(wire.HeaderCEAWPSVersion, wire.CEAWPSVersion)
	h.Set(wire.HeaderCEType, ceType)
	h.Set(wire.HeaderCESource, wire.CESource("chat", "c-1"))
	h.Set(wire.HeaderCEID, "42")
	h.Set(wire.HeaderCETime, "2026-11-26T23:00:00Z")
	h.Set(wire.HeaderCEHub, "chat")
	h.Set(wire.HeaderCEConnectionID, "c-1")
	h.Set(wire.HeaderCEEventName, event)
	h.Set(wire.HeaderCEUserID, "ana")
	h.Set(wire.HeaderCESubprotocol, wire.SubprotocolJSON)
	h.Set(wire.HeaderCESignature, wire.CESignatureHeader("c-1", primaryKey, secondaryKey))
	return req
}

func TestWireSenderContract(t *testing.T) {
	var c calls
	connectResp := &eventhandler.ConnectResponse{UserID: "ana", Roles: []string{wire.RoleJoinLeaveGroup}, Subprotocol: wire.SubprotocolJSON}
	h := newHandler(t, c.handlers(connectResp, eventhandler.TextReply("pong"), nil))

	body, err := json.Marshal(wire.CEConnectBody{
		Claims:       map[string]wire.CEStrings{wire.ClaimSubject: {"ana"}},
		Subprotocols: []string{wire.SubprotocolJSON},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := serve(h, wireRequest(t, wire.CETypeConnect, wire.CEEventConnect, "", body))
	if got.Status != http.StatusOK {
		t.Fatalf("connect: status %d (%s)", got.Status, got.Body)
	}
	var answer wire.CEConnectResponse
	if err := json.Unmarshal([]byte(got.Body), &answer); err != nil {
		t.Fatal(err)
	}
	want := wire.CEConnectResponse{UserID: "ana", Roles: []string{wire.RoleJoinLeaveGroup}, Subprotocol: wire.SubprotocolJSON}
	if diff := cmp.Diff(want, answer); diff != "" {
		t.Errorf("connect answer (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{wire.ClaimSubject: {"ana"}}, c.connect.Claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}

	got = serve(h, wireRequest(t, wire.CEUserType("ping"), "ping", wire.DataTypeText, []byte("ping")))
	if dt, ok := wire.CEDataType(got.ContentType); got.Status != http.StatusOK || !ok || dt != wire.DataTypeText || got.Body != "pong" {
		t.Errorf("user event: %+v (data type %q)", got, dt)
	}

	body, _ = json.Marshal(wire.CEDisconnectedBody{Reason: "bye"})
	if got = serve(h, wireRequest(t, wire.CETypeDisconnected, wire.CEEventDisconnected, "", body)); got.Status != http.StatusOK {
		t.Errorf("disconnected: status %d", got.Status)
	}
	if c.disc == nil || c.disc.Reason != "bye" {
		t.Errorf("disconnected event = %+v", c.disc)
	}
	if got = serve(h, wireRequest(t, wire.CETypeConnected, wire.CEEventConnected, "", []byte("{}"))); got.Status != http.StatusOK || c.conn == nil {
		t.Errorf("connected: status %d, event %+v", got.Status, c.conn)
	}
}

func BenchmarkServeUserEvent(b *testing.B) {
	h := newHandler(b, eventhandler.Handlers{
		OnEvent: func(_ context.Context, e *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			return &eventhandler.EventResponse{DataType: e.DataType, Data: e.Data}, nil
		},
	})
	state := base64.StdEncoding.EncodeToString([]byte(`{"room":"lobby"}`))
	b.ReportAllocs()
	for b.Loop() {
		req := wireRequest(b, wire.CEUserType("chat"), "chat", wire.DataTypeJSON, []byte(`{"text":"hello"}`))
		req.Header.Set(wire.HeaderCEConnectionState, state)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
