package emulator

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// Probes of the MQTT endpoint by a hostile client (docs/RELIABILITY.md,
// "MQTT probe classes").

var pubSubRoles = []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}

// waitOffline waits until the session of client id has no connection.
func waitOffline(t *testing.T, s *testServer, hub, id string) {
	t.Helper()
	eventually(t, "the drop to be noticed", func() bool {
		c := s.e.lookup(hub, id)
		if c == nil {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.phys == nil
	})
}

// The messages waiting for an offline persistent session are bounded by
// count and by bytes; past either bound the session ends.
func TestMQTTOfflineSessionIsBounded(t *testing.T) {
	const kib = 1 << 10
	for _, tt := range []struct {
		name             string
		limitN, limitB   int
		messages, size   int
		wantSessionAlive bool
	}{
		// 16 KiB each with the topic "t".
		{"bytes at the limit", 1000, 64 * kib, 4, 16*kib - 1, true},
		{"bytes over the limit", 1000, 64 * kib, 5, 16*kib - 1, false},
		{"count at the limit", 3, 64 * kib, 3, 1, true},
		{"count over the limit", 3, 64 * kib, 4, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, WithBufferLimits(tt.limitN, tt.limitB))
			tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
			cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "off", Props: mqtt.Properties{SessionExpiry: u32p(30)}}
			sub, _ := s.connectMQTT(s.mqttURL("h", tok), &cp)
			sub.mustSubscribe("t", 1)
			sub.drop()
			waitOffline(t, s, "h", "off")
			pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "pub", CleanStart: true})
			for i := range tt.messages {
				pub.send(&mqtt.Publish{QoS: 1, PacketID: uint16(i + 1), Topic: "t", Payload: bytes.Repeat([]byte{'x'}, tt.size)})
				pub.expectAck(mqtt.TypePuback, uint16(i+1), 0)
			}
			if !tt.wantSessionAlive {
				eventually(t, "the session to end", func() bool { return s.e.lookup("h", "off") == nil })
				return
			}
			again, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
			if !ack.SessionPresent {
				t.Fatal("the session within its limits was not kept")
			}
			for range tt.messages {
				if p := again.nextPublish(); len(p.Payload) != tt.size {
					t.Fatalf("resent %d bytes, want %d", len(p.Payload), tt.size)
				}
			}
		})
	}
}

// A client subscribes to at most maxClientGroups topics, like a Web
// PubSub client's own joins; subscribing again to one it has still works.
func TestMQTTSubscriptionLimit(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	for _, v := range mqttVersions {
		t.Run(v.name, func(t *testing.T) {
			c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: v.v, ClientID: "many" + v.name[:1], CleanStart: true})
			subs := make([]mqtt.Subscription, maxClientGroups)
			for i := range subs {
				subs[i] = mqtt.Subscription{Filter: fmt.Sprintf("g%d", i)}
			}
			codes := c.subscribe(1, mqtt.Properties{}, subs...)
			if n := bytes.Count(codes, []byte{0}); n != maxClientGroups {
				t.Fatalf("%d of %d subscriptions granted", n, maxClientGroups)
			}
			want := byte(mqtt.SubackFailure311)
			if v.v == mqtt.Version5 {
				want = mqtt.CodeQuotaExceeded
			}
			codes = c.subscribe(2, mqtt.Properties{}, mqtt.Subscription{Filter: "one-more"}, mqtt.Subscription{Filter: "g7", QoS: 1})
			if !bytes.Equal(codes, []byte{want, 1}) {
				t.Errorf("SUBACK % X, want %02X 01 (refused over the limit, a present one granted)", codes, want)
			}
			c.send(&mqtt.Unsubscribe{PacketID: 3, Filters: []string{"g0"}})
			c.next()
			if codes := c.subscribe(4, mqtt.Properties{}, mqtt.Subscription{Filter: "one-more"}); codes[0] != 0 {
				t.Errorf("after an unsubscribe SUBACK % X, want 00", codes)
			}
		})
	}
}

