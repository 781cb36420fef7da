package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// logBuf collects a client's log at Debug level.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// noSecretIn fails when text holds the fake token or a part of it.
func noSecretIn(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{fakeJWT, "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJlc2VjcmV0", "rt-0123456789"} {
		if strings.Contains(text, s) {
			t.Fatalf("%s holds the secret %q: %s", what, s, text)
		}
	}
}

// clientRequest is what the fake service reads from the client.
type clientRequest struct {
	Type  string `json:"type"`
	AckID uint64 `json:"ackId"`
	Group string `json:"group"`
}

// readRequests reads the client's frames until n requests with an ack id
// arrived.
func readRequests(ctx context.Context, ws *websocket.Conn, n int) []clientRequest {
	var out []clientRequest
	for len(out) < n {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return out
		}
		var r clientRequest
		if json.Unmarshal(b, &r) == nil && r.AckID != 0 {
			out = append(out, r)
		}
	}
	return out
}

func write(ctx context.Context, ws *websocket.Conn, frames ...string) {
	for _, f := range frames {
		_ = ws.Write(ctx, websocket.MessageText, []byte(f))
	}
}

// The connected message: fields too long or not UTF-8 are refused with
// an error that names the field and its size, never its value.
func TestHostileConnectedMessage(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	tests := []struct{ name, frame, want string }{
		{"huge connection id", `{"type":"system","event":"connected","connectionId":"` + huge + `"}`, "connection id of 1048576 bytes"},
		{"huge reconnection token", `{"type":"system","event":"connected","connectionId":"c","reconnectionToken":"` + huge + `"}`, "reconnection token of 1048576 bytes"},
		{"huge user id", `{"type":"system","event":"connected","connectionId":"c","userId":"` + huge + `"}`, "user id of 1048576 bytes"},
		{"connection id not UTF-8", "{\"type\":\"system\",\"event\":\"connected\",\"connectionId\":\"c\xff\xfe\"}", "not valid UTF-8"},
		{"token not UTF-8", "{\"type\":\"system\",\"event\":\"connected\",\"connectionId\":\"c\",\"reconnectionToken\":\"rt-0123456789\xc3\"}", "not valid UTF-8"},
		{"connection id is the access token", `{"type":"system","event":"connected","connectionId":"` + fakeJWT + `"}`, "holds a token"},
		{"user id is a bearer value", `{"type":"system","event":"connected","connectionId":"c","userId":"Bearer abcdefgh.ijkl"}`, "holds a token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
				write(ctx, ws, tt.frame)
				drain(ctx, ws)
			})
			err := startErr(t, u, &Options{HandshakeTimeout: 2 * time.Second}, 5*time.Second)
			if !strings.Contains(err.Error(), tt.want) || len(err.Error()) > 1000 {
				t.Fatalf("Start = %.300v, want %q", err, tt.want)
			}
		})
	}
	// The same in a later connected message drops the connection.
	u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
		write(ctx, ws, connectedJSON, `{"type":"system","event":"connected","connectionId":"c1","reconnectionToken":"`+huge+`"}`)
		drain(ctx, ws)
	})
	c := start(t, u, &Options{Protocol: ProtocolJSON, DisableAutoReconnect: true})
	waitDone(t, c, 10*time.Second, "the client did not stop")
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "reconnection token of 1048576 bytes") {
		t.Fatalf("Err = %.300v", err)
	}
}

