package interop

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// crossEvent is a message one of the two JavaScript clients of
// mqtt-webpubsub.mjs received.
type crossEvent struct {
	Ev          string `json:"ev"`
	Version     int    `json:"version,omitempty"`
	From        string `json:"from,omitempty"`
	DataType    string `json:"dataType,omitempty"`
	Topic       string `json:"topic,omitempty"`
	QoS         int    `json:"qos,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Data        any    `json:"data,omitempty"`
	Message     string `json:"message,omitempty"`
}

// TestMQTTJSWithWebPubSubClient runs MQTT.js 5 (as MQTT 3.1.1 and 5.0) and
// @azure/web-pubsub-client 1.1 in one hub, with URLs minted by our SDK, and
// checks the data types across protocols both ways: 3.1.1 publications
// reach the Web PubSub client as binary; 5.0 ones take the data type of
// their content type (application/json -> json, text/plain -> text, none ->
// binary); the Web PubSub client's json, text and binary messages reach the
// MQTT client as their bytes, on 5.0 with the matching content type.
func TestMQTTJSWithWebPubSubClient(t *testing.T) {
	dir := nodeModules(t)
	srv := webpubsubtest.NewServer(t)
	client := srv.Client(t, "chat")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	roles := []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}
	mq, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{Protocol: webpubsub.ClientProtocolMQTT, UserID: "device", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	web, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "browser", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	cmd, stdout := startNode(t, ctx, dir, "mqtt-webpubsub.mjs", mq.URL, web.URL)
	var got []crossEvent
	for e := range jsonLines[crossEvent](t, stdout) {
		got = append(got, e)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("node: %v", err)
	}

	b64 := func(s string) any { return map[string]any{"base64": s} }
	fromWeb := func(version int, ct func(string) string) []crossEvent {
		return []crossEvent{
			{Ev: "mqtt", Version: version, Topic: "g", QoS: 1, ContentType: ct("application/json"), Data: b64("eyJhIjoxfQ==")}, // {"a":1}
			{Ev: "mqtt", Version: version, Topic: "g", QoS: 1, ContentType: ct("text/plain"), Data: b64("aGk=")},               // hi
			{Ev: "mqtt", Version: version, Topic: "g", QoS: 1, ContentType: ct("application/octet-stream"), Data: b64("AQID")}, // 1 2 3
		}
	}
	none := func(string) string { return "" } // 3.1.1 has no properties
	same := func(s string) string { return s }
	want := []crossEvent{{Ev: "web", Version: 4, From: "device", DataType: "binary", Data: b64("AP9oaQ==")}} // 0 255 h i
	want = append(want, fromWeb(4, none)...)
	want = append(want,
		crossEvent{Ev: "web", Version: 5, From: "device", DataType: "json", Data: map[string]any{"a": float64(1)}},
		crossEvent{Ev: "web", Version: 5, From: "device", DataType: "text", Data: "héllo"},
		crossEvent{Ev: "web", Version: 5, From: "device", DataType: "binary", Data: b64("AQI=")}, // 1 2
	)
	want = append(want, fromWeb(5, same)...)
	want = append(want, crossEvent{Ev: "done"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages received by the JavaScript clients (-want +got):\n%s", diff)
	}
}