// A resumed session has the grants of the token it was resumed with:
// they neither accumulate (wildcard roles grew with every reconnect) nor
// keep roles the newer token lacks.
func TestMQTTResumeTakesTheNewTokensGrants(t *testing.T) {
	s := newTestServer(t)
	wild := s.mqttToken("h", clientOpts{user: "u", roles: []string{"webpubsub.joinLeaveGroups.room.*", "webpubsub.sendToGroups.room.*"}}, nil)
	cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "res", Props: mqtt.Properties{SessionExpiry: u32p(30)}}
	patterns := func() int {
		c := s.e.lookup("h", "res")
		s.e.mu.RLock()
		defer s.e.mu.RUnlock()
		return len(c.grants.patterns)
	}
	var first int
	for i := range 50 {
		c, ack := s.connectMQTT(s.mqttURL("h", wild), &cp)
		if i > 0 && !ack.SessionPresent {
			t.Fatalf("reconnect %d: no session present", i)
		}
		if i == 0 {
			first = patterns()
		}
		c.drop()
		waitOffline(t, s, "h", "res")
	}
	if n := patterns(); n != first || first == 0 {
		t.Errorf("%d wildcard patterns after 50 resumes, want %d (the token's)", n, first)
	}
	joinOnly := s.mqttToken("h", clientOpts{user: "u", roles: []string{wire.RoleJoinLeaveGroup}}, nil)
	c, ack := s.connectMQTT(s.mqttURL("h", joinOnly), &cp)
	if !ack.SessionPresent {
		t.Fatal("no session present")
	}
	c.send(&mqtt.Publish{QoS: 1, PacketID: 9, Topic: "room.a", Payload: []byte("x")})
	p := c.next()
	if a, ok := p.(*mqtt.Ack); !ok || a.Kind != mqtt.TypePuback || a.Code != mqtt.CodeNotAuthorized {
		t.Errorf("publish with a token without sendToGroup: got %+v, want PUBACK 0x87", p)
	}
}

// Many connections with the same client ID at once: every one gets a
// CONNACK or is closed, one session remains and it works.
func TestMQTTTakeoverRace(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	u := s.mqttURL("h", tok)
	const n = 8
	clients := make([]*mqttClient, n)
	frames := make([][]byte, n)
	for i := range clients {
		clients[i] = s.dialMQTT(u, nil)
		cp := &mqtt.Connect{Version: mqtt.Version5, ClientID: "same", CleanStart: i%2 == 0, Props: mqtt.Properties{SessionExpiry: u32p(30)}}
		b, err := mqtt.Encode(cp, mqtt.Version5)
		if err != nil {
			t.Fatal(err)
		}
		frames[i] = b
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = c.ws.Write(ctx, websocket.MessageBinary, frames[i])
		})
	}
	wg.Wait()
	for _, c := range clients {
		c.start(mqtt.Version5)
		c.start = nil
		if _, err := c.read(5 * time.Second); err == errNoPacket {
			t.Fatal("a CONNECT got no answer and no close")
		}
	}
	last, ack := s.connectMQTT(u, &mqtt.Connect{Version: mqtt.Version5, ClientID: "same", CleanStart: true})
	if ack.Code != 0 {
		t.Fatalf("CONNACK 0x%02X after the race", ack.Code)
	}
	last.mustSubscribe("t", 0)
	last.send(&mqtt.Publish{Topic: "t", Payload: []byte("ok")})
	if p := last.nextPublish(); string(p.Payload) != "ok" {
		t.Errorf("got %q", p.Payload)
	}
	s.e.mu.RLock()
	registered := s.e.hubLocked("h").conns["same"] != nil
	s.e.mu.RUnlock()
	if !registered {
		t.Error("no session registered for the client ID")
	}
}

