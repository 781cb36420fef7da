package emulator

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

var mqttVersions = []struct {
	name string
	v    byte
}{{"3.1.1", mqtt.Version311}, {"5.0", mqtt.Version5}}

func u16p(v uint16) *uint16 { return &v }
func u32p(v uint32) *uint32 { return &v }

// Every documented connect refusal gets its CONNACK code in both versions.
func TestMQTTConnectRefusals(t *testing.T) {
	s := newTestServer(t)
	good := s.mqttToken("h", clientOpts{}, nil)
	expired := s.mqttToken("h", clientOpts{}, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})
	otherKey := signToken(t, "another key entirely, not the emulator's", jwt.MapClaims{"aud": s.srv.URL + wire.ClientPathMQTT + "h"})
	tests := []struct {
		name           string
		token          string
		cp             mqtt.Connect
		code311, code5 byte
	}{
		{"accepted", good, mqtt.Connect{ClientID: "c1", KeepAlive: 60}, 0, 0},
		{"missing token", "", mqtt.Connect{ClientID: "c1", KeepAlive: 60}, 0x05, 0x87},
		{"expired token", expired, mqtt.Connect{ClientID: "c1", KeepAlive: 60}, 0x05, 0x87},
		{"token signed with another key", otherKey, mqtt.Connect{ClientID: "c1", KeepAlive: 60}, 0x05, 0x87},
		{"client id with a hyphen", good, mqtt.Connect{ClientID: "a-b", KeepAlive: 60}, 0x02, 0x85},
		{"client id of 129 characters", good, mqtt.Connect{ClientID: strings.Repeat("a", 129), KeepAlive: 60}, 0x02, 0x85},
		{"client id of 128 characters", good, mqtt.Connect{ClientID: strings.Repeat("a", 128), KeepAlive: 60}, 0, 0},
		{"keep-alive 0", good, mqtt.Connect{ClientID: "c1", KeepAlive: 0}, 0x03, 0},
		{"keep-alive 181", good, mqtt.Connect{ClientID: "c1", KeepAlive: 181}, 0x03, 0},
		{"keep-alive 180", good, mqtt.Connect{ClientID: "c1", KeepAlive: 180}, 0, 0},
		{"will topic whitespace", good, mqtt.Connect{ClientID: "c1", KeepAlive: 60, Will: &mqtt.Will{Topic: "  ", Payload: []byte("x")}}, 0x03, 0x90},
		{"will topic of 1025 characters", good, mqtt.Connect{ClientID: "c1", KeepAlive: 60, Will: &mqtt.Will{Topic: strings.Repeat("t", 1025)}}, 0x03, 0x90},
		{"will message of 2001 bytes", good, mqtt.Connect{ClientID: "c1", KeepAlive: 60, Will: &mqtt.Will{Topic: "t", Payload: make([]byte, 2001)}}, 0x03, 0x95},
		{"will message of 2000 bytes", good, mqtt.Connect{ClientID: "c1", KeepAlive: 60, Will: &mqtt.Will{Topic: "t", Payload: make([]byte, 2000)}}, 0, 0},
		{"will retain", good, mqtt.Connect{ClientID: "c1", KeepAlive: 60, Will: &mqtt.Will{Topic: "t", Retain: true}}, 0x03, 0x9A},
	}
	for _, v := range mqttVersions {
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				cp := tt.cp
				cp.Version = v.v
				cp.CleanStart = true
				want := tt.code311
				if v.v == mqtt.Version5 {
					want = tt.code5
				}
				if cp.KeepAlive == 0 && v.v == mqtt.Version311 {
					// connect() fills in a keep-alive of 60 for 0: send raw.
					c := s.dialMQTT(s.mqttURL("h", tt.token), nil)
					c.send(&cp)
					c.start(mqtt.Version311)
					c.start = nil
					ack, ok := c.next().(*mqtt.Connack)
					if !ok || ack.Code != want {
						t.Fatalf("CONNACK %+v, want code 0x%02X", ack, want)
					}
					return
				}
				c, ack := s.connectMQTT(s.mqttURL("h", tt.token), &cp)
				if ack.Code != want {
					t.Fatalf("CONNACK code 0x%02X (reason %q), want 0x%02X", ack.Code, ack.Props.ReasonString, want)
				}
				if want != 0 {
					if v.v == mqtt.Version5 && !ack.Props.HasReasonString {
						t.Error("a 5.0 refusal has no reason string")
					}
					c.closed()
					return
				}
				c.send(&mqtt.Disconnect{})
				c.closed()
			})
		}
	}
	t.Run("3.1.1/empty client id", func(t *testing.T) {
		_, ack := s.connectMQTT(s.mqttURL("h", good), &mqtt.Connect{Version: mqtt.Version311, CleanStart: true})
		if ack.Code != mqtt.ConnRefusedIdentifier {
			t.Errorf("code 0x%02X, want 0x02", ack.Code)
		}
	})
	t.Run("5.0/empty client id is assigned", func(t *testing.T) {
		c, ack := s.connectMQTT(s.mqttURL("h", good), &mqtt.Connect{Version: mqtt.Version5, CleanStart: true})
		if ack.Code != 0 || !ack.Props.HasAssignedClientID || len(ack.Props.AssignedClientID) != 32 {
			t.Fatalf("CONNACK %+v, want an assigned client id", ack)
		}
		if !s.e.exists("h", scopeConnection, ack.Props.AssignedClientID) {
			t.Error("the assigned client id is not the connection id")
		}
		c.send(&mqtt.Disconnect{})
	})
	t.Run("5.0/enhanced authentication", func(t *testing.T) {
		cp := &mqtt.Connect{Version: mqtt.Version5, ClientID: "c1", CleanStart: true}
		cp.Props.HasAuthMethod, cp.Props.AuthMethod = true, "SCRAM-SHA-1"
		if _, ack := s.connectMQTT(s.mqttURL("h", good), cp); ack.Code != mqtt.CodeBadAuthenticationMethod {
			t.Errorf("code 0x%02X, want 0x8C", ack.Code)
		}
	})
	t.Run("MQTT 3.1 protocol level", func(t *testing.T) {
		c := s.dialMQTT(s.mqttURL("h", good), nil)
		c.send(&mqtt.Connect{ProtocolName: "MQIsdp", Version: 3, ClientID: "c1", KeepAlive: 60})
		c.start(mqtt.Version311)
		c.start = nil
		if ack, ok := c.next().(*mqtt.Connack); !ok || ack.Code != mqtt.ConnRefusedVersion {
			t.Errorf("got %+v, want CONNACK 0x01", ack)
		}
	})
	t.Run("bearer header", func(t *testing.T) {
		c := s.dialMQTT(s.mqttURL("h", ""), http.Header{"Authorization": {"Bearer " + good}})
		if ack := c.connect(&mqtt.Connect{ClientID: "c9", CleanStart: true}); ack.Code != 0 {
			t.Errorf("code 0x%02X, want 0", ack.Code)
		}
	})
	t.Run("no mqtt subprotocol", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.srv.URL+wire.ClientPathMQTT+"h?access_token="+good, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(make([]byte, 16)))
		resp, body := s.do(req)
		if resp.StatusCode != http.StatusBadRequest || !contains(string(body), "mqtt") {
			t.Errorf("status %d body %s, want 400 naming the mqtt subprotocol", resp.StatusCode, body)
		}
	})
}