// A service that echoes the access token (and the reconnection token)
// in a connected message's fields, a disconnected message, a close reason
// and a negative ack: none of it reaches errors, events or the Debug log.
func TestHostileEchoesNoSecret(t *testing.T) {
	u := fakeServiceReq(t, func(ctx context.Context, r *http.Request, ws *websocket.Conn) {
		tok := r.URL.Query().Get(wire.QueryAccessToken)
		if r.URL.Query().Get(wire.QueryConnectionID) != "" {
			_ = ws.Close(wire.ClosePolicyViolation, "no recovery for "+tok)
			return
		}
		write(ctx, ws, connectedJSON)
		reqs := readRequests(ctx, ws, 1)
		if len(reqs) == 1 {
			write(ctx, ws, fmt.Sprintf(`{"type":"ack","ackId":%d,"success":false,"error":{"name":"access_token=%s","message":"token %s rt-0123456789 refused"}}`, reqs[0].AckID, tok, tok))
		}
		write(ctx, ws, `{"type":"system","event":"disconnected","message":"bye `+tok+` rt-0123456789"}`)
		_ = ws.Close(websocket.StatusGoingAway, "rt-0123456789 "+tok[:60])
	})
	var log logBuf
	ev := newEvents()
	c, err := New(u, ev.options(&Options{DisableAutoReconnect: true, Logger: log.logger()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	joinErr := c.JoinGroup(ctxT(t, 5*time.Second), "g")
	var ae *AckError
	if !errors.As(joinErr, &ae) {
		t.Fatalf("JoinGroup = %v, want an *AckError", joinErr)
	}
	waitDone(t, c, 10*time.Second, "the client did not stop")
	list := ev.snapshot()
	if count[DisconnectedEvent](list) != 1 || count[ConnectedEvent](list) != 1 {
		t.Fatalf("events %#v", list)
	}
	texts := map[string]string{
		"the ack error":           joinErr.Error(),
		"the ack error's %#v":     fmt.Sprintf("%#v", ae),
		"the ack error's fields":  ae.Name + ae.Message,
		"the stop error":          c.Err().Error(),
		"the events as %v":        fmt.Sprintf("%v", list),
		"the events as %#v":       fmt.Sprintf("%#v", list),
		"the Debug log":           log.String(),
		"ConnectionID and UserID": redact(c.ConnectionID()) + redact(c.UserID()),
	}
	for _, ev := range list {
		if d, ok := ev.(DisconnectedEvent); ok {
			texts["the disconnected message"] = d.Message
			texts["the disconnected error"] = d.Err.Error()
			if !strings.Contains(d.Message, "bye") {
				t.Errorf("the disconnected message lost its text: %q", d.Message)
			}
		}
	}
	for what, text := range texts {
		noSecretIn(t, what, text)
	}
	if !strings.Contains(log.String(), "connection dropped") {
		t.Errorf("the log misses the drop: %s", log.String())
	}
}

// Sequence ids that repeat or go backwards are dropped as duplicates;
// one beyond 2^53 (a jump by 2^63) is a protocol error, not a reason to
// discard every later message; on the plain JSON protocol sequence ids
// are ignored.
func TestHostileSequenceIDs(t *testing.T) {
	msg := func(seq uint64, text string) string {
		return fmt.Sprintf(`{"type":"message","from":"server","dataType":"text","data":"%s","sequenceId":%d}`, text, seq)
	}
	t.Run("reliable", func(t *testing.T) {
		u := fakeServiceReq(t, func(ctx context.Context, r *http.Request, ws *websocket.Conn) {
			if r.URL.Query().Get(wire.QueryConnectionID) != "" {
				_ = ws.Close(wire.ClosePolicyViolation, "")
				return
			}
			write(ctx, ws, connectedJSON, msg(1, "a"), msg(2, "b"), msg(2, "b again"), msg(1, "a again"), msg(3, "c"), msg(3+1<<63, "jump"), msg(4, "d"))
			drain(ctx, ws)
		})
		c := start(t, u, &Options{DisableAutoReconnect: true})
		got := receiveN(t, c, 3, 10*time.Second)
		var texts []string
		for _, m := range got {
			texts = append(texts, m.Data.(string))
		}
		if strings.Join(texts, ",") != "a,b,c" {
			t.Fatalf("received %v, want a,b,c", texts)
		}
		waitDone(t, c, 10*time.Second, "the client did not stop")
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "beyond 2^53") {
			t.Fatalf("Err = %v", err)
		}
	})
	t.Run("plain JSON", func(t *testing.T) {
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			write(ctx, ws, connectedJSON, msg(5, "a"), msg(5, "b"), msg(1, "c"), msg(1<<63, "d"))
			drain(ctx, ws)
		})
		c := start(t, u, &Options{Protocol: ProtocolJSON})
		got := receiveN(t, c, 4, 10*time.Second)
		for i, m := range got {
			if m.SequenceID != 0 || m.Data.(string) != "abcd"[i:i+1] {
				t.Fatalf("message %d: %+v", i, m)
			}
		}
	})
}

