package interop

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// received is a message as both clients report it.
type received struct {
	From       string `json:"from"`
	Group      string `json:"group"`
	FromUserID string `json:"fromUserId"`
	DataType   string `json:"dataType"`
	Data       any    `json:"data"`
}

// TestWSClientReceivesWhatTheJSClientReceives: the official server SDK
// (@azure/web-pubsub) sends json, text and binary to a user, to all and to
// a group; a Go wsclient and @azure/web-pubsub-client 1.1.0, connected side
// by side, receive the same messages in the same order with the same data
// types.
func TestWSClientReceivesWhatTheJSClientReceives(t *testing.T) {
	dir := nodeModules(t)
	srv := webpubsubtest.NewServer(t)
	js := startJSServerSDK(t, srv.ConnectionString(), "chat")
	sdk := srv.Client(t, "chat")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	roles := []string{"webpubsub.joinLeaveGroup"}
	goTok, err := sdk.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "u", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	jsTok, err := sdk.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "u", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}

	goClient, err := wsclient.New(goTok.URL, nil)
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

	sends := []map[string]any{
		{"op": "sendToUser", "user": "u", "message": map[string]any{"a": []int{1, 2}}},
		{"op": "sendToUser", "user": "u", "type": "text", "message": "hi\nthere"},
		{"op": "sendToUser", "user": "u", "type": "binary", "message": "AQID"},
		{"op": "sendToAll", "type": "text", "message": "to all"},
		{"op": "groupSendToAll", "group": "g", "message": "a JSON string"},
		{"op": "groupSendToAll", "group": "g", "type": "binary", "message": "/wA="},
		{"op": "groupSendToAll", "group": "g", "type": "text", "message": "ü"},
	}
	cmd := exec.CommandContext(ctx, "node", "receive.mjs", jsTok.URL, strconv.Itoa(len(sends)))
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != `{"ready":true}` {
		t.Fatalf("node: %q", sc.Text())
	}
	for _, s := range sends {
		js.ok(s)
	}
	var jsGot []received
	for sc.Scan() {
		var r received
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("node printed %q", sc.Text())
		}
		jsGot = append(jsGot, r)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v", err)
	}

	var goGot []received
	for range sends {
		m, err := goClient.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := received{From: m.From, Group: m.Group, FromUserID: m.FromUserID, DataType: string(m.DataType)}
		switch d := m.Data.(type) {
		case json.RawMessage:
			if err := json.Unmarshal(d, &r.Data); err != nil {
				t.Fatal(err)
			}
		case string:
			r.Data = d
		case []byte:
			r.Data = map[string]any{"base64": base64.StdEncoding.EncodeToString(d)}
		}
		goGot = append(goGot, r)
	}
	if len(jsGot) != len(sends) {
		t.Fatalf("the JS client got %d messages, want %d: %+v", len(jsGot), len(sends), jsGot)
	}
	if diff := cmp.Diff(jsGot, goGot); diff != "" {
		t.Errorf("wsclient vs @azure/web-pubsub-client (-js +go):\n%s", diff)
	}
	if goGot[0].DataType != "json" || goGot[1].DataType != "text" || goGot[2].DataType != "binary" {
		t.Errorf("data types %+v", goGot)
	}
}
