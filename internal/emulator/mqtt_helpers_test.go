package emulator

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// mqttClient is a raw MQTT test client driven by our codec, so that tests
// can send exactly the packets they mean (5.0 included) and see every
// packet the service sends.
type mqttClient struct {
	t       testing.TB
	ws      *websocket.Conn
	version byte
	packets chan mqtt.Packet
	readErr error      // valid once packets is closed
	start   func(byte) // starts the reader at a protocol level; nil once started
}

// mqttToken signs a client token for the MQTT endpoint of hub.
func (s *testServer) mqttToken(hub string, o clientOpts, extra jwt.MapClaims) string {
	claims := jwt.MapClaims{"aud": s.srv.URL + wire.ClientPathMQTT + hub}
	if o.user != "" {
		claims[wire.ClaimSubject] = o.user
	}
	if o.roles != nil {
		claims[wire.ClaimRole] = o.roles
	}
	if o.groups != nil {
		claims[wire.ClaimGroup] = o.groups
	}
	for k, v := range extra {
		claims[k] = v
	}
	return signToken(s.t, s.key, claims)
}

func (s *testServer) mqttURL(hub, token string) string {
	u := wire.WebSocketScheme(s.srv.URL) + wire.ClientPathMQTT + hub
	if token != "" {
		u += "?" + wire.QueryAccessToken + "=" + token
	}
	return u
}

// dialMQTT opens the WebSocket (no CONNECT yet).
func (s *testServer) dialMQTT(u string, h http.Header) *mqttClient {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolMQTT}, HTTPHeader: h})
	if err != nil {
		s.t.Fatalf("dial MQTT: %v", err)
	}
	c := &mqttClient{t: s.t, ws: ws, packets: make(chan mqtt.Packet, 10000)}
	done := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(done)
		defer close(c.packets)
		<-ready
		br := bufio.NewReader(&wsStream{ws: ws, ctx: context.Background()})
		for {
			p, err := mqtt.ReadPacket(br, c.version, 1<<24)
			if err != nil {
				c.readErr = err
				return
			}
			c.packets <- p
		}
	}()
	c.start = func(v byte) { c.version = v; close(ready) }
	s.t.Cleanup(func() {
		_ = ws.CloseNow()
		if c.start != nil {
			c.start(mqtt.Version311)
		}
		<-done
	})
	return c
}

// connectMQTT dials and sends CONNECT; it returns the client and CONNACK.
func (s *testServer) connectMQTT(u string, cp *mqtt.Connect) (*mqttClient, *mqtt.Connack) {
	s.t.Helper()
	c := s.dialMQTT(u, nil)
	return c, c.connect(cp)
}

func (c *mqttClient) connect(cp *mqtt.Connect) *mqtt.Connack {
	c.t.Helper()
	if cp.Version == 0 {
		cp.Version = mqtt.Version311
	}
	if cp.KeepAlive == 0 && cp.Version == mqtt.Version311 {
		cp.KeepAlive = 60
	}
	c.send(cp)
	v := cp.Version
	if v != mqtt.Version5 {
		v = mqtt.Version311
	}
	c.start(v)
	c.start = nil
	p := c.next()
	ack, ok := p.(*mqtt.Connack)
	if !ok {
		c.t.Fatalf("first packet %T, want CONNACK", p)
	}
	return ack
}

func (c *mqttClient) send(p mqtt.Packet) {
	c.t.Helper()
	v := c.version
	if cp, ok := p.(*mqtt.Connect); ok {
		v = cp.Version
		if v != mqtt.Version5 {
			v = mqtt.Version311
		}
	}
	b, err := mqtt.Encode(p, v)
	if err != nil {
		c.t.Fatalf("encode %s: %v", p.Type(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatalf("write %s: %v", p.Type(), err)
	}
}

var errNoPacket = errors.New("no packet within the timeout")

func (c *mqttClient) read(timeout time.Duration) (mqtt.Packet, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p, ok := <-c.packets:
		if !ok {
			return nil, c.readErr
		}
		return p, nil
	case <-t.C:
		return nil, errNoPacket
	}
}

func (c *mqttClient) next() mqtt.Packet {
	c.t.Helper()
	p, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return p
}

// nextPublish skips PINGRESPs and returns the next PUBLISH.
func (c *mqttClient) nextPublish() *mqtt.Publish {
	c.t.Helper()
	for {
		p := c.next()
		if pub, ok := p.(*mqtt.Publish); ok {
			return pub
		}
		if _, ok := p.(*mqtt.Pingresp); !ok {
			c.t.Fatalf("got %s, want PUBLISH", p.Type())
		}
	}
}

func (c *mqttClient) expectNothing(d time.Duration) {
	c.t.Helper()
	if p, err := c.read(d); err == nil {
		c.t.Fatalf("unexpected %s: %+v", p.Type(), p)
	}
}

// closed waits for the service to close the connection and returns the
// packets it sent before.
func (c *mqttClient) closed() []mqtt.Packet {
	c.t.Helper()
	var got []mqtt.Packet
	for {
		p, err := c.read(5 * time.Second)
		if errors.Is(err, errNoPacket) {
			c.t.Fatal("the connection did not close")
		}
		if err != nil {
			return got
		}
		got = append(got, p)
	}
}

func (c *mqttClient) subscribe(id uint16, props mqtt.Properties, subs ...mqtt.Subscription) []byte {
	c.t.Helper()
	c.send(&mqtt.Subscribe{PacketID: id, Props: props, Subscriptions: subs})
	p := c.next()
	ack, ok := p.(*mqtt.Suback)
	if !ok || ack.PacketID != id {
		c.t.Fatalf("got %+v, want SUBACK %d", p, id)
	}
	return ack.Codes
}

func (c *mqttClient) mustSubscribe(topic string, qos byte) {
	c.t.Helper()
	if codes := c.subscribe(1, mqtt.Properties{}, mqtt.Subscription{Filter: topic, QoS: qos}); len(codes) != 1 || codes[0] != qos {
		c.t.Fatalf("SUBACK codes % X, want %d", codes, qos)
	}
}

// expectAck reads the next packet, which must be the given ack.
func (c *mqttClient) expectAck(kind mqtt.PacketType, id uint16, code byte) {
	c.t.Helper()
	p := c.next()
	a, ok := p.(*mqtt.Ack)
	if !ok || a.Kind != kind || a.PacketID != id || a.Code != code {
		c.t.Fatalf("got %+v, want %s %d code 0x%02X", p, kind, id, code)
	}
}

func (c *mqttClient) drop() { _ = c.ws.CloseNow() }