// Acks out of order, repeated or for unknown ids: each call gets its own
// result once.
func TestHostileAcks(t *testing.T) {
	const n = 5
	u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
		write(ctx, ws, connectedJSON, `{"type":"ack","ackId":999,"success":true}`)
		reqs := readRequests(ctx, ws, n)
		for i := len(reqs) - 1; i >= 0; i-- { // reverse order, each twice
			r := reqs[i]
			ack := fmt.Sprintf(`{"type":"ack","ackId":%d,"success":true}`, r.AckID)
			if r.Group == "g2" {
				ack = fmt.Sprintf(`{"type":"ack","ackId":%d,"success":false,"error":{"name":"Forbidden","message":"not g2"}}`, r.AckID)
			}
			write(ctx, ws, ack, ack, `{"type":"ack","ackId":123456789,"success":false}`)
		}
		drain(ctx, ws)
	})
	var log logBuf
	c := start(t, u, &Options{Protocol: ProtocolJSON, Logger: log.logger()})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.JoinGroup(ctxT(t, 10*time.Second), fmt.Sprintf("g%d", i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var ae *AckError
		switch {
		case i == 2 && (!errors.As(err, &ae) || ae.Name != "Forbidden"):
			t.Errorf("JoinGroup(g2) = %v, want Forbidden", err)
		case i != 2 && err != nil:
			t.Errorf("JoinGroup(g%d) = %v", i, err)
		}
	}
	if !strings.Contains(log.String(), "ack for no waiting request ignored") {
		t.Errorf("unknown acks are not logged at Debug: %s", log.String())
	}
}

// A service that accepts and drops at once (close 1008 in a loop, or a
// recovery accepted and dropped again): the backoff grows with the
// attempts, MaxReconnectAttempts ends it, and recovery dials are spaced.
func TestReconnectStormIsBounded(t *testing.T) {
	t.Run("1008 loop", func(t *testing.T) {
		var conns atomic.Int32
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			conns.Add(1)
			write(ctx, ws, connectedJSON)
			_ = ws.Close(wire.ClosePolicyViolation, "go away")
		})
		var mu sync.Mutex
		var attempts []int
		ev := newEvents()
		c := start(t, u, ev.options(&Options{MaxReconnectAttempts: 4, ReconnectDelay: func(n int) time.Duration {
			mu.Lock()
			attempts = append(attempts, n)
			mu.Unlock()
			return time.Duration(n) * 10 * time.Millisecond
		}}))
		waitDone(t, c, 20*time.Second, "the 1008 loop did not end: reconnects are not bounded")
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), "gave up reconnecting after 4 attempts") {
			t.Fatalf("Err = %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(attempts) != "[1 2 3 4]" {
			t.Errorf("ReconnectDelay asked for attempts %v, want [1 2 3 4]", attempts)
		}
		if n := conns.Load(); n != 5 {
			t.Errorf("%d connections, want 5 (the first and 4 attempts)", n)
		}
	})
	t.Run("recovery accepted and dropped", func(t *testing.T) {
		var conns atomic.Int32
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			conns.Add(1)
			write(ctx, ws, connectedJSON)
			_ = ws.Close(websocket.StatusGoingAway, "")
		})
		c := start(t, u, &Options{RecoveryWindow: 1500 * time.Millisecond, DisableAutoReconnect: true})
		waitDone(t, c, 20*time.Second, "the client did not stop")
		// 1.5 s at one dial per 250 ms at most: 7 recoveries and the first.
		t.Logf("%d connections in the 1.5 s recovery window", conns.Load())
		if n := conns.Load(); n > 8 {
			t.Errorf("%d connections in a 1.5 s recovery window: recovery dials are not spaced", n)
		}
	})
}

// A URL function that hangs, fails or panics: Start returns by its
// context's deadline with a clear error and no token.
func TestURLFuncMisbehaves(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name string
		fn   func(context.Context) (string, error)
		want string
	}{
		{"hangs ignoring ctx", func(context.Context) (string, error) { <-release; return "", errors.New("late") }, "did not return before the deadline"},
		{"fails", func(context.Context) (string, error) {
			return "", errors.New("negotiate: GET https://x/negotiate?access_token=" + fakeJWT + ": 500")
		}, "negotiate"},
		{"panics", func(context.Context) (string, error) { panic("negotiate broke") }, "panicked: negotiate broke"},
		{"bad URL", func(context.Context) (string, error) { return "ftp://h/?access_token=" + fakeJWT, nil }, "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewWithURLFunc(tt.fn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Stop()
			began := time.Now()
			err = c.Start(ctxT(t, 300*time.Millisecond))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start = %v, want %q", err, tt.want)
			}
			checkNoSecret(t, err)
			if d := time.Since(began); d > 3*time.Second {
				t.Fatalf("Start took %s with a 300 ms deadline", d)
			}
		})
	}
}

