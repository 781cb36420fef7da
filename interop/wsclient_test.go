package interop

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// received is one message in a form both clients' output maps to: binary
// data as {"base64": ...}, JSON data as the decoded value.
type received struct {
	Kind     string `json:"kind"`
	Group    string `json:"group"`
	From     string `json:"from"`
	DataType string `json:"dataType"`
	Data     any    `json:"data"`
}

// fromWSClient maps a wsclient message onto received.
func fromWSClient(t *testing.T, m wsclient.Message) received {
	t.Helper()
	r := received{Kind: m.From, Group: m.Group, From: m.FromUserID, DataType: string(m.DataType)}
	switch d := m.Data.(type) {
	case json.RawMessage:
		if err := json.Unmarshal(d, &r.Data); err != nil {
			t.Fatalf("JSON data %q: %v", d, err)
		}
	case string:
		r.Data = d
	case []byte:
		r.Data = map[string]any{"base64": base64.StdEncoding.EncodeToString(d)}
	default:
		t.Fatalf("data of type %T", m.Data)
	}
	return r
}

// TestWSClientReceivesLikeJSClient sends with the official server SDK
// @azure/web-pubsub (to all, to a user, to a group; JSON objects, arrays,
// numbers, text with non-ASCII characters, binary) and with a wsclient
// publisher (its three data types), to two receivers of the same user in the
// same group: a Go wsclient and @azure/web-pubsub-client 1.1. Both must
// receive the same messages, in the same order, with the same data types
// and values — and exactly the messages that were sent.
func TestWSClientReceivesLikeJSClient(t *testing.T) {
	dir := nodeModules(t)
	srv := webpubsubtest.NewServer(t)
	js := startJSServerSDK(t, srv.ConnectionString(), "chat")
	rest := srv.Client(t, "chat")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	token := func(user string, roles ...string) string {
		t.Helper()
		tok, err := rest.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: user, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		return tok.URL
	}
	recvURL := token("r", "webpubsub.joinLeaveGroup")

	type send struct {
		cmd  map[string]any // for server.mjs; nil: the Go publisher sends pub
		pub  wsclient.Payload
		want received
	}
	server := func(dataType string, data any) received {
		return received{Kind: "server", DataType: dataType, Data: data}
	}
	group := func(from, dataType string, data any) received {
		return received{Kind: "group", Group: "g", From: from, DataType: dataType, Data: data}
	}
	obj := map[string]any{"a": float64(1), "nested": map[string]any{"list": []any{"x", true, nil}}, "ü": "☃"}
	sends := []send{
		{cmd: map[string]any{"op": "sendToAll", "message": obj}, want: server("json", obj)},
		{cmd: map[string]any{"op": "sendToAll", "message": []any{float64(1), "two"}}, want: server("json", []any{float64(1), "two"})},
		{cmd: map[string]any{"op": "sendToAll", "message": 42}, want: server("json", float64(42))},
		{cmd: map[string]any{"op": "sendToAll", "type": "text", "message": "héllo ☃ 😀"}, want: server("text", "héllo ☃ 😀")},
		{cmd: map[string]any{"op": "sendToAll", "type": "binary", "message": "AAEC/w=="}, want: server("binary", map[string]any{"base64": "AAEC/w=="})},
		{cmd: map[string]any{"op": "sendToUser", "user": "r", "type": "text", "message": "to r"}, want: server("text", "to r")},
		{cmd: map[string]any{"op": "sendToUser", "user": "r", "message": map[string]any{"to": "r"}}, want: server("json", map[string]any{"to": "r"})},
		{cmd: map[string]any{"op": "groupSendToAll", "group": "g", "message": obj}, want: group("", "json", obj)},
		{cmd: map[string]any{"op": "groupSendToAll", "group": "g", "type": "text", "message": "group text"}, want: group("", "text", "group text")},
		{cmd: map[string]any{"op": "groupSendToAll", "group": "g", "type": "binary", "message": "AQID"}, want: group("", "binary", map[string]any{"base64": "AQID"})},
		{pub: wsclient.JSON(map[string]any{"from": "go"}), want: group("pub", "json", map[string]any{"from": "go"})},
		{pub: wsclient.Text("from go"), want: group("pub", "text", "from go")},
		{pub: wsclient.Binary([]byte{9, 8, 7}), want: group("pub", "binary", map[string]any{"base64": "CQgH"})},
	}
	var want []received
	for _, s := range sends {
		want = append(want, s.want)
	}

	// The Go receiver.
	goClient, err := wsclient.New(recvURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := goClient.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer goClient.Stop()
	if err := goClient.JoinGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}

	// The JavaScript receiver.
	cmd, stdout := startNode(t, ctx, dir, "receive.mjs", recvURL, "g", strconv.Itoa(len(sends)))
	lines := bufio.NewScanner(stdout)
	next := func() map[string]json.RawMessage {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("node receive.mjs ended: %v", lines.Err())
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("node printed %q", lines.Text())
		}
		return m
	}
	if ev := next()["ev"]; string(ev) != `"ready"` {
		t.Fatalf("node receive.mjs: %s", lines.Text())
	}

	// The senders: the official server SDK and a Go publisher.
	pub, err := wsclient.New(token("pub", "webpubsub.sendToGroup"), &wsclient.Options{Protocol: wsclient.ProtocolJSON})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pub.Stop()
	for _, s := range sends {
		if s.cmd != nil {
			js.ok(s.cmd)
		} else if err := pub.SendToGroup(ctx, "g", s.pub, nil); err != nil {
			t.Fatal(err)
		}
	}

	var gotGo, gotJS []received
	for range sends {
		m, err := goClient.Receive(ctx)
		if err != nil {
			t.Fatalf("wsclient after %d messages: %v", len(gotGo), err)
		}
		gotGo = append(gotGo, fromWSClient(t, m))
	}
	for range sends {
		if m := next(); string(m["ev"]) != `"message"` {
			t.Fatalf("node receive.mjs: %s", lines.Text())
		}
		var r received
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		gotJS = append(gotJS, r)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node receive.mjs: %v", err)
	}
	if diff := cmp.Diff(gotJS, gotGo); diff != "" {
		t.Errorf("wsclient received differently from @azure/web-pubsub-client (-js +go):\n%s", diff)
	}
	if diff := cmp.Diff(want, gotGo); diff != "" {
		t.Errorf("wsclient received (-sent +received):\n%s", diff)
	}
	// Nothing else arrives at the Go receiver.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if m, err := goClient.Receive(short); err == nil {
		t.Errorf("an extra message: %+v", m)
	}
}