// Keep-alive: a 5.0 client silent for 1.5 times its keep-alive gets
// DISCONNECT 0x8D and is closed; a 3.1.1 client is closed; keep-alive 0
// (5.0) has no timeout.
func TestMQTTKeepAliveTimeout(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	for _, v := range mqttVersions {
		t.Run(v.name, func(t *testing.T) {
			c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: v.v, ClientID: "ka" + v.name[:1], KeepAlive: 1, CleanStart: true})
			start := time.Now()
			got := c.closed()
			if d := time.Since(start); d < time.Second {
				t.Errorf("closed after %v, before 1.5 times the keep-alive", d)
			}
			if v.v == mqtt.Version5 {
				if len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeKeepAliveTimeout {
					t.Errorf("got %+v, want DISCONNECT 0x8D", got)
				}
			} else if len(got) != 0 {
				t.Errorf("got %+v, want a close", got)
			}
		})
	}
	c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "ka0", CleanStart: true})
	c.expectNothing(2 * time.Second)
	c.send(&mqtt.Pingreq{})
	if _, ok := c.next().(*mqtt.Pingresp); !ok {
		t.Error("keep-alive 0: no PINGRESP after 2 s of silence")
	}
}

// Bad packets: before CONNECT, a second CONNECT, a remaining length over
// the maximum, a property the packet must not carry, AUTH. Each ends the
// connection (5.0: with a DISCONNECT giving the reason).
func TestMQTTProtocolViolations(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	huge := []byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F} // PUBLISH of 256 MiB
	// PUBLISH "t" carrying a Session Expiry Interval (CONNECT, CONNACK and
	// DISCONNECT only).
	badProp := []byte{0x30, 0x0A, 0x00, 0x01, 't', 0x05, 0x11, 0, 0, 0, 1, 'x'}
	second, err := mqtt.Encode(&mqtt.Connect{Version: mqtt.Version5, ClientID: "x"}, mqtt.Version5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		raw  []byte
		code byte
	}{
		{"second CONNECT", second, mqtt.CodeProtocolError},
		{"huge remaining length", huge, mqtt.CodePacketTooLarge},
		{"property not allowed in PUBLISH", badProp, mqtt.CodeProtocolError},
		{"AUTH", []byte{0xF0, 0x00}, mqtt.CodeProtocolError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "bad", CleanStart: true})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.ws.Write(ctx, websocket.MessageBinary, tt.raw); err != nil {
				t.Fatal(err)
			}
			got := c.closed()
			if len(got) != 1 {
				t.Fatalf("got %d packets before the close, want one DISCONNECT", len(got))
			}
			if d, ok := got[0].(*mqtt.Disconnect); !ok || (d.Code != tt.code && !(tt.code == mqtt.CodeProtocolError && d.Code == mqtt.CodeMalformedPacket)) {
				t.Errorf("got %+v, want DISCONNECT 0x%02X", got[0], tt.code)
			}
		})
	}
	for _, first := range [][]byte{{0xC0, 0x00}, huge, {0x30, 0x03, 0x00, 0x01, 't'}} {
		c := s.dialMQTT(s.mqttURL("h", tok), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.ws.Write(ctx, websocket.MessageBinary, first); err != nil {
			t.Fatal(err)
		}
		cancel()
		c.start(mqtt.Version311)
		c.start = nil
		if got := c.closed(); len(got) != 0 {
			t.Errorf("first packet % X: got %+v, want a close", first, got)
		}
	}
}

