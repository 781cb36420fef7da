package eventhandler_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// mqttContext is the ConnectionContext the MQTT testdata share.
func mqttContext(event, id, when, userID, sessionID string) eventhandler.ConnectionContext {
	return eventhandler.ConnectionContext{
		Hub: "chat", ConnectionID: conn1, UserID: userID, EventName: event, Subprotocol: "mqtt",
		Origin:      serviceHost,
		MQTT:        &eventhandler.MQTTConnection{PhysicalConnectionID: "phys-7Qm2", SessionID: sessionID},
		Signature:   eventhandler.Signature(bothSignatures(conn1)),
		SpecVersion: "1.0", AWPSVersion: "1.0", Type: "azure.webpubsub.sys." + event,
		Source: "/hubs/chat/client/" + conn1, ID: id, Time: at(when),
	}
}

func TestMQTTConnect(t *testing.T) {
	var c calls
	resp := &eventhandler.ConnectResponse{
		UserID:             "sensor-7",
		Groups:             []string{"north"},
		MQTTUserProperties: []eventhandler.MQTTUserProperty{{Name: "welcome", Value: "yes"}},
	}
	h := newHandler(t, c.handlers(resp, nil, nil))
	got := serve(h, loadRequest(t, "mqtt_connect.http"))
	wantResult := result{
		Status: http.StatusOK, ContentType: "application/json; charset=utf-8",
		Body: `{"userId":"sensor-7","groups":["north"],"mqtt":{"userProperties":[{"name":"welcome","value":"yes"}]}}`,
	}
	if diff := cmp.Diff(wantResult, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	want := &eventhandler.ConnectRequest{
		ConnectionContext: mqttContext("connect", "11", "2026-11-26T23:00:00Z", "", ""),
		Claims:            map[string][]string{},
		Query:             map[string][]string{},
		Headers:           map[string][]string{"Sec-WebSocket-Protocol": {"mqtt"}},
		Subprotocols:      []string{"mqtt"},
		MQTT: &eventhandler.MQTTConnectProperties{
			ProtocolVersion: eventhandler.MQTTVersion5,
			Username:        "sensor-7",
			Password:        eventhandler.MQTTPassword("s3cr3t"),
			UserProperties:  []eventhandler.MQTTUserProperty{{Name: "site", Value: "north"}, {Name: "site", Value: "annex"}},
		},
	}
	if diff := cmp.Diff(want, c.connect); diff != "" {
		t.Errorf("ConnectRequest (-want +got):\n%s", diff)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := fmt.Sprintf(verb, c.connect.MQTT); strings.Contains(s, "s3cr3t") || strings.Contains(s, "73336372337") {
			t.Errorf("%s of the MQTT properties shows the password: %s", verb, s)
		}
	}
	if got := fmt.Sprint(eventhandler.MQTTPassword(nil)); got != "" {
		t.Errorf("an absent password prints %q, want \"\"", got)
	}
}

func TestMQTTConnectAccepted(t *testing.T) {
	tests := []struct {
		name string
		file string
		resp *eventhandler.ConnectResponse
		want result
	}{
		{"nil response", "mqtt_connect.http", nil, result{Status: http.StatusNoContent}},
		{"user properties only", "mqtt311_connect.http",
			&eventhandler.ConnectResponse{MQTTUserProperties: []eventhandler.MQTTUserProperty{{Name: "a", Value: "b"}}},
			result{Status: http.StatusOK, ContentType: "application/json; charset=utf-8", Body: `{"mqtt":{"userProperties":[{"name":"a","value":"b"}]}}`}},
		{"user properties ignored for a WebSocket client", "connect.http",
			&eventhandler.ConnectResponse{MQTTUserProperties: []eventhandler.MQTTUserProperty{{Name: "a", Value: "b"}}},
			result{Status: http.StatusNoContent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			h := newHandler(t, c.handlers(tt.resp, nil, nil))
			if diff := cmp.Diff(tt.want, serve(h, loadRequest(t, tt.file))); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMQTTConnect311(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	serve(h, loadRequest(t, "mqtt311_connect.http"))
	want := &eventhandler.MQTTConnectProperties{ProtocolVersion: eventhandler.MQTTVersion311}
	if diff := cmp.Diff(want, c.connect.MQTT); diff != "" {
		t.Errorf("MQTT properties (-want +got):\n%s", diff)
	}
	if c.connect.ConnectionContext.MQTT.PhysicalConnectionID != "phys-8Xa1" {
		t.Errorf("PhysicalConnectionID = %q", c.connect.ConnectionContext.MQTT.PhysicalConnectionID)
	}
}

func TestMQTTConnectRejected(t *testing.T) {
	const jsonType = "application/json; charset=utf-8"
	tests := []struct {
		name string
		file string
		err  error
		want result
	}{
		{"RejectMQTT v5", "mqtt_connect.http",
			eventhandler.RejectMQTT(eventhandler.MQTT5Banned, "banned until noon", eventhandler.MQTTUserProperty{Name: "retry", Value: "12:00"}),
			result{Status: http.StatusForbidden, ContentType: jsonType,
				Body: `{"mqtt":{"code":138,"reason":"banned until noon","userProperties":[{"name":"retry","value":"12:00"}]}}`}},
		{"RejectMQTT rate", "mqtt_connect.http", eventhandler.RejectMQTT(eventhandler.MQTT5ConnectionRateExceeded, ""),
			result{Status: http.StatusTooManyRequests, ContentType: jsonType, Body: `{"mqtt":{"code":159}}`}},
		{"RejectMQTT v3.1.1", "mqtt311_connect.http", eventhandler.RejectMQTT(eventhandler.MQTT311NotAuthorized, "who are you"),
			result{Status: http.StatusUnauthorized, ContentType: jsonType, Body: `{"mqtt":{"code":5,"reason":"who are you"}}`}},
		{"Reject 401 v5", "mqtt_connect.http", eventhandler.Reject(http.StatusUnauthorized, "unknown device"),
			result{Status: http.StatusUnauthorized, ContentType: jsonType, Body: `{"mqtt":{"code":135,"reason":"unknown device"}}`}},
		{"Reject 400 v3.1.1", "mqtt311_connect.http", eventhandler.Reject(http.StatusBadRequest, "bad password"),
			result{Status: http.StatusBadRequest, ContentType: jsonType, Body: `{"mqtt":{"code":4,"reason":"bad password"}}`}},
		{"other error v5", "mqtt_connect.http", errBoom,
			result{Status: http.StatusInternalServerError, ContentType: jsonType, Body: `{"mqtt":{"code":128,"reason":"the event handler failed"}}`}},
		{"other error v3.1.1", "mqtt311_connect.http", fmt.Errorf("wrapped: %w", errBoom),
			result{Status: http.StatusInternalServerError, ContentType: jsonType, Body: `{"mqtt":{"code":3,"reason":"the event handler failed"}}`}},
		{"RejectMQTT for a WebSocket client", "connect.http", eventhandler.RejectMQTT(eventhandler.MQTT5NotAuthorized, "no"),
			result{Status: http.StatusUnauthorized, ContentType: "text/plain; charset=utf-8", Body: "no\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c calls
			h := newHandler(t, c.handlers(nil, nil, tt.err))
			if diff := cmp.Diff(tt.want, serve(h, loadRequest(t, tt.file))); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
	if got := eventhandler.RejectMQTT(eventhandler.MQTT5Banned, "x").Error(); !strings.Contains(got, "0x8a") {
		t.Errorf("Error() = %q, want the code in hex", got)
	}
}

func TestMQTTConnectedAndDisconnected(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	if got := serve(h, loadRequest(t, "mqtt_connected.http")); got.Status != http.StatusOK {
		t.Fatalf("connected: %+v", got)
	}
	wantConn := &eventhandler.ConnectedEvent{ConnectionContext: mqttContext("connected", "12", "2026-11-26T23:00:01Z", "sensor-7", "sess-Z81")}
	if diff := cmp.Diff(wantConn, c.conn); diff != "" {
		t.Errorf("ConnectedEvent (-want +got):\n%s", diff)
	}
	if got := serve(h, loadRequest(t, "mqtt_disconnected.http")); got.Status != http.StatusOK {
		t.Fatalf("disconnected: %+v", got)
	}
	wantDisc := &eventhandler.DisconnectedEvent{
		ConnectionContext: mqttContext("disconnected", "13", "2026-11-26T23:10:00Z", "sensor-7", "sess-Z81"),
		Reason:            "The client sent DISCONNECT.",
		MQTT: &eventhandler.MQTTDisconnect{InitiatedByClient: true, Packet: &eventhandler.MQTTDisconnectPacket{
			ReasonCode: 4, UserProperties: []eventhandler.MQTTUserProperty{{Name: "why", Value: "shutdown"}},
		}},
	}
	if diff := cmp.Diff(wantDisc, c.disc); diff != "" {
		t.Errorf("DisconnectedEvent (-want +got):\n%s", diff)
	}
}

func TestMQTTBadBodies(t *testing.T) {
	tests := []struct {
		name, file, from, to, want string
	}{
		{"no mqtt object", "mqtt311_connect.http", `,"mqtt":{"protocolVersion":4}`, ``, "has no mqtt object"},
		{"unknown protocol version", "mqtt311_connect.http", `"protocolVersion":4`, `"protocolVersion":3`, "protocolVersion is 3"},
		{"password not base64", "mqtt_connect.http", `"czNjcjN0"`, `"not base64!"`, "password is not base64"},
		{"mqtt not an object", "mqtt311_connect.http", `{"protocolVersion":4}`, `[]`, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := loadRequest(t, tt.file)
			req = rewriteBody(t, req, tt.from, tt.to)
			var c calls
			h := newHandler(t, c.handlers(nil, nil, nil))
			got := serve(h, req)
			if got.Status != http.StatusBadRequest || !strings.Contains(got.Body, tt.want) || c.n != 0 {
				t.Errorf("got %d %q after %d calls, want 400 with %q and no call", got.Status, got.Body, c.n, tt.want)
			}
		})
	}
}

// A WebSocket client's events never get MQTT fields, even with an mqtt
// object in the body or one of the two MQTT headers.
func TestMQTTFieldsOnlyForMQTTClients(t *testing.T) {
	var c calls
	h := newHandler(t, c.handlers(nil, nil, nil))
	req := rewriteBody(t, loadRequest(t, "disconnected.http"), `"reason"`, `"mqtt":{"initiatedByClient":true},"reason"`)
	req.Header.Set("ce-physicalConnectionId", "p-1")
	serve(h, req)
	if c.disc == nil || c.disc.MQTT != nil || c.disc.ConnectionContext.MQTT != nil {
		t.Errorf("WebSocket disconnected event got MQTT fields: %+v", c.disc)
	}
	req = loadRequest(t, "mqtt_connected.http")
	req.Header.Del("ce-physicalConnectionId")
	serve(h, req)
	if c.conn == nil || c.conn.ConnectionContext.MQTT != nil {
		t.Errorf("event without ce-physicalConnectionId got MQTT fields: %+v", c.conn)
	}
}

// rewriteBody replaces from with to in req's body, which must contain it.
func rewriteBody(t testing.TB, req *http.Request, from, to string) *http.Request {
	t.Helper()
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if !strings.Contains(body, from) {
		t.Fatalf("body does not contain %q", from)
	}
	body = strings.Replace(body, from, to, 1)
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	return req
}
