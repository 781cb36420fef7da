package webpubsubtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// A paho MQTT 3.1.1 client and a wsclient client (our Go client SDK, on
// the reliable JSON subprotocol) in one hub exchange group messages both
// ways: an MQTT 3.1.1 PUBLISH carries no content type, so the Web PubSub
// client gets binary; the Web PubSub client's text, JSON and binary
// messages reach the MQTT subscriber as their payload bytes.
func TestMQTTPahoWithWSClient(t *testing.T) {
	s := webpubsubtest.NewServer(t)
	client := s.Client(t, "chat")
	mq := pahoConnect(t, mqttURL(t, client, "device", allRoles...), "device1", true, nil)
	got := newReceived()
	mustToken(t, "subscribe", mq.Subscribe("room", 1, got.handler))

	tok, err := client.ClientAccessToken(ctx(t), &webpubsub.TokenOptions{UserID: "browser", Roles: allRoles})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := wsclient.New(tok.URL, &wsclient.Options{DisableAutoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Start(ctx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Stop)
	if err := ws.JoinGroup(ctx(t), "room"); err != nil {
		t.Fatal(err)
	}
	receive := func() wsclient.Message {
		t.Helper()
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		m, err := ws.Receive(c)
		if err != nil {
			t.Fatalf("wsclient receive: %v", err)
		}
		return m
	}

	// MQTT -> wsclient: binary, with the publisher's user id.
	mustToken(t, "publish", mq.Publish("room", 1, false, []byte{0x00, 0xff, 'h', 'i'}))
	m := receive()
	want := wsclient.Message{From: wsclient.FromGroup, Group: "room", FromUserID: "device", DataType: wsclient.DataTypeBinary, Data: []byte{0x00, 0xff, 'h', 'i'}}
	if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(wsclient.Message{}, "SequenceID")); diff != "" {
		t.Errorf("wsclient got (-want +got):\n%s", diff)
	}
	got.wait(t, 1) // the MQTT client's own message comes back to it

	// wsclient -> MQTT: each data type arrives as its payload bytes.
	for i, c := range []struct {
		name    string
		data    wsclient.Payload
		payload string
	}{
		{"text", wsclient.Text("héllo"), "héllo"},
		{"json", wsclient.JSON(map[string]any{"n": 1, "s": "x"}), `{"n":1,"s":"x"}`},
		{"binary", wsclient.Binary([]byte{0x01, 0x00, 0xfe}), "\x01\x00\xfe"},
	} {
		if err := ws.SendToGroup(ctx(t), "room", c.data, &wsclient.SendToGroupOptions{NoEcho: true}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := got.wait(t, i+2)[i+1]
		if string(m.Payload()) != c.payload || m.Topic() != "room" || m.Qos() != 1 {
			t.Errorf("%s: MQTT got %q on %q at QoS %d, want %q on room at QoS 1", c.name, m.Payload(), m.Topic(), m.Qos(), c.payload)
		}
	}
}