// lockedBuffer is a log sink for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tokens never appear in logs or CONNACK reason strings, wherever the
// client puts them: the URL, the user name, the password, the client ID.
func TestMQTTTokensNeverShown(t *testing.T) {
	logs := &lockedBuffer{}
	s := newTestServer(t, WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	good := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	expired := s.mqttToken("h", clientOpts{user: "u"}, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	otherKey := signToken(t, "another-key-another-key-another-key-0123", map[string]any{"aud": s.srv.URL + wire.ClientPathMQTT + "h"})
	joinOnly := s.mqttToken("h", clientOpts{user: "u", roles: []string{wire.RoleJoinLeaveGroup}}, nil)
	malformed := good[:strings.LastIndex(good, ".")] // two segments
	garbled := strings.Replace(good, ".", ".%%", 1)
	secrets := []string{good, joinOnly, expired, otherKey, malformed, garbled}
	var reasons []string
	for _, v := range mqttVersions {
		for _, tok := range secrets {
			for _, cp := range []mqtt.Connect{
				{ClientID: "c1", HasUsername: true, Username: tok, HasPassword: true, Password: []byte(tok)},
				{ClientID: tok},
				{ClientID: "c2", Will: &mqtt.Will{Topic: tok + "+", Payload: []byte(tok)}},
			} {
				cp.Version, cp.CleanStart = v.v, true
				c, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
				reasons = append(reasons, ack.Props.ReasonString)
				if ack.Code == 0 {
					// A publish to a topic named like the token: refused
					// for joinOnly, quoting the topic.
					c.send(&mqtt.Publish{QoS: 1, PacketID: 1, Topic: tok, Payload: []byte("x")})
					if p, err := c.read(5 * time.Second); err == nil {
						if a, ok := p.(*mqtt.Ack); ok {
							reasons = append(reasons, a.Props.ReasonString)
						}
					} else if err == errNoPacket {
						t.Fatal("no answer to PUBLISH")
					}
					c.drop()
				}
			}
		}
	}
	all := logs.String() + strings.Join(reasons, "\n")
	for _, tok := range secrets {
		for _, part := range strings.Split(tok, ".") {
			if strings.Contains(all, part) {
				t.Errorf("a token part %.12s... appears in the logs or reason strings", part)
			}
		}
	}
}

// Publications sent at QoS 1 but never acknowledged count against the
// same byte bound as waiting ones: a client that never acknowledges gets
// DISCONNECT 0x97 once they exceed it, instead of pinning 256 in-flight
// messages of up to 1 MiB each.
func TestMQTTUnacknowledgedIsBounded(t *testing.T) {
	const kib = 1 << 10
	for _, tt := range []struct {
		name     string
		messages int
		wantEnd  bool
	}{
		{"at the limit", 4, false},
		{"over the limit", 5, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, WithBufferLimits(1000, 64*kib))
			tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
			sub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "noack", CleanStart: true})
			sub.mustSubscribe("t", 1)
			pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "pub", CleanStart: true})
			for i := range tt.messages {
				pub.send(&mqtt.Publish{QoS: 1, PacketID: uint16(i + 1), Topic: "t", Payload: bytes.Repeat([]byte{'x'}, 16*kib-1)})
				pub.expectAck(mqtt.TypePuback, uint16(i+1), 0)
			}
			if !tt.wantEnd {
				for range tt.messages {
					sub.nextPublish()
				}
				sub.expectNothing(100 * time.Millisecond)
				if s.e.lookup("h", "noack") == nil {
					t.Fatal("the session within its limit ended")
				}
				return
			}
			got := sub.closed()
			d, ok := got[len(got)-1].(*mqtt.Disconnect)
			if !ok || d.Code != mqtt.CodeQuotaExceeded {
				t.Errorf("last packet %+v, want DISCONNECT 0x97", got[len(got)-1])
			}
		})
	}
}

