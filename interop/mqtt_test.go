package interop

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

type mqttJSEvent struct {
	Ev          string `json:"ev"`
	Topic       string `json:"topic"`
	QoS         int    `json:"qos"`
	ContentType string `json:"contentType"`
	Data        string `json:"data"`
	Granted     []int  `json:"granted"`
	Message     string `json:"message"`
}

// TestMQTTJS runs MQTT.js 5 as an MQTT 3.1.1 and a 5.0 client with a URL
// minted by our SDK: it subscribes (a wildcard is refused with 0x80 or
// 0xA2), publishes to a group a json.webpubsub client is in (which gets
// binary from 3.1.1 and text from 5.0 with content type text/plain), and
// receives the json client's message and REST SendToAll and SendToGroup.
func TestMQTTJS(t *testing.T) {
	dir := nodeModules(t)
	srv := webpubsubtest.NewServer(t)
	client := srv.Client(t, "chat")
	for _, v := range []struct {
		version  int
		dataType string
		wildcard string // how MQTT.js reports the refusal (0x80, 0xA2)
		ct       string
	}{{4, "binary", "Subscribe error: Unspecified error", ""}, {5, "text", "Subscribe error: Wildcard Subscriptions not supported", "text/plain"}} {
		t.Run("protocol "+strconv.Itoa(v.version), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			roles := []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}
			tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{Protocol: webpubsub.ClientProtocolMQTT, UserID: "device", Roles: roles})
			if err != nil {
				t.Fatal(err)
			}
			web := srv.Connect(t, "chat", "browser", webpubsubtest.WithRoles(roles...))
			if err := web.Join(ctx, "room"); err != nil {
				t.Fatal(err)
			}
			cmd, stdout := startNode(t, ctx, dir, "mqtt.mjs", tok.URL, strconv.Itoa(v.version), "mqttjs"+strconv.Itoa(v.version))
			events := jsonLines[mqttJSEvent](t, stdout)
			var all []mqttJSEvent
			next := func(ev string) mqttJSEvent {
				t.Helper()
				for e := range events {
					all = append(all, e)
					if e.Ev == "error" || e.Ev == "timeout" {
						t.Fatalf("node: %+v (events so far %+v)", e, all)
					}
					if e.Ev == ev {
						return e
					}
				}
				t.Fatalf("node exited before %q; events %+v", ev, all)
				return mqttJSEvent{}
			}
			if e := next("subscribed"); len(e.Granted) != 2 || e.Granted[0] != 1 || e.Granted[1] != 1 {
				t.Errorf("granted %v, want [1 1]", e.Granted)
			}
			if e := next("wildcard"); e.Message != v.wildcard {
				t.Errorf("wildcard subscription: %q, want %q", e.Message, v.wildcard)
			}
			next("sent")
			m := web.Next(t)
			if string(m.DataType) != v.dataType || m.Text() != "hello from mqtt.js v"+strconv.Itoa(v.version) || m.FromUserID != "device" {
				t.Errorf("json client got %+v, want %s from device", m, v.dataType)
			}
			echo := false // its own message comes back, before or after "sent"
			for _, e := range all {
				echo = echo || (e.Ev == "message" && e.Topic == "room" && e.ContentType == v.ct)
			}
			if !echo {
				if e := next("message"); e.Topic != "room" || e.ContentType != v.ct {
					t.Errorf("echo %+v", e)
				}
			}
			if err := web.SendToGroup(ctx, "room", webpubsubtest.Text("from web"), nil); err != nil {
				t.Fatal(err)
			}
			if e := next("message"); e.Topic != "room" || e.Data != "from web" || e.QoS != 1 || e.ContentType != v.ct {
				t.Errorf("from the json client: %+v", e)
			}
			if err := client.SendToAll(ctx, webpubsub.Text("to all"), nil); err != nil {
				t.Fatal(err)
			}
			if e := next("message"); e.Topic != "$webpubsub/server/messages" || e.Data != "to all" || e.QoS != 1 {
				t.Errorf("SendToAll: %+v", e)
			}
			if err := client.SendToGroup(ctx, "room", webpubsub.Text("bye"), nil); err != nil {
				t.Fatal(err)
			}
			if e := next("message"); e.Data != "bye" {
				t.Errorf("SendToGroup: %+v", e)
			}
			for e := range events {
				all = append(all, e)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("node: %v (events %+v)", err, all)
			}
		})
	}
}
