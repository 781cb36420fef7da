package webpubsubtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping,
// to test helpers that fail the test.
type fatalRecorder struct {
	testing.TB
	mu    sync.Mutex
	fatal string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServerOptions(t *testing.T) {
	const key = "OptionsKeyOptionsKeyOptionsKeyOptionsKey1234"
	var logs syncBuffer
	srv := webpubsubtest.NewServer(t,
		webpubsubtest.WithAccessKey(key),
		webpubsubtest.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		webpubsubtest.WithRecoveryWindow(100*time.Millisecond))
	if srv.AccessKey() != key || !strings.Contains(srv.ConnectionString(), "AccessKey="+key+";") {
		t.Errorf("AccessKey %q, connection string %q; want the key %q", srv.AccessKey(), srv.ConnectionString(), key)
	}
	client := srv.Client(t, "chat")

	// A dropped reliable client keeps its connection for the recovery
	// window, then is gone.
	bob := srv.Connect(t, "chat", "bob", webpubsubtest.WithSubprotocol(webpubsubtest.SubprotocolReliableJSON))
	if bob.UserID() != "bob" {
		t.Errorf("UserID() = %q", bob.UserID())
	}
	bob.Drop()
	if ok, err := client.ConnectionExists(ctx(t), bob.ConnectionID()); err != nil || !ok {
		t.Errorf("right after the drop: ConnectionExists = %v, %v; want true (recoverable)", ok, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := client.ConnectionExists(ctx(t), bob.ConnectionID())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dropped connection outlived its 100 ms recovery window by 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "client connected") {
		t.Errorf("WithLogger: the log has no connection event:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), key) {
		t.Error("the log shows the access key")
	}
}

func TestConnTimeoutAndAckError(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	c := srv.Connect(t, "chat", "carol", webpubsubtest.WithTimeout(50*time.Millisecond))

	// Next waits for the Conn's timeout, then fails the test.
	rec := &fatalRecorder{TB: t}
	start := time.Now()
	c.Next(rec)
	if took := time.Since(start); took < 50*time.Millisecond || took > 2*time.Second {
		t.Errorf("Next gave up after %v, want about the 50 ms WithTimeout", took)
	}
	if !strings.Contains(rec.fatal, "no message") {
		t.Errorf("Next failed with %q", rec.fatal)
	}

	// Without the joinLeaveGroup role the service refuses the join.
	err := c.Join(ctx(t), "vip")
	var ae *webpubsubtest.AckError
	if !errors.As(err, &ae) || ae.Name != "Forbidden" {
		t.Fatalf("Join without permission: %v, want a Forbidden *AckError", err)
	}
	if got := ae.Error(); !strings.Contains(got, "Forbidden: ") || ae.Message == "" {
		t.Errorf("AckError text %q", got)
	}
}

// TestReliableBufferLimit bursts messages at a reliable client that never
// acknowledges them: within WithReliableBufferLimit it keeps its
// connection and gets every message; one more ends it with 1008.
func TestReliableBufferLimit(t *testing.T) {
	tests := []struct {
		name       string
		limit      int
		burst      int
		wantClosed bool
	}{
		{"small limit, within", 3, 3, false},
		{"small limit, one over", 3, 4, true},
		{"above the service's 1,000", 1100, 1001, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := webpubsubtest.NewServer(t, webpubsubtest.WithReliableBufferLimit(tc.limit))
			client := srv.Client(t, "chat")
			tok, err := client.ClientAccessToken(ctx(t), &webpubsub.TokenOptions{UserID: "u"})
			if err != nil {
				t.Fatal(err)
			}
			ws, _, err := websocket.Dial(ctx(t), tok.URL, &websocket.DialOptions{Subprotocols: []string{webpubsubtest.SubprotocolReliableJSON}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			var connected struct {
				Event        string `json:"event"`
				ConnectionID string `json:"connectionId"`
			}
			if _, b, err := ws.Read(ctx(t)); err != nil || json.Unmarshal(b, &connected) != nil || connected.Event != "connected" {
				t.Fatalf("connected message: %s, %v", b, err)
			}
			for i := range tc.burst {
				if err := client.SendToConnection(ctx(t), connected.ConnectionID, webpubsub.Text(strconv.Itoa(i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			got := 0
			for got < tc.burst {
				_, b, err := ws.Read(ctx(t))
				if err != nil {
					t.Fatalf("after %d messages: %v", got, err)
				}
				var m struct {
					Type       string `json:"type"`
					Event      string `json:"event"`
					SequenceID uint64 `json:"sequenceId"`
				}
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				if m.Type == "message" && m.SequenceID > 0 {
					got++
					continue
				}
				if m.Event == "disconnected" {
					break
				}
				t.Fatalf("unexpected %s", b)
			}
			ok, err := client.ConnectionExists(ctx(t), connected.ConnectionID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantClosed {
				if got != tc.limit {
					t.Errorf("received %d messages before the close, want the limit %d", got, tc.limit)
				}
				if _, _, err := ws.Read(ctx(t)); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
					t.Errorf("after the overflow: %v, want close 1008", err)
				}
				return
			}
			if got != tc.burst || !ok {
				t.Errorf("received %d of %d messages, connection exists %v; want all and true", got, tc.burst, ok)
			}
		})
	}
}

func TestReliableBufferLimitRefusesNonPositive(t *testing.T) {
	for _, n := range []int{-1, 0} {
		_, err := webpubsubtest.Start(webpubsubtest.WithReliableBufferLimit(n))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("WithReliableBufferLimit(%d)", n)) {
			t.Errorf("WithReliableBufferLimit(%d): %v, want an error naming the option", n, err)
		}
	}
}

func TestMisuseIsReported(t *testing.T) {
	srv := webpubsubtest.NewServer(t)

	// An invalid hub fails the test instead of returning a broken client.
	rec := &fatalRecorder{TB: t}
	if c := srv.Client(rec, "9lives"); c != nil || !strings.Contains(rec.fatal, `client for hub "9lives"`) {
		t.Errorf("Client with an invalid hub: %v, fatal %q", c, rec.fatal)
	}

	// DecodeJSON refuses a message that is not JSON.
	m := webpubsubtest.Message{DataType: eventhandler.DataText, Data: []byte(`{"a":1}`)}
	var v map[string]int
	if err := m.DecodeJSON(&v); err == nil || !strings.Contains(err.Error(), `dataType "text"`) {
		t.Errorf("DecodeJSON of text: %v", err)
	}
	m.DataType = eventhandler.DataJSON
	if err := m.DecodeJSON(&v); err != nil || v["a"] != 1 {
		t.Errorf("DecodeJSON of JSON: %v, %v", v, err)
	}

	// A payload that cannot be encoded is refused before anything is sent.
	c := srv.Connect(t, "chat", "u")
	bad := webpubsubtest.JSON(func() {})
	if err := c.SendEvent(ctx(t), "e", bad); err == nil || !strings.Contains(err.Error(), "encoding the payload") {
		t.Errorf("SendEvent of an unencodable payload: %v", err)
	}
	if err := c.SendToGroup(ctx(t), "g", bad, nil); err == nil || !strings.Contains(err.Error(), "encoding the payload") {
		t.Errorf("SendToGroup of an unencodable payload: %v", err)
	}
}

// TestSimpleClientEvents: a simple WebSocket client's frames are recorded
// as "message" events with the data type of their frame.
func TestSimpleClientEvents(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	c := srv.Connect(t, "chat", "s", webpubsubtest.WithSubprotocol(webpubsubtest.SubprotocolNone))
	for _, p := range []webpubsubtest.Payload{webpubsubtest.Text("hi"), webpubsubtest.Binary([]byte{1, 2}), webpubsubtest.JSON(map[string]int{"n": 1})} {
		if err := c.SendEvent(ctx(t), "ignored", p); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		got = got[:0]
		for _, e := range srv.Events() {
			got = append(got, fmt.Sprintf("%s %s %q", e.Name, e.DataType, e.Data))
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := []string{`message text "hi"`, `message binary "\x01\x02"`, `message text "{\"n\":1}"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// ConnectURL connects with a client access URL the code under test handed
// out; the URL's token decides the user and the roles.
func TestConnectURL(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	client := srv.Client(t, "chat")
	tok, err := client.ClientAccessToken(ctx(t), &webpubsub.TokenOptions{UserID: "dave", Roles: []string{"webpubsub.joinLeaveGroup"}})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.ConnectURL(t, tok.URL, webpubsubtest.WithSubprotocol(webpubsubtest.SubprotocolReliableJSON))
	if c.UserID() != "dave" || c.ConnectionID() == "" {
		t.Fatalf("user %q connection %q", c.UserID(), c.ConnectionID())
	}
	if err := c.Join(ctx(t), "g"); err != nil {
		t.Fatal(err)
	}
	if err := client.SendToGroup(ctx(t), "g", webpubsub.Text("hi"), nil); err != nil {
		t.Fatal(err)
	}
	if m := c.Next(t); m.Text() != "hi" || m.SequenceID == 0 {
		t.Fatalf("got %+v", m)
	}
	if _, err := srv.DialURL(ctx(t), tok.URL, webpubsubtest.WithRoles("x")); err == nil || !strings.Contains(err.Error(), "WithRoles") {
		t.Fatalf("DialURL with roles = %v", err)
	}
	bad := strings.Replace(tok.URL, "access_token=", "access_token=x", 1)
	if _, err := srv.DialURL(ctx(t), bad); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("DialURL with a bad token = %v, want the 401", err)
	}
}
