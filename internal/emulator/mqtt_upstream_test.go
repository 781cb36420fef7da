package emulator

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// MQTT clients' connect, connected and disconnected events carry
// ce-physicalConnectionId, ce-sessionId and the mqtt objects ("MQTT
// CloudEvents" page); the handler's answer is applied: a user id and roles
// on accept, its MQTT code on reject.
func TestMQTTUpstreamEvents(t *testing.T) {
	app := newUpstreamApp(t)
	s := newTestServer(t, WithUpstream(UpstreamSetting{Hub: "h", URLTemplate: app.srv.URL + "/{event}", SystemEvents: []string{"connect", "connected", "disconnected"}}))
	app.setAnswer(func(w http.ResponseWriter, p *recordedPost) {
		if p.path != "/connect" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var body wire.CEMQTTConnectBody
		if err := json.Unmarshal(p.body, &body); err != nil || body.MQTT == nil {
			t.Errorf("connect body %s: %v", p.body, err)
		}
		if body.MQTT != nil && body.MQTT.Username != nil && *body.MQTT.Username == "banned" {
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(wire.CEMQTTConnectFailure{MQTT: wire.CEMQTTConnectFailureProperties{Code: 0x8A, Reason: "you are banned"}})
			return
		}
		if body.MQTT != nil && body.MQTT.Username != nil && *body.MQTT.Username == "nobody" {
			w.WriteHeader(http.StatusUnauthorized) // no mqtt object: the code stands for the status
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(wire.CEConnectResponse{UserID: "alice", Roles: []string{wire.RoleSendToGroup}})
	})
	tok := s.mqttToken("h", clientOpts{}, nil)

	user := "banned"
	c, ack := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "b1", CleanStart: true, HasUsername: true, Username: user})
	if ack.Code != 0x8A || !contains(ack.Props.ReasonString, "you are banned") {
		t.Errorf("rejected CONNACK code 0x%02X reason %q, want 0x8A with \"you are banned\"", ack.Code, ack.Props.ReasonString)
	}
	c.closed()
	_, ack = s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "n1", CleanStart: true, HasUsername: true, Username: "nobody"})
	if ack.Code != mqtt.ConnRefusedNotAuthorized {
		t.Errorf("401 without an mqtt code: CONNACK 0x%02X, want 0x05", ack.Code)
	}

	cp := &mqtt.Connect{Version: mqtt.Version5, ClientID: "dev1", CleanStart: true, HasUsername: true, Username: "u", HasPassword: true, Password: []byte{1, 2},
		Props: mqtt.Properties{UserProperties: []mqtt.UserProperty{{Key: "k", Value: "v"}}}}
	c, ack = s.connectMQTT(s.mqttURL("h", tok), cp)
	if ack.Code != 0 {
		t.Fatalf("CONNACK 0x%02X", ack.Code)
	}
	// The handler's roles apply: publishing works.
	c.send(&mqtt.Publish{QoS: 1, PacketID: 1, Topic: "g", Payload: []byte("x")})
	c.expectAck(mqtt.TypePuback, 1, 0)
	c.send(&mqtt.Disconnect{Props: mqtt.Properties{UserProperties: []mqtt.UserProperty{{Key: "why", Value: "done"}}}})
	c.closed()

	var connect, connected, disconnected *recordedPost
	eventually(t, "the disconnected event", func() bool {
		_, posts := app.recorded()
		for _, p := range posts {
			if p.header.Get(wire.HeaderCEConnectionID) != "dev1" {
				continue
			}
			switch p.path {
			case "/connect":
				connect = p
			case "/connected":
				connected = p
			case "/disconnected":
				disconnected = p
			}
		}
		return disconnected != nil
	})
	var body wire.CEMQTTConnectBody
	if err := json.Unmarshal(connect.body, &body); err != nil {
		t.Fatal(err)
	}
	pw := "AQI="
	wantMQTT := &wire.CEMQTTConnectProperties{ProtocolVersion: 5, Username: &user, Password: &pw, UserProperties: []wire.CEMQTTUserProperty{{Name: "k", Value: "v"}}}
	wantMQTT.Username = &cp.Username
	if diff := cmp.Diff(wantMQTT, body.MQTT); diff != "" {
		t.Errorf("connect mqtt object (-want +got):\n%s", diff)
	}
	phys := connect.header.Get(wire.HeaderCEPhysicalConnectionID)
	if phys == "" || connect.header.Get(wire.HeaderCESubprotocol) != wire.SubprotocolMQTT {
		t.Errorf("connect headers %v", connect.header)
	}
	for _, p := range []*recordedPost{connected, disconnected} {
		if p.header.Get(wire.HeaderCEPhysicalConnectionID) != phys || p.header.Get(wire.HeaderCESessionID) == "" || p.header.Get(wire.HeaderCEUserID) != "alice" {
			t.Errorf("%s headers %v, want physical connection id %s, a session id and user alice", p.path, p.header, phys)
		}
	}
	var db wire.CEMQTTDisconnectedBody
	if err := json.Unmarshal(disconnected.body, &db); err != nil {
		t.Fatal(err)
	}
	want := &wire.CEMQTTDisconnectedProperties{InitiatedByClient: true, DisconnectPacket: &wire.CEMQTTDisconnectPacket{Code: 0, UserProperties: []wire.CEMQTTUserProperty{{Name: "why", Value: "done"}}}}
	if diff := cmp.Diff(want, db.MQTT); diff != "" {
		t.Errorf("disconnected mqtt object (-want +got):\n%s", diff)
	}
}