// Stop while Start dials, twice, from callbacks (OnMessage and
// OnStopped), and calls after Stop.
func TestStopRaces(t *testing.T) {
	t.Run("during Start", func(t *testing.T) {
		u := fakeService(t, drain) // never confirms the connection
		c, err := New(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan error, 1)
		go func() { started <- c.Start(ctxT(t, time.Minute)) }()
		time.Sleep(100 * time.Millisecond)
		began := time.Now()
		c.Stop()
		c.Stop()
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("Stop took %s while Start dialed", d)
		}
		if err := <-started; err == nil {
			t.Fatal("Start succeeded after Stop")
		}
		if err := c.Start(ctxT(t, time.Second)); !errors.Is(err, ErrStopped) {
			t.Errorf("Start after Stop = %v", err)
		}
	})
	t.Run("from callbacks", func(t *testing.T) {
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			write(ctx, ws, connectedJSON, `{"type":"message","from":"server","dataType":"text","data":"x"}`)
			drain(ctx, ws)
		})
		var c *Client
		stoppedCalled := make(chan struct{})
		c, err := New(u, &Options{
			OnMessage: func(Message) { c.Stop() },
			OnStopped: func(StoppedEvent) { c.Stop(); close(stoppedCalled) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctxT(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		waitDone(t, c, 10*time.Second, "Stop from callbacks deadlocked")
		<-stoppedCalled
		ctx := ctxT(t, time.Second)
		for name, err := range map[string]error{
			"JoinGroup":   c.JoinGroup(ctx, "g"),
			"LeaveGroup":  c.LeaveGroup(ctx, "g"),
			"SendToGroup": c.SendToGroup(ctx, "g", Text("x"), nil),
			"SendEvent":   c.SendEvent(ctx, "e", Text("x"), &SendEventOptions{FireAndForget: true}),
		} {
			if !errors.Is(err, ErrStopped) {
				t.Errorf("%s after Stop = %v, want ErrStopped", name, err)
			}
		}
		if _, err := c.Receive(ctx); !errors.Is(err, ErrStopped) {
			t.Errorf("Receive after Stop = %v", err)
		}
	})
	t.Run("from another goroutine during a callback", func(t *testing.T) {
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			write(ctx, ws, connectedJSON, `{"type":"message","from":"server","dataType":"text","data":"x"}`)
			drain(ctx, ws)
		})
		inside, release := make(chan struct{}), make(chan struct{})
		c := start(t, u, &Options{OnMessage: func(Message) { close(inside); <-release }})
		<-inside
		stopped := make(chan struct{})
		go func() { c.Stop(); close(stopped) }()
		select {
		case <-stopped:
			t.Fatal("Stop returned while a callback still ran")
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("Stop did not return after the callback")
		}
	})
}

