package wsclient

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// A request sent on a connection that is then lost for good fails with
// ErrAckLost; a request made while there is no connection waits for the
// next one.
func TestAckLostAndQueuedRequests(t *testing.T) {
	var conns atomic.Int32
	joined := make(chan string, 10)
	u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
		n := conns.Add(1)
		_ = ws.Write(ctx, websocket.MessageText, []byte(strings.Replace(connectedJSON, `"c1"`, `"c`+string(rune('0'+n))+`"`, 1)))
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			f, _ := parseFrame(b, nil)
			if f.Type != wire.TypeJoinGroup {
				continue
			}
			var r request
			_ = jsonUnmarshal(b, &r)
			joined <- r.Group
			if n == 1 {
				// The first connection never acks; it ends.
				_ = ws.Close(websocket.StatusGoingAway, "restart")
				return
			}
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ack","ackId":`+itoa(r.AckID)+`,"success":true}`))
		}
	})
	ev := newEvents()
	c := start(t, u, ev.options(&Options{Protocol: ProtocolJSON, ReconnectDelay: func(int) time.Duration { return 200 * time.Millisecond }}))
	err := c.JoinGroup(ctxT(t, 10*time.Second), "lost")
	if !errors.Is(err, ErrAckLost) {
		t.Fatalf("JoinGroup on the lost connection = %v, want ErrAckLost", err)
	}
	// Made while reconnecting: sent on the new connection.
	if err := c.JoinGroup(ctxT(t, 10*time.Second), "later"); err != nil {
		t.Fatal(err)
	}
	if got := []string{<-joined, <-joined}; got[0] != "lost" || got[1] != "later" {
		t.Fatalf("joins %v", got)
	}
	if c.ConnectionID() != "c2" {
		t.Errorf("ConnectionID = %q, want c2", c.ConnectionID())
	}
	list := ev.wait(t, 5*time.Second, "connected twice", func(l []any) bool { return count[ConnectedEvent](l) == 2 })
	for _, x := range list {
		if d, ok := x.(DisconnectedEvent); ok && (d.ConnectionID != "c1" || closeCode(d.Err) != int(websocket.StatusGoingAway)) {
			t.Errorf("disconnected %+v", d)
		}
	}
}

// A client whose URL function keeps failing gives up after
// MaxReconnectAttempts and stops with the reason; rejoining a group the
// new token does not allow raises rejoin-group-failed.
func TestReconnectGivesUpAndRejoinFails(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	urlFunc := func(ctx context.Context) (string, error) {
		switch calls.Add(1) {
		case 1:
			return e.viaProxy("h", tokenOpts{user: "u", roles: allRoles}), nil
		case 2:
			return e.viaProxy("h", tokenOpts{user: "u"}), nil // may not join
		}
		return "", errors.New("negotiate is down")
	}
	ev := newEvents()
	c, err := NewWithURLFunc(urlFunc, ev.options(&Options{Protocol: ProtocolJSON, MaxReconnectAttempts: 2, ReconnectDelay: func(int) time.Duration { return time.Millisecond }}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.JoinGroup(ctxT(t, 5*time.Second), "g"); err != nil {
		t.Fatal(err)
	}
	e.proxy.Break()
	ev.wait(t, 10*time.Second, "rejoin-group-failed", func(l []any) bool { return count[RejoinGroupFailedEvent](l) == 1 })
	e.proxy.Break()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not give up")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "gave up reconnecting after 2 attempts") || !strings.Contains(err.Error(), "negotiate is down") {
		t.Fatalf("Err = %v", err)
	}
	if _, err := c.Receive(ctxT(t, time.Second)); !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("Receive = %v", err)
	}
	list := ev.snapshot()
	if count[DisconnectedEvent](list) != 2 || count[ConnectedEvent](list) != 2 || count[StoppedEvent](list) != 1 {
		t.Fatalf("events %#v", list)
	}
}

// Stop while a reconnect waits ends at once; a fire-and-forget send made
// without a connection waits for one, bounded by its context.
func TestStopWhileReconnecting(t *testing.T) {
	e := newEnv(t)
	c := start(t, e.viaProxy("h", tokenOpts{user: "u", roles: allRoles}), &Options{Protocol: ProtocolJSON, ReconnectDelay: func(int) time.Duration { return time.Hour }})
	e.proxy.Break()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		s := c.sock
		c.mu.Unlock()
		if s == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the connection did not drop")
		}
		time.Sleep(time.Millisecond)
	}
	err := c.SendToGroup(ctxT(t, 100*time.Millisecond), "g", Text("x"), &SendToGroupOptions{FireAndForget: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fire-and-forget without a connection = %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.SendEvent(context.Background(), "e", Text("x"), nil) }()
	waitPending(t, c)
	began := time.Now()
	c.Stop()
	if time.Since(began) > 5*time.Second {
		t.Errorf("Stop took %s", time.Since(began))
	}
	if err := <-errc; !errors.Is(err, ErrStopped) {
		t.Errorf("the waiting request = %v, want ErrStopped", err)
	}
}