// A client that never reads its socket is closed once its send queue is
// full, and neither the publisher nor another subscriber is held up.
func TestMQTTClientThatNeverReads(t *testing.T) {
	s := newTestServer(t, WithSendQueueLimits(1000, 1<<20))
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.mqttURL("h", tok), &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolMQTT}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ws.CloseNow() }()
	for _, p := range []mqtt.Packet{
		&mqtt.Connect{Version: mqtt.Version311, ClientID: "deaf", KeepAlive: 60, CleanStart: true},
		&mqtt.Subscribe{PacketID: 1, Subscriptions: []mqtt.Subscription{{Filter: "t"}}},
	} {
		b, err := mqtt.Encode(p, mqtt.Version311)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the deaf client to subscribe", func() bool {
		c := s.e.lookup("h", "deaf")
		if c == nil {
			return false
		}
		s.e.mu.RLock()
		defer s.e.mu.RUnlock()
		_, in := c.groups["t"]
		return in
	})
	reader, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "reader", CleanStart: true})
	reader.mustSubscribe("t", 0)
	pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "pub", CleanStart: true})
	const n = 512 // 8 MiB: the 1 MiB queue plus what the sockets' buffers take
	for i := range n {
		pub.send(&mqtt.Publish{QoS: 1, PacketID: uint16(i + 1), Topic: "t", Payload: bytes.Repeat([]byte{'x'}, 16<<10)})
		pub.expectAck(mqtt.TypePuback, uint16(i+1), 0)
		reader.nextPublish()
	}
	eventually(t, "the deaf client to be closed", func() bool { return s.e.lookup("h", "deaf") == nil })
}

// QoS 2 publications awaiting PUBREL are bounded by the Receive Maximum
// of 100 announced in CONNACK; a PUBREL frees a slot.
func TestMQTTAwaitingPubrelIsBounded(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "q2", CleanStart: true})
	for i := range mqttReceiveMaximum {
		c.send(&mqtt.Publish{QoS: 2, PacketID: uint16(i + 1), Topic: "t", Payload: []byte("x")})
		c.expectAck(mqtt.TypePubrec, uint16(i+1), 0)
	}
	c.send(&mqtt.Ack{Kind: mqtt.TypePubrel, PacketID: 1})
	c.expectAck(mqtt.TypePubcomp, 1, 0)
	c.send(&mqtt.Publish{QoS: 2, PacketID: 1000, Topic: "t", Payload: []byte("x")})
	c.expectAck(mqtt.TypePubrec, 1000, 0)
	c.send(&mqtt.Publish{QoS: 2, PacketID: 1001, Topic: "t", Payload: []byte("x")})
	got := c.closed()
	if len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeReceiveMaximumExceeded {
		t.Errorf("the 101st QoS 2 publication awaiting PUBREL: got %+v, want DISCONNECT 0x93", got)
	}
}

// At most mqttMaxInflight publications are in flight to a client, each
// with its own packet identifier; the rest wait until acknowledgements
// free identifiers, so identifiers never run out or repeat in flight.
func TestMQTTPacketIdentifiersInFlight(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	sub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "ids", CleanStart: true, Props: mqtt.Properties{ReceiveMaximum: u16p(65535)}})
	sub.mustSubscribe("t", 1)
	pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "pub", CleanStart: true})
	const n = mqttMaxInflight + 44
	for i := range n {
		pub.send(&mqtt.Publish{QoS: 1, PacketID: uint16(i%60000 + 1), Topic: "t", Payload: []byte("x")})
		pub.expectAck(mqtt.TypePuback, uint16(i%60000+1), 0)
	}
	seen := map[uint16]bool{}
	for range mqttMaxInflight {
		p := sub.nextPublish()
		if p.PacketID == 0 || seen[p.PacketID] {
			t.Fatalf("packet identifier %d repeated or zero while in flight", p.PacketID)
		}
		seen[p.PacketID] = true
	}
	sub.expectNothing(100 * time.Millisecond)
	for id := range seen {
		sub.send(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: id})
	}
	for range n - mqttMaxInflight {
		sub.nextPublish()
	}
}

