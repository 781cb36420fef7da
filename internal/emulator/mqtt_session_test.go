package emulator

import (
	"testing"
	"time"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// A persistent session survives a dropped connection: messages published
// meanwhile wait, unacknowledged ones are resent with DUP, a QoS 2 flow
// resumes at PUBREL, and a clean start discards the session.
func TestMQTTPersistentSession(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}}, nil)
	pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "pub", CleanStart: true})
	for _, v := range mqttVersions {
		t.Run(v.name, func(t *testing.T) {
			cp := mqtt.Connect{Version: v.v, ClientID: "dev" + string('0'+v.v)}
			if v.v == mqtt.Version5 {
				cp.Props.SessionExpiry = u32p(30)
			}
			first := cp // 3.1.1: clean session 0 makes a persistent session
			first.CleanStart = v.v == mqtt.Version5
			sub, ack := s.connectMQTT(s.mqttURL("h", tok), &first)
			if ack.SessionPresent {
				t.Fatal("a clean start has a session present")
			}
			sub.mustSubscribe("t", 2)
			pub.send(&mqtt.Publish{QoS: 1, PacketID: 1, Topic: "t", Payload: []byte("m1")})
			pub.expectAck(mqtt.TypePuback, 1, 0)
			m1 := sub.nextPublish() // not acknowledged before the drop
			pub.send(&mqtt.Publish{QoS: 2, PacketID: 2, Topic: "t", Payload: []byte("m2")})
			pub.expectAck(mqtt.TypePubrec, 2, 0)
			pub.send(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: 2})
			pub.expectAck(mqtt.TypePubcomp, 2, 0)
			m2 := sub.nextPublish()
			sub.send(&mqtt.Ack{Kind: mqtt.TypePubrec, PacketID: m2.PacketID})
			sub.expectAck(mqtt.TypePubrel, m2.PacketID, 0) // PUBCOMP not sent before the drop
			sub.drop()
			eventually(t, "the drop to be noticed", func() bool {
				c := s.e.lookup("h", cp.ClientID)
				if c == nil {
					return false
				}
				c.mu.Lock()
				defer c.mu.Unlock()
				return c.phys == nil
			})
			pub.send(&mqtt.Publish{QoS: 1, PacketID: 3, Topic: "t", Payload: []byte("m3")})
			pub.expectAck(mqtt.TypePuback, 3, 0)

			again, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
			if !ack.SessionPresent {
				t.Fatal("resumed without a session present")
			}
			r1 := again.nextPublish()
			if !r1.Dup || r1.PacketID != m1.PacketID || string(r1.Payload) != "m1" {
				t.Errorf("resent %+v, want m1 with DUP and packet id %d", r1, m1.PacketID)
			}
			again.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: r1.PacketID})
			again.expectAck(mqtt.TypePubrel, m2.PacketID, 0)
			again.send(&mqtt.Ack{Kind: mqtt.TypePubcomp, PacketID: m2.PacketID})
			r3 := again.nextPublish()
			if r3.Dup || string(r3.Payload) != "m3" {
				t.Errorf("got %+v, want m3", r3)
			}
			again.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: r3.PacketID})
			again.expectNothing(100 * time.Millisecond)
			again.send(&mqtt.Disconnect{})
			again.closed()

			// A clean start discards the session: no subscription left.
			fresh := cp
			fresh.CleanStart = true
			c3, ack := s.connectMQTT(s.mqttURL("h", tok), &fresh)
			if ack.SessionPresent {
				t.Error("a clean start resumed the session")
			}
			pub.send(&mqtt.Publish{Topic: "t", Payload: []byte("m4")})
			c3.expectNothing(100 * time.Millisecond)
		})
	}
	t.Run("takeover", func(t *testing.T) {
		cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "twin", CleanStart: true}
		a, _ := s.connectMQTT(s.mqttURL("h", tok), &cp)
		_, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
		if ack.Code != 0 {
			t.Fatalf("second connection refused: 0x%02X", ack.Code)
		}
		if got := a.closed(); len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeSessionTakenOver {
			t.Errorf("first connection got %+v, want DISCONNECT 0x8E", got)
		}
		other := s.mqttToken("h", clientOpts{user: "someone else"}, nil)
		if _, ack := s.connectMQTT(s.mqttURL("h", other), &cp); ack.Code != mqtt.CodeClientIdentifierNotValid {
			t.Errorf("another user's takeover: 0x%02X, want 0x85", ack.Code)
		}
	})
	t.Run("5.0 session expiry 0 ends at the drop", func(t *testing.T) {
		cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "brief"}
		c, _ := s.connectMQTT(s.mqttURL("h", tok), &cp)
		c.drop()
		eventually(t, "the session to end", func() bool { return !s.e.exists("h", scopeConnection, "brief") })
	})
}