// A panicking callback is logged and the next message still arrives; a
// consumer slower than KeepAliveTimeout does not make the connection look
// dead.
func TestCallbackPanicsAndSlowConsumer(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			write(ctx, ws, connectedJSON,
				`{"type":"message","from":"server","dataType":"text","data":"boom"}`,
				`{"type":"message","from":"server","dataType":"text","data":"next"}`)
			drain(ctx, ws)
		})
		var log logBuf
		got := make(chan string, 2)
		start(t, u, &Options{Logger: log.logger(), OnMessage: func(m Message) {
			if m.Data == "boom" {
				panic("callback broke " + fakeJWT)
			}
			got <- m.Data.(string)
		}})
		select {
		case s := <-got:
			if s != "next" {
				t.Fatalf("got %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message after the panicking callback")
		}
		if !strings.Contains(log.String(), "callback panicked") {
			t.Errorf("the panic was not logged: %s", log.String())
		}
		noSecretIn(t, "the log", log.String())
	})
	t.Run("slow consumer", func(t *testing.T) {
		u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
			for i := range 3 {
				if i == 0 {
					write(ctx, ws, connectedJSON)
				}
				write(ctx, ws, fmt.Sprintf(`{"type":"message","from":"server","dataType":"text","data":"%d"}`, i))
			}
			for { // answer pings, as the service does
				_, b, err := ws.Read(ctx)
				if err != nil {
					return
				}
				if strings.Contains(string(b), `"ping"`) {
					write(ctx, ws, `{"type":"pong"}`)
				}
			}
		})
		c := start(t, u, &Options{Protocol: ProtocolJSON, DisableAutoReconnect: true, ReceiveQueue: 1,
			KeepAliveInterval: 100 * time.Millisecond, KeepAliveTimeout: 700 * time.Millisecond})
		select {
		case <-c.Done():
			t.Fatalf("a slow consumer made the connection look dead: %v", c.Err())
		case <-time.After(2 * time.Second):
		}
		receiveN(t, c, 3, 5*time.Second)
		select {
		case <-c.Done():
			t.Fatalf("the client stopped: %v", c.Err())
		case <-time.After(300 * time.Millisecond):
		}
	})
}

// waitDone fails the test with msg when c has not stopped within d.
func waitDone(t *testing.T, c *Client, d time.Duration, msg string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(d):
		t.Fatal(msg)
	}
}

// Every operation at once from several goroutines while the connection is
// dropped and Stop comes in the middle: each call returns (success, a
// negative ack, ErrStopped), none hangs, and no goroutine is left.
func TestConcurrentOpsDropsAndStop(t *testing.T) {
	const workers, rounds = 6, 40
	e := newEnv(t)
	c := start(t, e.viaProxy("h", tokenOpts{user: "u", roles: allRoles}), &Options{ReceiveQueue: workers * rounds})
	var wg sync.WaitGroup
	var ok, stopped atomic.Int64
	unexpected := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := fmt.Sprintf("g%d", w%3)
			for i := range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				var err error
				switch i % 5 {
				case 0:
					err = c.JoinGroup(ctx, g)
				case 1:
					err = c.SendToGroup(ctx, g, JSON(seqPayload{i}), nil)
				case 2:
					err = c.SendToGroup(ctx, g, Text("x"), &SendToGroupOptions{FireAndForget: true})
				case 3:
					_, err = c.Receive(ctx)
				case 4:
					err = c.LeaveGroup(ctx, g)
				}
				cancel()
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrStopped), errors.Is(err, ErrAckLost):
					stopped.Add(1)
				case i%5 == 2 && strings.Contains(err.Error(), "failed to write"):
					// fire-and-forget written into a dropped socket: reported.
				default:
					unexpected <- err
				}
				if w == 0 && i%8 == 4 {
					e.proxy.Break()
				}
				if w == 1 && i == rounds/2 {
					c.Stop()
				}
			}
		}()
	}
	wg.Wait()
	close(unexpected)
	for err := range unexpected {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() == 0 || stopped.Load() == 0 {
		t.Errorf("%d calls succeeded and %d saw the stop; want some of each", ok.Load(), stopped.Load())
	}
}

// A careless user sends acked messages to a group it joined and never
// reads: once the receive queue is full the acks wait behind the echoes,
// and the call's error says so instead of a bare deadline.
func TestUnreadQueueExplainsMissingAck(t *testing.T) {
	e := newEnv(t)
	c := start(t, e.direct("h", tokenOpts{user: "u", roles: allRoles}), &Options{ReceiveQueue: 2})
	if err := c.JoinGroup(ctxT(t, 5*time.Second), "g"); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 6 && err == nil; i++ {
		err = c.SendToGroup(ctxT(t, 500*time.Millisecond), "g", Text("x"), nil)
	}
	if err == nil || !strings.Contains(err.Error(), "receive queue is full") {
		t.Fatalf("SendToGroup = %v, want an error naming the full receive queue", err)
	}
	receiveN(t, c, 2, 5*time.Second) // room again: the reader goes on
	if err := c.SendToGroup(ctxT(t, 5*time.Second), "g", Text("y"), &SendToGroupOptions{NoEcho: true}); err != nil {
		t.Fatalf("SendToGroup after reading = %v", err)
	}
}