// Subscriptions and publications among MQTT clients of both versions: QoS
// 0/1/2 with downgrade, subscription identifiers, no-local.
func TestMQTTPubSub(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{roles: []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}}, nil)
	sub3, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "sub3", CleanStart: true})
	sub5, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "sub5", CleanStart: true})
	pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "pub", CleanStart: true})
	sub3.mustSubscribe("g", 2)
	if codes := sub5.subscribe(2, mqtt.Properties{SubscriptionIDs: []int{42}}, mqtt.Subscription{Filter: "g", QoS: 1}); !cmp.Equal(codes, []byte{1}) {
		t.Fatalf("SUBACK % X", codes)
	}
	if codes := pub.subscribe(3, mqtt.Properties{}, mqtt.Subscription{Filter: "g", QoS: 0, NoLocal: true}); !cmp.Equal(codes, []byte{0}) {
		t.Fatalf("SUBACK % X", codes)
	}

	// QoS 2 from a 5.0 publisher with a content type.
	p := &mqtt.Publish{QoS: 2, Topic: "g", PacketID: 7, Payload: []byte(`{"a":1}`)}
	p.Props.HasContentType, p.Props.ContentType = true, wire.ContentTypeJSON
	pub.send(p)
	pub.expectAck(mqtt.TypePubrec, 7, 0)
	pub.send(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: 7})
	pub.expectAck(mqtt.TypePubcomp, 7, 0)
	pub.expectNothing(100 * time.Millisecond) // no-local

	got3 := sub3.nextPublish()
	if got3.QoS != 2 || got3.Topic != "g" || string(got3.Payload) != `{"a":1}` || got3.PacketID == 0 {
		t.Fatalf("3.1.1 subscriber got %+v", got3)
	}
	sub3.send(&mqtt.Ack{Kind: mqtt.TypePubrec, PacketID: got3.PacketID})
	sub3.expectAck(mqtt.TypePubrel, got3.PacketID, 0)
	sub3.send(&mqtt.Ack{Kind: mqtt.TypePubcomp, PacketID: got3.PacketID})

	got5 := sub5.nextPublish()
	if got5.QoS != 1 || got5.Props.ContentType != wire.ContentTypeJSON || !cmp.Equal(got5.Props.SubscriptionIDs, []int{42}) {
		t.Fatalf("5.0 subscriber got %+v, want QoS 1 (downgraded), the content type and subscription id 42", got5)
	}
	sub5.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: got5.PacketID})

	// A duplicate QoS 2 PUBLISH (the publisher did not see PUBREC) is
	// acknowledged again but not delivered again.
	p2 := &mqtt.Publish{QoS: 2, Topic: "g", PacketID: 8, Payload: []byte("once")}
	pub.send(p2)
	pub.expectAck(mqtt.TypePubrec, 8, 0)
	p2.Dup = true
	pub.send(p2)
	pub.expectAck(mqtt.TypePubrec, 8, 0)
	pub.send(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: 8})
	pub.expectAck(mqtt.TypePubcomp, 8, 0)
	g3 := sub3.nextPublish()
	if string(g3.Payload) != "once" {
		t.Fatalf("got %q", g3.Payload)
	}
	sub3.send(&mqtt.Ack{Kind: mqtt.TypePubrec, PacketID: g3.PacketID})
	sub3.expectAck(mqtt.TypePubrel, g3.PacketID, 0)
	sub3.send(&mqtt.Ack{Kind: mqtt.TypePubcomp, PacketID: g3.PacketID})
	sub3.expectNothing(100 * time.Millisecond)
	if g := sub5.nextPublish(); string(g.Payload) != "once" {
		t.Fatalf("got %q", g.Payload)
	}
	sub5.expectNothing(100 * time.Millisecond)

	// QoS 0 ping and pong.
	sub3.send(&mqtt.Pingreq{})
	if _, ok := sub3.next().(*mqtt.Pingresp); !ok {
		t.Fatal("no PINGRESP")
	}
	// Unsubscribe.
	sub5.send(&mqtt.Unsubscribe{PacketID: 9, Filters: []string{"g", "nothere"}})
	if u, ok := sub5.next().(*mqtt.Unsuback); !ok || !cmp.Equal(u.Codes, []byte{0, 0x11}) {
		t.Fatalf("UNSUBACK %+v", u)
	}
	pub.send(&mqtt.Publish{Topic: "g", Payload: []byte("after")})
	sub5.expectNothing(100 * time.Millisecond)
}