// A will is published when a client drops, not when it disconnects
// normally; a 5.0 "disconnect with will" publishes it too.
func TestMQTTWill(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{roles: []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}}, nil)
	watcher, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "watch", CleanStart: true})
	watcher.mustSubscribe("status", 1)
	will := func(v byte, id string) *mqtt.Connect {
		w := &mqtt.Will{Topic: "status", Payload: []byte(id + " gone"), QoS: 1}
		if v == mqtt.Version5 {
			w.Props.HasContentType, w.Props.ContentType = true, wire.ContentTypeText
		}
		return &mqtt.Connect{Version: v, ClientID: id, CleanStart: true, Will: w}
	}
	for _, v := range mqttVersions {
		t.Run(v.name, func(t *testing.T) {
			id := "w" + string('0'+v.v)
			c, _ := s.connectMQTT(s.mqttURL("h", tok), will(v.v, id))
			c.drop()
			got := watcher.nextPublish()
			if string(got.Payload) != id+" gone" || got.QoS != 1 {
				t.Errorf("will %+v", got)
			}
			if v.v == mqtt.Version5 && got.Props.ContentType != wire.ContentTypeText {
				t.Errorf("will content type %q", got.Props.ContentType)
			}
			watcher.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: got.PacketID})

			c, _ = s.connectMQTT(s.mqttURL("h", tok), will(v.v, id))
			c.send(&mqtt.Disconnect{})
			c.closed()
			watcher.expectNothing(200 * time.Millisecond)
		})
	}
	t.Run("5.0 disconnect with will", func(t *testing.T) {
		c, _ := s.connectMQTT(s.mqttURL("h", tok), will(mqtt.Version5, "ww"))
		c.send(&mqtt.Disconnect{Code: mqtt.CodeDisconnectWithWill})
		if got := watcher.nextPublish(); string(got.Payload) != "ww gone" {
			t.Errorf("will %+v", got)
		}
	})
}

// QoS 2 is exactly once through a drop at every step of the publisher's
// flow, with a client that follows MQTT: after a drop before PUBREC it
// resends the PUBLISH with DUP; after a drop before PUBCOMP it resends
// PUBREL. The subscriber gets each message once.
func TestMQTTQoS2ExactlyOnceThroughDrops(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{roles: []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}}, nil)
	sub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "sub", CleanStart: true})
	sub.mustSubscribe("t", 0)
	for _, v := range mqttVersions {
		cp := mqtt.Connect{Version: v.v, ClientID: "pub" + string('0'+v.v)}
		if v.v == mqtt.Version5 {
			cp.Props.SessionExpiry = u32p(30)
		}
		reconnect := func(c *mqttClient) *mqttClient {
			c.drop()
			n, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
			if !ack.SessionPresent {
				t.Fatalf("%s: session not present after the drop", v.name)
			}
			return n
		}
		pub, _ := s.connectMQTT(s.mqttURL("h", tok), &cp)
		// Drop before PUBREC reached the client.
		pub.send(&mqtt.Publish{QoS: 2, PacketID: 10, Topic: "t", Payload: []byte("a" + v.name)})
		pub = reconnect(pub)
		pub.send(&mqtt.Publish{QoS: 2, PacketID: 10, Dup: true, Topic: "t", Payload: []byte("a" + v.name)})
		pub.expectAck(mqtt.TypePubrec, 10, 0)
		// Drop before PUBCOMP reached the client.
		pub.send(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: 10})
		pub = reconnect(pub)
		pub.send(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: 10})
		code := byte(0)
		if v.v == mqtt.Version5 {
			code = mqtt.CodePacketIdentifierNotFound // the first PUBREL released it
		}
		for {
			p := pub.next()
			if a, ok := p.(*mqtt.Ack); ok && a.Kind == mqtt.TypePubcomp {
				if a.PacketID != 10 || (a.Code != 0 && a.Code != code) {
					t.Errorf("%s: PUBCOMP %+v", v.name, a)
				}
				break
			}
		}
		if got := sub.nextPublish(); string(got.Payload) != "a"+v.name {
			t.Errorf("%s: got %q", v.name, got.Payload)
		}
		sub.expectNothing(200 * time.Millisecond)
		pub.send(&mqtt.Disconnect{})
	}
}
