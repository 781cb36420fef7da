package wsclient

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
)

type seqPayload struct {
	I int `json:"i"`
}

func decodeI(t testing.TB, m Message) int {
	t.Helper()
	var p seqPayload
	if err := json.Unmarshal(m.Data.(json.RawMessage), &p); err != nil {
		t.Fatalf("message %#v: %v", m, err)
	}
	return p.I
}

// A receiver whose TCP connection is reset 10 times while 1,000 group
// messages arrive at 200/s gets every message exactly once, in order, on
// the same connection id.
func TestReceiveThroughDropsExactlyOnceInOrder(t *testing.T) {
	const total, drops = 1000, 10
	e := newEnv(t)
	ev := newEvents()
	recv := start(t, e.viaProxy("h", tokenOpts{user: "r", roles: allRoles}), ev.options(&Options{ReceiveQueue: total}))
	id := recv.ConnectionID()
	if err := recv.JoinGroup(ctxT(t, 5*time.Second), "g"); err != nil {
		t.Fatal(err)
	}
	send := start(t, e.direct("h", tokenOpts{user: "s", roles: allRoles}), &Options{Protocol: ProtocolJSON})

	sendErr := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / 200)
		defer tick.Stop()
		for i := range total {
			<-tick.C
			if err := send.SendToGroup(ctxT(t, 10*time.Second), "g", JSON(seqPayload{i}), &SendToGroupOptions{FireAndForget: true}); err != nil {
				sendErr <- err
				return
			}
			if i%(total/drops) == total/drops/2 {
				e.proxy.Break()
			}
		}
		sendErr <- nil
	}()
	got := receiveN(t, recv, total, 60*time.Second)
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	var lastSeq uint64
	for i, m := range got {
		if n := decodeI(t, m); n != i {
			t.Fatalf("message %d has i=%d: lost, duplicated or out of order", i, n)
		}
		if m.SequenceID <= lastSeq {
			t.Fatalf("message %d: sequence id %d after %d", i, m.SequenceID, lastSeq)
		}
		lastSeq = m.SequenceID
		if m.From != FromGroup || m.Group != "g" || m.FromUserID != "s" || m.DataType != DataTypeJSON {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	if recv.ConnectionID() != id {
		t.Errorf("connection id changed from %s to %s", id, recv.ConnectionID())
	}
	if n := e.proxy.Accepted(); n < drops+1 {
		t.Errorf("the proxy accepted %d connections; want at least %d (one per drop)", n, drops+1)
	}
	ctx := ctxT(t, 300*time.Millisecond)
	if m, err := recv.Receive(ctx); err == nil {
		t.Fatalf("an extra message arrived: %+v", m)
	}
	if n := count[DisconnectedEvent](ev.snapshot()); n != 0 {
		t.Errorf("%d disconnected events; recoveries raise none", n)
	}
}

// 500 acknowledged SendToGroup calls while the sender's TCP connection is
// reset 10 times: every call succeeds once and the receiver gets each
// message exactly once.
func TestAckedSendsThroughDropsExactlyOnce(t *testing.T) {
	const total, drops, workers = 500, 10, 5
	e := newEnv(t)
	recv := start(t, e.direct("h", tokenOpts{user: "r", roles: allRoles}), &Options{ReceiveQueue: total})
	if err := recv.JoinGroup(ctxT(t, 5*time.Second), "g"); err != nil {
		t.Fatal(err)
	}
	send := start(t, e.viaProxy("h", tokenOpts{user: "s", roles: allRoles}), nil)
	id := send.ConnectionID()

	var sent atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += workers {
				if err := send.SendToGroup(ctxT(t, 30*time.Second), "g", JSON(seqPayload{i}), &SendToGroupOptions{NoEcho: true}); err != nil {
					errs <- err
				}
				if n := sent.Add(1); n%(total/drops) == 0 {
					e.proxy.Break()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("SendToGroup: %v", err)
	}
	got := receiveN(t, recv, total, 30*time.Second)
	seen := map[int]bool{}
	for _, m := range got {
		i := decodeI(t, m)
		if seen[i] {
			t.Fatalf("message %d arrived twice", i)
		}
		seen[i] = true
	}
	if m, err := recv.Receive(ctxT(t, 300*time.Millisecond)); err == nil {
		t.Fatalf("an extra message arrived: %+v", m)
	}
	if send.ConnectionID() != id {
		t.Errorf("the sender's connection id changed from %s to %s", id, send.ConnectionID())
	}
}

// When the service refuses the recovery (close code 1008), the client
// opens a new connection, joins its groups again and raises disconnected
// and connected.
func TestRecoveryRefusedOpensNewConnection(t *testing.T) {
	e := newEnv(t, emulator.WithRecoveryWindow(100*time.Millisecond))
	ev := newEvents()
	recv := start(t, e.viaProxy("h", tokenOpts{user: "r", roles: allRoles}), ev.options(&Options{ReconnectDelay: func(int) time.Duration { return 10 * time.Millisecond }}))
	first := recv.ConnectionID()
	for _, g := range []string{"a", "b"} {
		if err := recv.JoinGroup(ctxT(t, 5*time.Second), g); err != nil {
			t.Fatal(err)
		}
	}
	e.proxy.Refuse()
	e.proxy.Break()
	time.Sleep(400 * time.Millisecond) // the service's recovery window passes
	if err := e.proxy.Accept(); err != nil {
		t.Fatal(err)
	}
	list := ev.wait(t, 20*time.Second, "a second connected event", func(l []any) bool { return count[ConnectedEvent](l) == 2 })
	if count[DisconnectedEvent](list) != 1 {
		t.Fatalf("events %#v: want one disconnected", list)
	}
	var disc DisconnectedEvent
	var second ConnectedEvent
	for _, x := range list {
		switch x := x.(type) {
		case DisconnectedEvent:
			disc = x
		case ConnectedEvent:
			second = x
		}
	}
	if disc.ConnectionID != first || second.ConnectionID == first || recv.ConnectionID() != second.ConnectionID {
		t.Fatalf("disconnected %s, connected %s, first %s, now %s", disc.ConnectionID, second.ConnectionID, first, recv.ConnectionID())
	}
	// The groups were joined again: a message to each arrives.
	send := start(t, e.direct("h", tokenOpts{user: "s", roles: allRoles}), nil)
	for _, g := range []string{"a", "b"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if err := send.SendToGroup(ctxT(t, 5*time.Second), g, Text(g), nil); err != nil {
				t.Fatal(err)
			}
			m, err := recv.Receive(ctxT(t, 200*time.Millisecond))
			if err == nil {
				if m.Group != g || m.Data != any(g) {
					t.Fatalf("got %+v, want a text message %q in group %q", m, g, g)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("group %s was not joined again", g)
			}
		}
	}
}

// waitPending waits until c has a request waiting for its ack.
func waitPending(t testing.TB, c *Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no pending request")
		}
		time.Sleep(time.Millisecond)
	}
}
