package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// reliableReceiver consumes data messages the way @azure/web-pubsub-client
// does: it drops sequence ids it has seen and acks the highest one.
type reliableReceiver struct {
	c      *wsClient
	maxSeq uint64
	data   []string
}

func (r *reliableReceiver) take(want int, ackEvery int) error {
	for len(r.data) < want {
		_, b, err := r.c.read(5 * time.Second)
		if err != nil {
			return err
		}
		var m struct {
			Type       string `json:"type"`
			SequenceID uint64 `json:"sequenceId"`
			Data       string `json:"data"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if m.Type != "message" {
			continue
		}
		if m.SequenceID == 0 {
			return fmt.Errorf("message without sequenceId: %s", b)
		}
		if m.SequenceID <= r.maxSeq {
			continue // duplicate from a replay
		}
		if m.SequenceID != r.maxSeq+1 {
			return fmt.Errorf("sequenceId jumped from %d to %d", r.maxSeq, m.SequenceID)
		}
		r.maxSeq = m.SequenceID
		r.data = append(r.data, m.Data)
		if ackEvery > 0 && len(r.data)%ackEvery == 0 {
			r.c.send(map[string]any{"type": "sequenceAck", "sequenceId": r.maxSeq})
		}
	}
	return nil
}

func recoveryURL(c *wsClient) string {
	return c.url + "&" + wire.QueryConnectionID + "=" + url.QueryEscape(c.id) + "&" + wire.QueryReconnectionToken + "=" + url.QueryEscape(c.token)
}

func TestReliableRecoveryAfterDrop(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{user: "u", subprotocol: wire.SubprotocolJSONReliable, groups: []string{"g"}})
	if c.token == "" {
		t.Fatal("no reconnectionToken in connected message")
	}
	const total = 300
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range total {
			d := &delivery{from: wire.FromGroup, group: "g", payload: Payload{DataType: wire.DataTypeText, Data: []byte(strconv.Itoa(i))}}
			s.e.send("hub", scopeGroup, "g", target{}, d, "")
			if i%50 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
	r := &reliableReceiver{c: c}
	if err := r.take(100, 40); err != nil {
		t.Fatal(err)
	}
	// Drop the TCP connection without a close handshake, mid-stream.
	_ = c.ws.CloseNow()
	// The connection survives the drop.
	time.Sleep(20 * time.Millisecond)
	if !s.e.exists("hub", scopeConnection, c.id) {
		t.Fatal("the reliable connection ended on drop")
	}
	// A wrong token is refused with 1008 and does not hurt the connection.
	bad := s.dialURL(c.url+"&awps_connection_id="+c.id+"&awps_reconnection_token=wrong", wire.SubprotocolJSONReliable)
	if code := bad.closeStatus(); code != wire.ClosePolicyViolation {
		t.Fatalf("wrong token: close code %d", code)
	}
	rc := s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable)
	if rc.id != c.id {
		t.Fatalf("recovered as %q, want %q", rc.id, c.id)
	}
	r.c = rc
	waitClosed(t, sent, "the sender")
	if err := r.take(total, 40); err != nil {
		t.Fatal(err)
	}
	for i, d := range r.data {
		if d != strconv.Itoa(i) {
			t.Fatalf("message %d is %q", i, d)
		}
	}
	rc.expectNothing(50 * time.Millisecond)
	// Still in its group after recovery.
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/groups/g/:send"), nil, "text/plain", []byte("after"))
	if err := r.take(total+1, 0); err != nil || r.data[total] != "after" {
		t.Fatalf("after recovery: %v %v", err, r.data[total:])
	}
}

func TestReliableAckPrunesReplay(t *testing.T) {
	s := newTestServer(t)
	c := s.connect("hub", clientOpts{subprotocol: wire.SubprotocolJSONReliable})
	for i := range 5 {
		s.e.send("hub", scopeConnection, c.id, target{}, &delivery{from: wire.FromServer, payload: Payload{DataType: "text", Data: []byte(strconv.Itoa(i))}}, "")
	}
	r := &reliableReceiver{c: c}
	if err := r.take(5, 0); err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"type": "sequenceAck", "sequenceId": 3})
	c.send(map[string]any{"type": "ping"})
	if m := c.next(); m["type"] != "pong" {
		t.Fatal(m)
	}
	_ = c.ws.CloseNow()
	rc := s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable)
	var seqs []float64
	for range 2 {
		m := rc.next()
		seqs = append(seqs, m["sequenceId"].(float64))
	}
	if seqs[0] != 4 || seqs[1] != 5 {
		t.Fatalf("replayed %v, want [4 5]", seqs)
	}
	rc.expectNothing(30 * time.Millisecond)
}

func TestReliableBufferLimit(t *testing.T) {
	s := newTestServer(t, WithBufferLimits(5, 1<<20))
	c := s.connect("hub", clientOpts{subprotocol: wire.SubprotocolJSONReliable})
	for i := range 6 {
		s.mustStatus(202, http.MethodPost, hubPath("hub", "/connections/"+c.id+"/:send"), nil, "text/plain", []byte(strconv.Itoa(i)))
	}
	for i := range 5 {
		if m := c.next(); m["data"] != strconv.Itoa(i) {
			t.Fatalf("message %d: %v", i, m)
		}
	}
	if m := c.next(); m["event"] != "disconnected" {
		t.Fatalf("got %v, want disconnected", m)
	}
	if code := c.closeStatus(); code != wire.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	eventually(t, "connection removed", func() bool { return !s.e.exists("hub", scopeConnection, c.id) })
	rc := s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable)
	if code := rc.closeStatus(); code != wire.ClosePolicyViolation {
		t.Fatalf("recovery after overflow: close code %d", code)
	}
}

func TestReliableRecoveryWindow(t *testing.T) {
	s := newTestServer(t, WithRecoveryWindow(100*time.Millisecond))
	c := s.connect("hub", clientOpts{user: "u", subprotocol: wire.SubprotocolJSONReliable, groups: []string{"g"}})
	_ = c.ws.CloseNow()
	eventually(t, "connection expired", func() bool { return !s.e.exists("hub", scopeConnection, c.id) })
	if s.e.exists("hub", scopeGroup, "g") || s.e.exists("hub", scopeUser, "u") {
		t.Fatal("expired connection left in its group or user")
	}
	rc := s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable)
	if code := rc.closeStatus(); code != wire.ClosePolicyViolation {
		t.Fatalf("late recovery: close code %d", code)
	}
}

// TestSlowReaderDoesNotStallOthers: a client that never reads is
// disconnected when its queue fills, while a client that keeps up gets
// every message. Keeping up means the reader is never more than a few
// messages behind: the sender waits for it, so the reading client's queue
// (8 messages) never fills however loaded the machine is, while the slow
// client's queue does. A burst faster than any reader would instead test
// the scheduler, and the reading client could be cut off too.
func TestSlowReaderDoesNotStallOthers(t *testing.T) {
	s := newTestServer(t, WithSendQueueLimits(8, 1<<30))
	fast := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slow, _, err := websocket.Dial(ctx, s.clientURL("hub", clientOpts{groups: []string{"g"}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	payload := make([]byte, 256<<10)
	const (
		n      = 48 // 12 MiB: more than the socket buffers hold
		window = 4  // messages the reading client may be behind; half its queue
	)
	var got atomic.Int32
	done := make(chan error, 1)
	go func() {
		for got.Load() < n {
			if _, _, err := fast.read(10 * time.Second); err != nil {
				done <- err
				return
			}
			got.Add(1)
		}
		done <- nil
	}()
	deadline := time.Now().Add(20 * time.Second)
	for i := range n {
		for int(got.Load()) < i-window {
			select {
			case err := <-done:
				t.Fatalf("fast client after %d messages: %v", got.Load(), err)
			case <-time.After(time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reading client got %d of %d messages in 20s", got.Load(), i)
			}
		}
		s.e.send("hub", scopeGroup, "g", target{}, &delivery{from: wire.FromGroup, group: "g", payload: Payload{DataType: wire.DataTypeBinary, Data: payload}}, "")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("fast client after %d messages: %v", got.Load(), err)
		}
	case <-time.After(time.Until(deadline) + 10*time.Second):
		t.Fatalf("the reading client got %d of %d messages", got.Load(), n)
	}
	eventually(t, "slow client dropped", func() bool { return len(s.e.groupMembers("hub", "g")) == 1 })
}

// TestConcurrentClients runs 200 clients that join, leave, send and drop
// while the service broadcasts; reliable clients must get every broadcast
// exactly once, in order, across drops.
func TestConcurrentClients(t *testing.T) {
	s := newTestServer(t, WithRecoveryWindow(5*time.Second))
	const (
		clients    = 200
		broadcasts = 40
	)
	var (
		wg       sync.WaitGroup
		failures atomic.Int32
		ready    sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	start := make(chan struct{})
	ready.Add(clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := []string{wire.SubprotocolJSONReliable, wire.SubprotocolJSON, ""}[i%3]
			roles := []string{wire.RoleJoinLeaveGroup, wire.RoleSendToGroup}
			c := s.connect("hub", clientOpts{user: "u" + strconv.Itoa(i%20), subprotocol: kind, roles: roles, groups: []string{"all"}})
			ready.Done()
			<-start
			switch kind {
			case wire.SubprotocolJSONReliable:
				r := &reliableReceiver{c: c}
				for r.maxSeq < broadcasts*2 { // broadcasts to "all" and to the user
					want := len(r.data) + 10
					if want > broadcasts*2 {
						want = broadcasts * 2
					}
					if err := r.take(want, 7); err != nil {
						fail("client %d: %v", i, err)
						return
					}
					if i%2 == 0 && len(r.data) < broadcasts*2 {
						_ = r.c.ws.CloseNow() // drop and recover
						r.c = s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable)
						if r.c.id != c.id {
							fail("client %d recovered as %s", i, r.c.id)
							return
						}
					}
				}
				seen := map[string]int{}
				for _, d := range r.data {
					seen[d]++
				}
				for b := range broadcasts {
					if seen["all-"+strconv.Itoa(b)] != 1 {
						fail("client %d got all-%d %d times", i, b, seen["all-"+strconv.Itoa(b)])
						return
					}
				}
			case wire.SubprotocolJSON:
				g := "room" + strconv.Itoa(i%5)
				c.mustAck(1, map[string]any{"type": "joinGroup", "group": g})
				c.send(map[string]any{"type": "sendToGroup", "group": g, "data": i, "noEcho": true})
				c.mustAck(2, map[string]any{"type": "leaveGroup", "group": g})
				if i%4 == 1 {
					_ = c.ws.CloseNow()
				}
			default:
				if i%4 == 2 {
					_ = c.ws.CloseNow()
				}
			}
		}()
	}
	ready.Wait()
	close(start)
	var sends sync.WaitGroup
	for b := range broadcasts {
		sends.Add(1)
		go func() {
			defer sends.Done()
			s.mustStatus(202, http.MethodPost, hubPath("hub", "/groups/all/:send"), nil, "text/plain", []byte("all-"+strconv.Itoa(b)))
		}()
		if b%10 == 0 {
			sends.Wait()
		}
	}
	sends.Wait()
	// Each reliable user connection also gets user sends.
	for b := range broadcasts {
		d := &delivery{from: wire.FromServer, payload: Payload{DataType: "text", Data: []byte("user-" + strconv.Itoa(b))}}
		for u := range 20 {
			s.e.send("hub", scopeUser, "u"+strconv.Itoa(u), newTarget(nil, nil), d, "")
		}
	}
	wg.Wait()
	s.mustStatus(204, http.MethodPost, hubPath("hub", "/:closeConnections"), nil, "", nil)
	eventually(t, "hub empty", func() bool { return !s.e.exists("hub", scopeAll, "") })
	s.e.mu.RLock()
	n := len(s.e.hubs)
	s.e.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d hubs left after every connection ended", n)
	}
}

// TestExpiredMessagesAreNotWritten: a message whose messageTtlSeconds has
// passed before it is written (e.g. while a reliable client was away) is
// dropped, for every protocol.
func TestExpiredMessagesAreNotWritten(t *testing.T) {
	s := newTestServer(t)
	for _, proto := range []string{"", wire.SubprotocolJSON, wire.SubprotocolJSONReliable} {
		t.Run("protocol "+proto, func(t *testing.T) {
			c := s.connect("hub", clientOpts{user: "ttl-" + proto, subprotocol: proto})
			user := "ttl-" + proto
			s.e.send("hub", scopeUser, user, target{}, &delivery{from: wire.FromServer, expires: time.Now().Add(-time.Millisecond), payload: Payload{DataType: "text", Data: []byte("stale")}}, "")
			s.e.send("hub", scopeUser, user, target{}, &delivery{from: wire.FromServer, expires: time.Now().Add(time.Minute), payload: Payload{DataType: "text", Data: []byte("fresh")}}, "")
			_, b, err := c.read(5 * time.Second)
			if err != nil || !strings.Contains(string(b), "fresh") {
				t.Fatalf("got %q %v, want only the fresh message", b, err)
			}
			c.expectNothing(30 * time.Millisecond)
		})
	}
}