// The byte bound counts what a publication holds, not its payload alone:
// user properties (with their in-memory overhead) and other forwarded
// properties count too.
func TestMQTTUserPropertiesCountAgainstTheBound(t *testing.T) {
	const kib = 1 << 10
	props := mqtt.Properties{}
	for range 480 { // 480 x (2 + userPropertyOverhead) = 16,320 bytes
		props.UserProperties = append(props.UserProperties, mqtt.UserProperty{Key: "k", Value: "v"})
	}
	for _, tt := range []struct {
		messages int
		wantKept bool
	}{{3, true}, {5, false}} {
		t.Run(fmt.Sprint(tt.messages), func(t *testing.T) {
			s := newTestServer(t, WithBufferLimits(1000, 64*kib))
			tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
			cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "off", Props: mqtt.Properties{SessionExpiry: u32p(30)}}
			sub, _ := s.connectMQTT(s.mqttURL("h", tok), &cp)
			sub.mustSubscribe("t", 1)
			sub.drop()
			waitOffline(t, s, "h", "off")
			pub, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "pub", CleanStart: true})
			for i := range tt.messages {
				pub.send(&mqtt.Publish{QoS: 1, PacketID: uint16(i + 1), Topic: "t", Payload: []byte("x"), Props: props})
				pub.expectAck(mqtt.TypePuback, uint16(i+1), 0)
			}
			if !tt.wantKept {
				eventually(t, "the session to end", func() bool { return s.e.lookup("h", "off") == nil })
				return
			}
			again, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
			if !ack.SessionPresent {
				t.Fatal("the session within its limits was not kept")
			}
			for range tt.messages {
				if p := again.nextPublish(); len(p.Props.UserProperties) != len(props.UserProperties) {
					t.Fatalf("resent with %d user properties, want %d", len(p.Props.UserProperties), len(props.UserProperties))
				}
			}
		})
	}
}

// DISCONNECT edges (5.0): a session expiry set at DISCONNECT when CONNECT
// set none is a protocol error; expiry 0 at DISCONNECT ends a persistent
// session at once; DISCONNECT with will publishes the will.
func TestMQTTDisconnectEdges(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "d1", CleanStart: true})
	c.send(&mqtt.Disconnect{Props: mqtt.Properties{SessionExpiry: u32p(10)}})
	got := c.closed()
	if len(got) != 1 || got[0].(*mqtt.Disconnect).Code != mqtt.CodeProtocolError {
		t.Errorf("expiry set at DISCONNECT: got %+v, want DISCONNECT 0x82", got)
	}
	eventually(t, "the session without expiry to end", func() bool { return s.e.lookup("h", "d1") == nil })

	c, _ = s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "d2", CleanStart: true, Props: mqtt.Properties{SessionExpiry: u32p(30)}})
	c.send(&mqtt.Disconnect{Props: mqtt.Properties{SessionExpiry: u32p(0)}})
	c.closed()
	eventually(t, "expiry 0 at DISCONNECT to end the session", func() bool { return s.e.lookup("h", "d2") == nil })

	w, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "watch", CleanStart: true})
	w.mustSubscribe("wills", 0)
	c, _ = s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "d3", CleanStart: true, Will: &mqtt.Will{Topic: "wills", Payload: []byte("bye")}})
	c.send(&mqtt.Disconnect{Code: mqtt.CodeDisconnectWithWill})
	c.closed()
	if p := w.nextPublish(); string(p.Payload) != "bye" {
		t.Errorf("will %q, want bye", p.Payload)
	}
}

// A session does not keep the CONNECT's password (often the token) or its
// user properties after the connect event, new or resumed.
func TestMQTTSessionDropsConnectInfo(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "ci", HasUsername: true, Username: "u", HasPassword: true, Password: []byte(tok),
		Props: mqtt.Properties{SessionExpiry: u32p(30)}}
	for range 1000 {
		cp.Props.UserProperties = append(cp.Props.UserProperties, mqtt.UserProperty{Key: "k", Value: "v"})
	}
	for i := range 2 {
		c, ack := s.connectMQTT(s.mqttURL("h", tok), &cp)
		if ack.Code != 0 || ack.SessionPresent != (i == 1) {
			t.Fatalf("connect %d: CONNACK %+v", i, ack)
		}
		sc := s.e.lookup("h", "ci")
		sc.mu.Lock()
		info := sc.mq.connectInfo
		sc.mu.Unlock()
		if info != nil {
			t.Errorf("connect %d: the session keeps the connect event's data (password and %d user properties)", i, len(info.UserProperties))
		}
		c.drop()
		waitOffline(t, s, "h", "ci")
	}
}

