package emulator

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// Unsupported features and missing permissions are refused with the
// documented codes in both versions: SUBACK failure codes, 5.0 PUBACK and
// DISCONNECT reason codes, and a closed connection where 3.1.1 has none.
func TestMQTTSubscribeAndPublishRefusals(t *testing.T) {
	s := newTestServer(t)
	limited := s.mqttToken("h", clientOpts{roles: []string{wire.RoleJoinLeaveGroup + ".ok", wire.RoleSendToGroup + ".ok"}}, nil)
	for _, v := range mqttVersions {
		t.Run(v.name+"/subscribe", func(t *testing.T) {
			c, _ := s.connectMQTT(s.mqttURL("h", limited), &mqtt.Connect{Version: v.v, ClientID: "s" + v.name[:1], CleanStart: true})
			codes := c.subscribe(1, mqtt.Properties{},
				mqtt.Subscription{Filter: "ok", QoS: 1},
				mqtt.Subscription{Filter: "a/+", QoS: 1},
				mqtt.Subscription{Filter: "#", QoS: 0},
				mqtt.Subscription{Filter: "$share/x/ok", QoS: 0},
				mqtt.Subscription{Filter: "secret", QoS: 0},
				mqtt.Subscription{Filter: "   ", QoS: 0},
			)
			want := []byte{1, 0xA2, 0xA2, 0x9E, 0x87, 0x8F}
			if v.v == mqtt.Version311 {
				want = []byte{1, 0x80, 0x80, 0x80, 0x80, 0x80}
			}
			if !cmp.Equal(codes, want) {
				t.Errorf("SUBACK codes % X, want % X", codes, want)
			}
		})
	}
	refusals := []struct {
		name string
		pub  mqtt.Publish
		code byte // 5.0 DISCONNECT reason
	}{
		{"retained", mqtt.Publish{Topic: "ok", Retain: true, Payload: []byte("r")}, mqtt.CodeRetainNotSupported},
		{"wildcard topic", mqtt.Publish{Topic: "ok/#", Payload: []byte("w")}, mqtt.CodeTopicNameInvalid},
		{"server topic", mqtt.Publish{Topic: wire.TopicServerMessages, Payload: []byte("spoof")}, mqtt.CodeTopicNameInvalid},
		{"other $ topic", mqtt.Publish{Topic: "$SYS/x", Payload: []byte("spoof")}, mqtt.CodeTopicNameInvalid},
		{"no permission qos 0", mqtt.Publish{Topic: "secret", Payload: []byte("x")}, mqtt.CodeNotAuthorized},
		{"no permission qos 1 (3.1.1)", mqtt.Publish{Topic: "secret", QoS: 1, PacketID: 3, Payload: []byte("x")}, mqtt.CodeNotAuthorized},
	}
	for _, v := range mqttVersions {
		for _, tt := range refusals {
			t.Run(v.name+"/publish "+tt.name, func(t *testing.T) {
				c, _ := s.connectMQTT(s.mqttURL("h", limited), &mqtt.Connect{Version: v.v, ClientID: "p", CleanStart: true})
				pub := tt.pub
				c.send(&pub)
				if v.v == mqtt.Version5 && pub.QoS == 1 {
					c.expectAck(mqtt.TypePuback, 3, mqtt.CodeNotAuthorized)
					return
				}
				got := c.closed()
				if v.v == mqtt.Version311 {
					if len(got) != 0 {
						t.Errorf("3.1.1 got %v before the close, want nothing", got)
					}
					return
				}
				if len(got) != 1 || got[0].(*mqtt.Disconnect).Code != tt.code {
					t.Errorf("got %+v, want DISCONNECT 0x%02X", got, tt.code)
				}
			})
		}
	}
	t.Run("5.0/publish to the server topic with every permission", func(t *testing.T) {
		all := s.mqttToken("h", clientOpts{roles: []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}}, nil)
		c, _ := s.connectMQTT(s.mqttURL("h", all), &mqtt.Connect{Version: mqtt.Version5, ClientID: "spoofer", CleanStart: true})
		c.send(&mqtt.Publish{Topic: wire.TopicServerMessages, QoS: 1, PacketID: 9, Payload: []byte("spoof")})
		if got := c.closed(); len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeTopicNameInvalid {
			t.Errorf("got %+v, want DISCONNECT 0x%02X (topic name invalid)", got, mqtt.CodeTopicNameInvalid)
		}
	})
	t.Run("5.0/publish no permission qos 2", func(t *testing.T) {
		c, _ := s.connectMQTT(s.mqttURL("h", limited), &mqtt.Connect{Version: mqtt.Version5, ClientID: "p2", CleanStart: true})
		c.send(&mqtt.Publish{Topic: "secret", QoS: 2, PacketID: 4})
		c.expectAck(mqtt.TypePubrec, 4, mqtt.CodeNotAuthorized)
	})
	t.Run("5.0/topic alias", func(t *testing.T) {
		c, _ := s.connectMQTT(s.mqttURL("h", limited), &mqtt.Connect{Version: mqtt.Version5, ClientID: "p3", CleanStart: true})
		c.send(&mqtt.Publish{Topic: "ok", Props: mqtt.Properties{TopicAlias: u16p(1)}})
		if got := c.closed(); len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeTopicAliasInvalid {
			t.Errorf("got %+v, want DISCONNECT 0x94", got)
		}
	})
	t.Run("5.0/connack announces what is not supported", func(t *testing.T) {
		c, ack := s.connectMQTT(s.mqttURL("h", limited), &mqtt.Connect{Version: mqtt.Version5, ClientID: "p4", CleanStart: true, Props: mqtt.Properties{SessionExpiry: u32p(3600)}})
		zero, one := byte(0), byte(1)
		want := mqtt.Properties{ReceiveMaximum: u16p(mqttReceiveMaximum), MaximumPacketSize: u32p(mqttMaxPacketBytes), RetainAvailable: &zero,
			WildcardSubAvailable: &zero, SharedSubAvailable: &zero, SubIDAvailable: &one, SessionExpiry: u32p(30)}
		if diff := cmp.Diff(want, ack.Props); diff != "" {
			t.Errorf("CONNACK properties (-want +got):\n%s", diff)
		}
		c.send(&mqtt.Disconnect{})
	})
	t.Run("malformed packet", func(t *testing.T) {
		c, _ := s.connectMQTT(s.mqttURL("h", limited), &mqtt.Connect{Version: mqtt.Version5, ClientID: "p5", CleanStart: true})
		if err := c.ws.Write(t.Context(), 2, []byte{0x36, 3, 0, 1, 'a'}); err != nil { // QoS 3
			t.Fatal(err)
		}
		if got := c.closed(); len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeMalformedPacket {
			t.Errorf("got %+v, want DISCONNECT 0x81", got)
		}
	})
}

