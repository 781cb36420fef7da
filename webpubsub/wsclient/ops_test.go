package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
)

func TestDataTypesAndSenders(t *testing.T) {
	for _, proto := range []Protocol{ProtocolReliableJSON, ProtocolJSON} {
		t.Run(string(proto), func(t *testing.T) {
			e := newEnv(t)
			recv := start(t, e.direct("h", tokenOpts{user: "r", roles: allRoles}), &Options{Protocol: proto})
			if recv.UserID() != "r" {
				t.Errorf("UserID = %q", recv.UserID())
			}
			ctx := ctxT(t, 10*time.Second)
			if err := recv.JoinGroup(ctx, "g"); err != nil {
				t.Fatal(err)
			}
			send := start(t, e.direct("h", tokenOpts{roles: allRoles}), &Options{Protocol: proto})
			sends := []Payload{Text("hi\n"), JSON(map[string]int{"a": 1}), RawJSON([]byte(`[1, 2]`)), Binary([]byte{0, 1, 0xff})}
			for _, p := range sends {
				if err := send.SendToGroup(ctx, "g", p, nil); err != nil {
					t.Fatal(err)
				}
			}
			got := receiveN(t, recv, len(sends), 10*time.Second)
			want := []any{"hi\n", json.RawMessage(`{"a":1}`), json.RawMessage(`[1,2]`), []byte{0, 1, 0xff}}
			types := []DataType{DataTypeText, DataTypeJSON, DataTypeJSON, DataTypeBinary}
			for i, m := range got {
				if diff := cmp.Diff(want[i], m.Data); diff != "" {
					t.Errorf("message %d data (-want +got):\n%s", i, diff)
				}
				if m.DataType != types[i] || m.From != FromGroup || m.Group != "g" || m.FromUserID != "" {
					t.Errorf("message %d: %+v", i, m)
				}
				if (m.SequenceID != 0) != (proto == ProtocolReliableJSON) {
					t.Errorf("message %d: sequence id %d on %s", i, m.SequenceID, proto)
				}
				if string(m.Bytes()) == "" {
					t.Errorf("message %d: no bytes", i)
				}
			}
			// The sender gets its own messages unless NoEcho.
			if err := send.JoinGroup(ctx, "g"); err != nil {
				t.Fatal(err)
			}
			if err := send.SendToGroup(ctx, "g", Text("echo?"), &SendToGroupOptions{NoEcho: true}); err != nil {
				t.Fatal(err)
			}
			receiveN(t, recv, 1, 5*time.Second)
			if m, err := send.Receive(ctxT(t, 200*time.Millisecond)); err == nil {
				t.Fatalf("NoEcho: the sender received %+v", m)
			}
			if err := send.LeaveGroup(ctx, "g"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAckErrorsDuplicateAndExplicitAckID(t *testing.T) {
	e := newEnv(t)
	c := start(t, e.direct("h", tokenOpts{user: "u"}), nil) // no roles
	ctx := ctxT(t, 10*time.Second)
	err := c.JoinGroup(ctx, "g")
	var ae *AckError
	if !errors.As(err, &ae) || ae.Name != wire.AckErrorForbidden || ae.AckID == 0 {
		t.Fatalf("JoinGroup without a role = %v, want a Forbidden *AckError", err)
	}
	if !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("error %q does not name Forbidden", err)
	}

	s := start(t, e.direct("h", tokenOpts{user: "s", roles: allRoles}), nil)
	if err := s.JoinGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	// The same explicit ack id twice: the second is a Duplicate, which
	// counts as success, and the message is published once.
	for range 2 {
		if err := s.SendToGroup(ctx, "g", Text("once"), &SendToGroupOptions{AckID: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	receiveN(t, s, 1, 5*time.Second)
	if m, err := s.Receive(ctxT(t, 200*time.Millisecond)); err == nil {
		t.Fatalf("a duplicate was published: %+v", m)
	}
}

func TestEventsToTheHandler(t *testing.T) {
	var mu sync.Mutex
	var got []emulator.Event
	h := emulator.EventHandlerFunc(func(_ context.Context, ev emulator.Event) (*emulator.Payload, error) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		if ev.Name == "fail" {
			return nil, errors.New("handler failed")
		}
		return &emulator.Payload{DataType: wire.DataTypeText, Data: []byte("reply to " + ev.Name)}, nil
	})
	e := newEnv(t, emulator.WithEventHandler(h))
	c := start(t, e.direct("h", tokenOpts{user: "u"}), nil)
	ctx := ctxT(t, 10*time.Second)
	if err := c.SendEvent(ctx, "greet", Text("hello"), nil); err != nil {
		t.Fatal(err)
	}
	m := receiveN(t, c, 1, 5*time.Second)[0]
	if m.From != FromServer || m.Data != any("reply to greet") {
		t.Fatalf("reply %+v", m)
	}
	if err := c.SendEvent(ctx, "ff", JSON(1), &SendEventOptions{FireAndForget: true}); err != nil {
		t.Fatal(err)
	}
	receiveN(t, c, 1, 5*time.Second)
	var ae *AckError
	if err := c.SendEvent(ctx, "fail", Text("x"), nil); !errors.As(err, &ae) || ae.Name != wire.AckErrorInternal {
		t.Fatalf("SendEvent to a failing handler = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0].Name != "greet" || string(got[0].Payload.Data) != "hello" || got[1].Payload.DataType != wire.DataTypeJSON {
		t.Fatalf("the handler got %+v", got)
	}
}

func TestInvalidArguments(t *testing.T) {
	e := newEnv(t)
	c := start(t, e.direct("h", tokenOpts{user: "u"}), nil)
	ctx := ctxT(t, 5*time.Second)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"empty group", c.JoinGroup(ctx, " "), "group"},
		{"long group", c.LeaveGroup(ctx, strings.Repeat("g", 1025)), "1024"},
		{"send empty group", c.SendToGroup(ctx, "", Text("x"), nil), "group"},
		{"bad JSON", c.SendToGroup(ctx, "g", JSON(func() {}), nil), "encoding the JSON payload"},
		{"bad raw JSON", c.SendEvent(ctx, "e", RawJSON([]byte("{")), nil), "not valid JSON"},
		{"no event name", c.SendEvent(ctx, "", Text("x"), nil), "event name"},
		{"invalid UTF-8 group", c.JoinGroup(ctx, "g\xff"), "not valid UTF-8"},
		{"2,000-char group", c.JoinGroup(ctx, strings.Repeat("g", 2000)), "has 2000 characters"},
		{"invalid UTF-8 send group", c.SendToGroup(ctx, "\xfe", Text("x"), nil), "not valid UTF-8"},
		{"invalid UTF-8 text", c.SendToGroup(ctx, "g", Text("a\xffb"), nil), "send such data with Binary"},
		{"NaN", c.SendToGroup(ctx, "g", JSON(math.NaN()), nil), "encoding the JSON payload"},
		{"channel", c.SendEvent(ctx, "e", JSON(make(chan int)), &SendEventOptions{FireAndForget: true}), "encoding the JSON payload"},
		{"zero payload", c.SendToGroup(ctx, "g", Payload{}, nil), "payload is empty"},
		{"zero payload event", c.SendEvent(ctx, "e", Payload{}, nil), "payload is empty"},
		{"invalid UTF-8 event", c.SendEvent(ctx, "e\xff", Text("x"), nil), "event name of valid UTF-8"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, tt.err, tt.want)
		} else if len(tt.err.Error()) > 500 {
			t.Errorf("%s: a %d-byte error", tt.name, len(tt.err.Error()))
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		o    *Options
		want string
	}{
		{"protocol", &Options{Protocol: "protobuf.webpubsub.azure.v1"}, "unsupported protocol"},
		{"attempts", &Options{MaxReconnectAttempts: -1}, "MaxReconnectAttempts"},
	}
	for _, tt := range tests {
		if _, err := New("ws://localhost/client/hubs/h", tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewWithURLFunc(nil, nil); err == nil {
		t.Error("NewWithURLFunc(nil) succeeded")
	}
}

func TestLifeCycle(t *testing.T) {
	e := newEnv(t)
	u := e.direct("h", tokenOpts{user: "u", roles: allRoles})
	c, err := New(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	if err := c.JoinGroup(ctx, "g"); !errors.Is(err, ErrStopped) {
		t.Errorf("JoinGroup before Start = %v, want ErrStopped", err)
	}
	if _, err := c.Receive(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Receive before Start = %v, want ErrStopped", err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); !errors.Is(err, ErrAlreadyStarted) {
		t.Errorf("second Start = %v", err)
	}
	if err := c.JoinGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendToGroup(ctx, "g", Text("left"), nil); err != nil {
		t.Fatal(err)
	}
	// Wait until the message is queued, then stop: it can still be read.
	deadline := time.Now().Add(5 * time.Second)
	for c.msgs.len() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.Stop()
	c.Stop()
	<-c.Done()
	if m, err := c.Receive(ctx); err != nil || m.Data != any("left") {
		t.Fatalf("Receive after Stop = %+v, %v; want the queued message", m, err)
	}
	if _, err := c.Receive(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Receive after Stop = %v, want ErrStopped", err)
	}
	if err := c.SendToGroup(ctx, "g", Text("x"), &SendToGroupOptions{FireAndForget: true}); !errors.Is(err, ErrStopped) {
		t.Errorf("SendToGroup after Stop = %v", err)
	}
	if err := c.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop = %v", err)
	}
	if c.Err() != nil {
		t.Errorf("Err after Stop = %v", c.Err())
	}
	n, _ := New(u, nil)
	n.Stop() // a never started client stops at once
	<-n.Done()
}

func TestCallbacksAndIterator(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var got []string
	arrived := make(chan struct{}, 10)
	ev := newEvents()
	o := ev.options(&Options{OnMessage: func(m Message) {
		mu.Lock()
		got = append(got, m.Data.(string))
		mu.Unlock()
		arrived <- struct{}{}
	}})
	cb := start(t, e.direct("h", tokenOpts{user: "cb", roles: allRoles}), o)
	it := start(t, e.direct("h", tokenOpts{user: "it", roles: allRoles}), nil)
	ctx := ctxT(t, 10*time.Second)
	for _, c := range []*Client{cb, it} {
		if err := c.JoinGroup(ctx, "g"); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"a", "b", "c"} {
		if err := it.SendToGroup(ctx, "g", Text(s), nil); err != nil {
			t.Fatal(err)
		}
	}
	var viaIter []string
	for m := range it.Messages(ctx) {
		viaIter = append(viaIter, m.Data.(string))
		if len(viaIter) == 3 {
			break
		}
	}
	for range 3 {
		select {
		case <-arrived:
		case <-ctx.Done():
			t.Fatal("the callback did not get 3 messages")
		}
	}
	cb.Stop()
	mu.Lock()
	defer mu.Unlock()
	want := []string{"a", "b", "c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("callback (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, viaIter); diff != "" {
		t.Errorf("iterator (-want +got):\n%s", diff)
	}
	list := ev.snapshot()
	if count[ConnectedEvent](list) != 1 || count[StoppedEvent](list) != 1 {
		t.Errorf("events %#v", list)
	}
	if _, ok := list[len(list)-1].(StoppedEvent); !ok {
		t.Errorf("the last event is %#v, want stopped", list[len(list)-1])
	}
	if _, err := cb.Receive(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Receive on a stopped callback client = %v", err)
	}
}