// UNSUBSCRIBE of more filters than one batch under the engine's lock:
// subscribed, unknown and invalid filters get their own codes.
func TestMQTTUnsubscribeManyFilters(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	c, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{Version: mqtt.Version5, ClientID: "unsub", CleanStart: true})
	const n = 3*mqttLockBatch + 7
	var subs []mqtt.Subscription
	var filters []string
	var want []byte
	for i := range n {
		f := fmt.Sprintf("g%d", i)
		switch i % 3 {
		case 0:
			subs = append(subs, mqtt.Subscription{Filter: f})
			want = append(want, mqtt.CodeSuccess)
		case 1:
			want = append(want, mqtt.CodeNoSubscriptionExisted)
		case 2:
			f = strings.Repeat("x", 1025) // not a group name
			want = append(want, mqtt.CodeNoSubscriptionExisted)
		}
		filters = append(filters, f)
	}
	c.subscribe(1, mqtt.Properties{}, subs...)
	c.send(&mqtt.Unsubscribe{PacketID: 2, Filters: filters})
	ack, ok := c.next().(*mqtt.Unsuback)
	if !ok || !bytes.Equal(ack.Codes, want) {
		t.Fatalf("UNSUBACK codes differ from the %d expected", len(want))
	}
	sc := s.e.lookup("h", "unsub")
	s.e.mu.RLock()
	left := len(sc.groups)
	s.e.mu.RUnlock()
	if left != 0 {
		t.Errorf("%d groups left after unsubscribing from all", left)
	}
}

// A resume that stops the expiry and will timers just after they fired
// (their callbacks waiting for c.mu, which the resume holds) keeps the
// session and does not publish the will: the callbacks see that they
// were replaced.
func TestMQTTResumeRacesTheTimers(t *testing.T) {
	s := newTestServer(t)
	tok := s.mqttToken("h", clientOpts{user: "u", roles: pubSubRoles}, nil)
	w, _ := s.connectMQTT(s.mqttURL("h", tok), &mqtt.Connect{ClientID: "watch", CleanStart: true})
	w.mustSubscribe("wills", 0)
	cp := mqtt.Connect{Version: mqtt.Version5, ClientID: "racer", Props: mqtt.Properties{SessionExpiry: u32p(1)},
		Will: &mqtt.Will{Topic: "wills", Payload: []byte("gone"), Props: mqtt.Properties{WillDelay: u32p(1)}}}
	c, _ := s.connectMQTT(s.mqttURL("h", tok), &cp)
	c.drop()
	waitOffline(t, s, "h", "racer")
	sc := s.e.lookup("h", "racer")
	sc.mu.Lock()
	time.Sleep(2 * time.Second) // both 1 s timers fire and wait for c.mu
	expiryFired, willFired := !sc.mq.expiryTime.Stop(), !sc.mq.willTimer.Stop()
	sc.mq.stopTimers() // what mqttAttach does when it resumes the session
	sc.mu.Unlock()
	if !expiryFired || !willFired {
		t.Fatalf("the timers had not fired after 2 s (expiry %v, will %v)", expiryFired, willFired)
	}
	w.expectNothing(300 * time.Millisecond)
	sc.mu.Lock()
	closed := sc.closed
	sc.mu.Unlock()
	if closed {
		t.Error("the expiry timer ended a session that a resume had taken")
	}
}