// MQTT and json.webpubsub clients talk to each other in one hub with the
// documented content-type mapping, and REST reaches MQTT clients.
func TestMQTTCrossProtocol(t *testing.T) {
	s := newTestServer(t)
	roles := []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}
	tok := s.mqttToken("h", clientOpts{user: "dev", roles: roles}, nil)
	m5, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "m5", CleanStart: true})
	m3, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "m3", CleanStart: true})
	m5.mustSubscribe("g", 2)
	m3.mustSubscribe("g", 0)
	j := s.connect("h", clientOpts{user: "web", roles: roles, subprotocol: "-"})
	j.mustAck(1, map[string]any{"type": "joinGroup", "group": "g"})

	// MQTT → Web PubSub: 5.0 content type → dataType; 3.1.1 → binary.
	cases := []struct {
		from     *mqttClient
		ct       string
		payload  string
		dataType string
		data     any
	}{
		{m5, wire.ContentTypeJSON, `{"t":21}`, "json", map[string]any{"t": float64(21)}},
		{m5, wire.ContentTypeText, "hello", "text", "hello"},
		{m5, wire.ContentTypeBinary, "\x00\x01", "binary", "AAE="},
		{m5, "", "raw", "binary", "cmF3"},
		{m5, wire.ContentTypeJSON, "{not json", "binary", "e25vdCBqc29u"},
		{m3, "", `{"t":1}`, "binary", "eyJ0IjoxfQ=="},
	}
	for _, tc := range cases {
		p := &mqtt.Publish{QoS: 1, PacketID: 1, Topic: "g", Payload: []byte(tc.payload)}
		if tc.ct != "" {
			p.Props.HasContentType, p.Props.ContentType = true, tc.ct
		}
		tc.from.send(p)
		m := j.next()
		want := map[string]any{"type": "message", "from": "group", "group": "g", "fromUserId": "dev", "dataType": tc.dataType, "data": tc.data}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("%q as %q (-want +got):\n%s", tc.payload, tc.ct, diff)
		}
	}
	drain := func(c *mqttClient, n int) {
		for range n {
			p := c.next()
			if pub, ok := p.(*mqtt.Publish); ok && pub.QoS == 1 {
				c.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: pub.PacketID})
			}
			if pub, ok := p.(*mqtt.Publish); ok && pub.QoS == 2 {
				c.send(&mqtt.Ack{Kind: mqtt.TypePubrec, PacketID: pub.PacketID})
				c.next() // PUBREL
				c.send(&mqtt.Ack{Kind: mqtt.TypePubcomp, PacketID: pub.PacketID})
			}
		}
	}
	// m5: a PUBACK and its own echo for each of its 5, and m3's message;
	// m3: its PUBACK and the 6 messages at QoS 0.
	drain(m5, 5+5+1)
	drain(m3, 1+len(cases))

	// Web PubSub → MQTT: QoS 1 (downgraded by the subscription), content type from dataType.
	j.mustAck(2, map[string]any{"type": "sendToGroup", "group": "g", "dataType": "text", "data": "from web"})
	got := m5.nextPublish()
	if got.QoS != 1 || string(got.Payload) != "from web" || got.Props.ContentType != wire.ContentTypeText {
		t.Errorf("5.0 client got %+v", got)
	}
	m5.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: got.PacketID})
	if got := m3.nextPublish(); got.QoS != 0 || string(got.Payload) != "from web" {
		t.Errorf("3.1.1 client got %+v", got)
	}

	// REST: sends to all, user and connection arrive on
	// $webpubsub/server/messages at QoS 1; a group send on the topic.
	for _, path := range []string{"/:send", "/users/dev/:send", "/connections/m5/:send"} {
		s.mustStatus(202, http.MethodPost, hubPath("h", path), nil, "application/json", []byte(`{"n":1}`))
		got := m5.nextPublish()
		if got.Topic != wire.TopicServerMessages || got.QoS != 1 || string(got.Payload) != `{"n":1}` || got.Props.ContentType != wire.ContentTypeJSON {
			t.Errorf("%s: got %+v", path, got)
		}
		m5.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: got.PacketID})
	}
	s.mustStatus(202, http.MethodPost, hubPath("h", "/groups/g/:send"), nil, "text/plain", []byte("grp"))
	if got := m5.nextPublish(); got.Topic != "g" || string(got.Payload) != "grp" {
		t.Errorf("group send: got %+v", got)
	}

	// m3 (same user) got the sends to all and to the user, and the group send.
	for _, want := range []string{wire.TopicServerMessages, wire.TopicServerMessages, "g"} {
		got := m3.nextPublish()
		if got.Topic != want {
			t.Errorf("3.1.1 client got topic %q, want %q", got.Topic, want)
		}
		if got.QoS == 1 {
			m3.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: got.PacketID})
		}
	}

	// REST group operations add and remove subscriptions; permissions act.
	s.mustStatus(200, http.MethodPut, hubPath("h", "/groups/other/connections/m3"), nil, "", nil)
	s.mustStatus(202, http.MethodPost, hubPath("h", "/groups/other/:send"), nil, "text/plain", []byte("o"))
	if got := m3.nextPublish(); got.Topic != "other" {
		t.Errorf("after REST add: got %+v", got)
	}
	if !s.e.exists("h", scopeUser, "dev") {
		t.Error("the MQTT clients' user does not exist")
	}
	restricted := s.mqttToken("h", clientOpts{}, nil)
	r5, _ := s.connectMQTT(s.mqttURL("h", restricted), &mqtt.Connect{Version: mqtt.Version5, ClientID: "r5", CleanStart: true})
	r5.send(&mqtt.Publish{QoS: 1, PacketID: 2, Topic: "g"})
	r5.expectAck(mqtt.TypePuback, 2, mqtt.CodeNotAuthorized)
	s.mustStatus(200, http.MethodPut, hubPath("h", "/permissions/sendToGroup/connections/r5"), url.Values{"targetName": {"g"}}, "", nil)
	r5.send(&mqtt.Publish{QoS: 1, PacketID: 3, Topic: "g", Payload: []byte("granted")})
	r5.expectAck(mqtt.TypePuback, 3, 0)

	// REST close: a 5.0 client gets DISCONNECT "administrative action".
	s.mustStatus(204, http.MethodDelete, hubPath("h", "/connections/r5"), url.Values{"reason": {"bye"}}, "", nil)
	if got := r5.closed(); len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeAdministrativeAction || got[0].(*mqtt.Disconnect).Props.ReasonString != "bye" {
		t.Errorf("got %+v, want DISCONNECT 0x98 \"bye\"", got)
	}
}
