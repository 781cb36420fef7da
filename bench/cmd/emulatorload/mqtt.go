package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// fanGroup is the group (MQTT topic) of the fan-out comparison.
const fanGroup = "fan"

// mqttFanout compares a SendToGroup fan-out to n MQTT 3.1.1 subscribers at
// QoS 0 and QoS 1 with the same fan-out to n json.webpubsub.azure.v1
// clients in the group, and prints the three rows.
func (h *harness) mqttFanout(n int) error {
	fmt.Println()
	fmt.Printf("Fan-out of SendToGroup to %d subscribers of one group, 100 B: json.webpubsub.azure.v1 vs MQTT 3.1.1 (QoS 0, QoS 1 with PUBACK)\n", n)
	fmt.Println(header())
	js, err := h.connect("fanjson", n, false, func(int) []string { return []string{fanGroup} })
	if err != nil {
		return err
	}
	r, err := h.fanout("fanjson", js, 100)
	closeAll(js)
	if err != nil {
		return err
	}
	fmt.Println(r.format("json"))
	for _, qos := range []byte{0, 1} {
		hub := "fanmqtt" + strconv.Itoa(int(qos))
		cs, err := h.connectMQTT(hub, n, qos)
		if err != nil {
			return err
		}
		r, err := h.fanout(hub, cs, 100)
		closeAll(cs)
		if err != nil {
			return err
		}
		fmt.Println(r.format("MQTT QoS " + strconv.Itoa(int(qos))))
	}
	return nil
}

func (h *harness) fanout(hub string, targets []*client, size int) (row, error) {
	c, err := webpubsub.NewClientFromConnectionString("Endpoint="+h.base+";AccessKey="+emulator.DefaultAccessKey, hub, webpubsub.WithHTTPClient(restHTTP))
	if err != nil {
		return row{}, err
	}
	calls := h.messagesFor(len(targets), size)
	return h.deliver(targets, calls, len(targets), func(int) error {
		return c.Group(fanGroup).Send(h.ctx, webpubsub.RawJSON(payload(int(seq.Add(1)), size)), nil)
	})
}

// connectMQTT connects n MQTT 3.1.1 clients over WebSocket, each
// subscribed to fanGroup at qos.
func (h *harness) connectMQTT(hub string, n int, qos byte) ([]*client, error) {
	tc, err := webpubsub.NewClientFromConnectionString("Endpoint="+h.base+";AccessKey="+emulator.DefaultAccessKey, hub)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	tok, err := tc.ClientAccessToken(ctx, &webpubsub.TokenOptions{Protocol: webpubsub.ClientProtocolMQTT, Roles: []string{wire.RoleJoinLeaveGroup}})
	if err != nil {
		return nil, err
	}
	out := make([]*client, n)
	readers := make([]*bufio.Reader, n)
	idx := make(chan int)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range h.cfg.dialWorkers {
		wg.Go(func() {
			for i := range idx {
				c, br, err := h.dialMQTT(tok.URL, "m"+strconv.Itoa(i), qos)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connecting MQTT client %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					continue
				}
				out[i], readers[i] = c, br
			}
		})
	}
	for i := range n {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if firstErr != nil {
		for _, c := range out {
			if c != nil {
				_ = c.ws.CloseNow()
				close(c.done)
			}
		}
		return nil, firstErr
	}
	for i, c := range out {
		go h.readMQTT(c, readers[i])
	}
	return out, nil
}

func (h *harness) dialMQTT(url, id string, qos byte) (*client, *bufio.Reader, error) {
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolMQTT}})
	if err != nil {
		return nil, nil, err
	}
	ws.SetReadLimit(4 << 20)
	br := bufio.NewReader(&messageStream{ctx: h.ctx, ws: ws})
	exchange := func(p mqtt.Packet) (mqtt.Packet, error) {
		b, err := mqtt.Encode(p, mqtt.Version311)
		if err != nil {
			return nil, err
		}
		if err := ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			return nil, err
		}
		return mqtt.ReadPacket(br, mqtt.Version311, 4<<20)
	}
	p, err := exchange(&mqtt.Connect{Version: mqtt.Version311, ClientID: id, CleanStart: true, KeepAlive: 180})
	if ack, ok := p.(*mqtt.Connack); err == nil && (!ok || ack.Code != 0) {
		err = fmt.Errorf("CONNACK %+v", p)
	}
	if err == nil {
		p, err = exchange(&mqtt.Subscribe{PacketID: 1, Subscriptions: []mqtt.Subscription{{Filter: fanGroup, QoS: qos}}})
		if ack, ok := p.(*mqtt.Suback); err == nil && (!ok || len(ack.Codes) != 1 || ack.Codes[0] != qos) {
			err = fmt.Errorf("SUBACK %+v", p)
		}
	}
	if err != nil {
		_ = ws.CloseNow()
		return nil, nil, err
	}
	return &client{ws: ws, done: make(chan struct{})}, br, nil
}

// readMQTT counts the PUBLISH packets a client receives and acknowledges
// QoS 1 ones. It is the client's only goroutine.
func (h *harness) readMQTT(c *client, br *bufio.Reader) {
	defer close(c.done)
	for {
		p, err := mqtt.ReadPacket(br, mqtt.Version311, 4<<20)
		if err != nil {
			return
		}
		pub, ok := p.(*mqtt.Publish)
		if !ok {
			continue
		}
		h.count(c, pub.Payload, time.Now())
		if pub.QoS == 1 {
			b, err := mqtt.Encode(&mqtt.Ack{Kind: mqtt.TypePuback, PacketID: pub.PacketID}, mqtt.Version311)
			if err != nil || c.ws.Write(h.ctx, websocket.MessageBinary, b) != nil {
				return
			}
		}
	}
}

// messageStream reads a WebSocket's binary messages as one byte stream.
type messageStream struct {
	ctx context.Context
	ws  *websocket.Conn
	cur io.Reader
}

func (s *messageStream) Read(p []byte) (int, error) {
	for {
		if s.cur == nil {
			_, r, err := s.ws.Reader(s.ctx)
			if err != nil {
				return 0, err
			}
			s.cur = r
		}
		n, err := s.cur.Read(p)
		if errors.Is(err, io.EOF) {
			s.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}
