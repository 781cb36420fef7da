package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// mqttClient is the demo's MQTT 5.0 client over WebSocket. It is written on
// the emulator's codec (internal/mqtt), so that the CLI needs no MQTT
// library: it connects, subscribes, and receives publications (answering
// QoS 1 with PUBACK); that is all the demo asks of it.
type mqttClient struct {
	ws *websocket.Conn
	nc net.Conn // the WebSocket as a byte stream: MQTT packets may span messages
	r  *bufio.Reader
}

// dialMQTT opens a WebSocket with subprotocol "mqtt" and sends CONNECT
// (clean start) with clientID; the token is in the URL.
func dialMQTT(ctx context.Context, url, clientID string) (*mqttClient, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolMQTT}})
	if err != nil {
		return nil, fmt.Errorf("connect the MQTT client: %s", scrubSecrets(err.Error()))
	}
	if got := ws.Subprotocol(); got != wire.SubprotocolMQTT {
		ws.CloseNow()
		return nil, fmt.Errorf("connect the MQTT client: the service chose subprotocol %q, want %q", got, wire.SubprotocolMQTT)
	}
	ws.SetReadLimit(wsReadLimit)
	nc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	c := &mqttClient{ws: ws, nc: nc, r: bufio.NewReader(nc)}
	err = c.write(ctx, &mqtt.Connect{ProtocolName: "MQTT", Version: mqtt.Version5, CleanStart: true, KeepAlive: 60, ClientID: clientID})
	var p mqtt.Packet
	if err == nil {
		p, err = c.read(ctx)
	}
	if err == nil {
		if ack, ok := p.(*mqtt.Connack); !ok {
			err = fmt.Errorf("the service answered CONNECT with packet type %d, want CONNACK", p.Type())
		} else if ack.Code != mqtt.ConnAccepted {
			err = fmt.Errorf("the service refused CONNECT with reason code 0x%02x", ack.Code)
		}
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("MQTT CONNECT: %w", err)
	}
	return c, nil
}

// subscribe subscribes to topic at QoS 1 and requires it granted.
func (c *mqttClient) subscribe(ctx context.Context, topic string) error {
	const id = 1
	if err := c.write(ctx, &mqtt.Subscribe{PacketID: id, Subscriptions: []mqtt.Subscription{{Filter: topic, QoS: 1}}}); err != nil {
		return err
	}
	p, err := c.read(ctx)
	if err != nil {
		return err
	}
	ack, ok := p.(*mqtt.Suback)
	switch {
	case !ok:
		return fmt.Errorf("SUBSCRIBE %q: the service answered with packet type %d, want SUBACK", topic, p.Type())
	case ack.PacketID != id || len(ack.Codes) != 1:
		return fmt.Errorf("SUBSCRIBE %q: SUBACK for packet %d with %d codes, want packet %d with 1", topic, ack.PacketID, len(ack.Codes), id)
	case ack.Codes[0] != 1:
		return fmt.Errorf("SUBSCRIBE %q: reason code 0x%02x, want 0x01 (granted QoS 1)", topic, ack.Codes[0])
	}
	return nil
}

// receive returns the next PUBLISH, acknowledged if it is QoS 1.
func (c *mqttClient) receive(ctx context.Context) (*mqtt.Publish, error) {
	p, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	pub, ok := p.(*mqtt.Publish)
	if !ok {
		return nil, fmt.Errorf("the service sent packet type %d, want PUBLISH", p.Type())
	}
	if pub.QoS == 1 {
		err = c.write(ctx, &mqtt.Ack{Kind: mqtt.TypePuback, PacketID: pub.PacketID})
	}
	return pub, err
}

func (c *mqttClient) write(ctx context.Context, p mqtt.Packet) error {
	b, err := mqtt.Encode(p, mqtt.Version5)
	if err != nil {
		return err
	}
	c.deadline(ctx)
	_, err = c.nc.Write(b) // one WebSocket binary message
	return err
}

func (c *mqttClient) read(ctx context.Context) (mqtt.Packet, error) {
	c.deadline(ctx)
	p, err := mqtt.ReadPacket(c.r, mqtt.Version5, wsReadLimit)
	if d, ok := ctx.Deadline(); err != nil && ok && !time.Now().Before(d) {
		return nil, errors.New("no MQTT packet arrived before the step's deadline")
	}
	if err != nil {
		return nil, fmt.Errorf("read from the MQTT connection: %w", err)
	}
	return p, nil
}

// deadline makes the stream's reads and writes end with ctx's deadline.
func (c *mqttClient) deadline(ctx context.Context) {
	d, _ := ctx.Deadline() // none: the zero time, no deadline
	_ = c.nc.SetDeadline(d)
}

// close sends DISCONNECT (normal) and closes the WebSocket.
func (c *mqttClient) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.write(ctx, &mqtt.Disconnect{})
	_ = c.nc.Close()
}
