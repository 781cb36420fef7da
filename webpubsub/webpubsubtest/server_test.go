package webpubsubtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// TestMain fails the package when goroutines outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClientDeliversToConnections(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	client := srv.Client(t, "chat")
	alice := srv.Connect(t, "chat", "alice", webpubsubtest.WithGroups("room"))
	bob := srv.Connect(t, "chat", "bob", webpubsubtest.WithSubprotocol(webpubsubtest.SubprotocolReliableJSON))
	raw := srv.Connect(t, "chat", "carol", webpubsubtest.WithSubprotocol(webpubsubtest.SubprotocolNone))

	if err := client.SendToGroup(ctx(t), "room", webpubsub.Text("hello room"), nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(webpubsubtest.Message{From: "group", Group: "room", DataType: "text", Data: []byte("hello room")}, alice.Next(t)); diff != "" {
		t.Errorf("group message (-want +got):\n%s", diff)
	}
	if err := client.SendToUser(ctx(t), "bob", webpubsub.JSON(map[string]int{"n": 1}), nil); err != nil {
		t.Fatal(err)
	}
	m := bob.Next(t)
	var got map[string]int
	if err := m.DecodeJSON(&got); err != nil || got["n"] != 1 || m.From != "server" || m.SequenceID != 1 {
		t.Errorf("user message %+v (%v)", m, err)
	}
	if err := client.SendToAll(ctx(t), webpubsub.Binary([]byte{1, 2}), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*webpubsubtest.Conn{alice, bob, raw} {
		if m := c.Next(t); m.DataType != "binary" || !slices.Equal(m.Data, []byte{1, 2}) {
			t.Errorf("%s: broadcast %+v", c.UserID(), m)
		}
	}
	alice.ExpectNoMessage(t, 20*time.Millisecond)

	ok, err := client.ConnectionExists(ctx(t), alice.ConnectionID())
	if err != nil || !ok {
		t.Errorf("ConnectionExists: %v %v", ok, err)
	}
	var ops []string
	for _, r := range srv.Requests() {
		ops = append(ops, fmt.Sprintf("%s %d", r.Operation, r.Status))
	}
	want := []string{"Connect 101", "Connect 101", "Connect 101", "SendToGroup 202", "SendToUser 202", "SendToAll 202", "ConnectionExists 200"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("request log (-want +got):\n%s", diff)
	}
	if r := srv.RequestsFor("SendToGroup"); len(r) != 1 || r[0].Path != "/api/hubs/chat/groups/room/:send" || r[0].Query.Get("api-version") == "" {
		t.Errorf("SendToGroup record %+v", r)
	}
}

func TestConnClientProtocol(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	a := srv.Connect(t, "hub", "a", webpubsubtest.WithRoles("webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"))
	b := srv.Connect(t, "hub", "b")
	if err := a.Join(ctx(t), "g"); err != nil {
		t.Fatal(err)
	}
	var ae *webpubsubtest.AckError
	if err := b.Join(ctx(t), "g"); !errors.As(err, &ae) || ae.Name != "Forbidden" {
		t.Fatalf("join without role: %v", err)
	}
	client := srv.Client(t, "hub")
	if err := client.AddConnectionToGroup(ctx(t), "g", b.ConnectionID()); err != nil {
		t.Fatal(err)
	}
	if err := a.SendToGroup(ctx(t), "g", webpubsubtest.JSON([]int{1, 2}), &webpubsubtest.SendOptions{NoEcho: true}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(webpubsubtest.Message{From: "group", Group: "g", FromUserID: "a", DataType: "json", Data: []byte("[1,2]")}, b.Next(t)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a.ExpectNoMessage(t, 20*time.Millisecond)
	if err := a.SendEvent(ctx(t), "evt", webpubsubtest.Text("x")); err != nil {
		t.Fatal(err)
	}
	raw := srv.Connect(t, "hub", "raw", webpubsubtest.WithSubprotocol(webpubsubtest.SubprotocolNone))
	if err := raw.SendEvent(ctx(t), "", webpubsubtest.Binary([]byte{5})); err != nil {
		t.Fatal(err)
	}
	var events []webpubsubtest.Event
	for deadline := time.Now().Add(5 * time.Second); len(events) < 2 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		events = srv.Events()
	}
	if len(events) != 2 {
		t.Fatalf("events %+v, want 2", events)
	}
	wantEvents := []webpubsubtest.Event{
		{Hub: "hub", ConnectionID: a.ConnectionID(), UserID: "a", Name: "evt", DataType: "text", Data: []byte("x")},
		{Hub: "hub", ConnectionID: events[len(events)-1].ConnectionID, UserID: "raw", Name: "message", DataType: "binary", Data: []byte{5}},
	}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if err := a.Leave(ctx(t), "g"); err != nil {
		t.Fatal(err)
	}
	if err := client.CloseConnection(ctx(t), b.ConnectionID(), &webpubsub.CloseConnectionOptions{Reason: "done"}); err != nil {
		t.Fatal(err)
	}
	code, reason, err := b.CloseStatus(ctx(t))
	if err != nil || code != 1000 || reason != "done" {
		t.Fatalf("close status %d %q %v", code, reason, err)
	}
	if _, err := b.Receive(ctx(t)); !errors.Is(err, webpubsubtest.ErrClosed) {
		t.Fatalf("Receive after close: %v", err)
	}
}

func TestInjectFault(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	fast := webpubsub.WithRetry(webpubsub.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond})
	client := srv.Client(t, "hub", fast)

	t.Run("status then success", func(t *testing.T) {
		srv.ResetRequests()
		srv.InjectFault(webpubsubtest.Fault{Operation: "GroupExists", Count: 2, Status: http.StatusServiceUnavailable})
		ok, err := client.GroupExists(ctx(t), "g")
		if err != nil || ok {
			t.Fatalf("GroupExists: %v %v", ok, err)
		}
		var statuses []int
		for _, r := range srv.Requests() {
			statuses = append(statuses, r.Status)
		}
		if diff := cmp.Diff([]int{503, 503, 404}, statuses); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
	t.Run("error surfaces with code", func(t *testing.T) {
		srv.InjectFault(webpubsubtest.Fault{Status: http.StatusForbidden, ErrorCode: "Nope"})
		err := client.SendToAll(ctx(t), webpubsub.Text("x"), nil)
		var re *webpubsub.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 403 || re.ErrorCode != "Nope" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("retry-after on a send", func(t *testing.T) {
		srv.ResetRequests()
		srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Status: http.StatusTooManyRequests, RetryAfter: time.Millisecond})
		if err := client.SendToAll(ctx(t), webpubsub.Text("x"), nil); err != nil {
			t.Fatal(err)
		}
		r := srv.Requests()
		if len(r) != 2 || !r[0].Fault || r[0].Status != 429 || r[1].Status != 202 {
			t.Fatalf("requests %+v", r)
		}
	})
	t.Run("drop", func(t *testing.T) {
		srv.ResetRequests()
		srv.InjectFault(webpubsubtest.Fault{Operation: "UserExists", Drop: true})
		if _, err := client.UserExists(ctx(t), "u"); err != nil {
			t.Fatalf("UserExists after a dropped try: %v", err)
		}
		r := srv.Requests()
		if len(r) != 2 || r[0].Status != 0 || !r[0].Fault || r[1].Status != 404 {
			t.Fatalf("requests %+v", r)
		}
	})
	t.Run("delay", func(t *testing.T) {
		srv.InjectFault(webpubsubtest.Fault{Operation: "GetServiceStatus", Delay: 50 * time.Millisecond})
		start := time.Now()
		if err := client.CheckHealth(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered after %v", d)
		}
		srv.ClearFaults()
	})
}

func TestConnectionStringAndCleanup(t *testing.T) {
	srv := webpubsubtest.NewServer(t, webpubsubtest.WithAccessKey("my-test-key-0123456789"))
	cs, err := webpubsub.ParseConnectionString(srv.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	if cs.Endpoint != srv.URL() || cs.AccessKey != "my-test-key-0123456789" {
		t.Errorf("parsed %+v", cs)
	}
	// A client with another key is refused.
	bad, err := webpubsub.NewClientFromConnectionString("Endpoint="+srv.URL()+";AccessKey=wrong;Version=1.0;", "hub",
		webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: -1}))
	if err != nil {
		t.Fatal(err)
	}
	var re *webpubsub.ResponseError
	if err := bad.SendToAll(ctx(t), webpubsub.Text("x"), nil); !errors.As(err, &re) || re.StatusCode != 401 {
		t.Fatalf("wrong key: %v", err)
	}
	// Client access tokens from the SDK connect.
	client := srv.Client(t, "hub")
	tok, err := client.ClientAccessToken(ctx(t), &webpubsub.TokenOptions{UserID: "z", Groups: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.BaseURL == "" || tok.URL == "" {
		t.Fatalf("token %v", tok)
	}
	exists := func() bool {
		ok, err := client.UserExists(ctx(t), "z")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if exists() {
		t.Fatal("user exists before connecting")
	}
	ws, _, err := websocket.Dial(ctx(t), tok.URL, &websocket.DialOptions{Subprotocols: []string{webpubsubtest.SubprotocolJSON}})
	if err != nil {
		t.Fatalf("dial the SDK's client URL: %v", err)
	}
	defer ws.CloseNow()
	if _, b, err := ws.Read(ctx(t)); err != nil || !strings.Contains(string(b), `"userId":"z"`) {
		t.Fatalf("connected: %s %v", b, err)
	}
	if !exists() {
		t.Fatal("user does not exist after connecting with the SDK's token")
	}
	s2, err := webpubsubtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s2.Dial(ctx(t), "hub", "u")
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, _, err := c.CloseStatus(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctx(t)); !errors.Is(err, webpubsubtest.ErrClosed) {
		t.Fatalf("after server close: %v", err)
	}
	_ = c.Close()
	s2.Close() // idempotent
}
