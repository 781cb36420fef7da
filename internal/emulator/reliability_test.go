package emulator

// Reliability tests of the emulator's WebSocket side: clients that drop in
// the middle of a frame (either direction) and reliable clients that
// reconnect again and again. Figures: docs/RELIABILITY.md.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// rawHandshake opens a WebSocket by hand on a bare TCP connection, so a
// test can write broken frames.
func rawHandshake(t *testing.T, u, proto string) net.Conn {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", pu.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req := "GET " + pu.RequestURI() + " HTTP/1.1\r\nHost: " + pu.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
		base64.StdEncoding.EncodeToString(key) + "\r\n"
	if proto != "" {
		req += "Sec-WebSocket-Protocol: " + proto + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c
}

// partialFrame is the start of a masked text frame that announces n bytes
// of payload but carries only the first few.
func partialFrame(payload []byte) []byte {
	f := []byte{0x81, 0x80 | 126, 0, 0, 1, 2, 3, 4}
	binary.BigEndian.PutUint16(f[2:4], uint16(len(payload)))
	part := payload[:len(payload)/10]
	for i, b := range part {
		f = append(f, b^f[4+i%4])
	}
	return f
}

// TestClientDropsMidMessage: a client that dies in the middle of writing a
// frame publishes nothing, is removed, and leaves the service working; a
// reliable client that dies in the middle of reading a large message gets
// it again, once, when it recovers.
func TestClientDropsMidMessage(t *testing.T) {
	s := newTestServer(t)
	recv := s.connect("hub", clientOpts{user: "reader", subprotocol: "-", groups: []string{"g"}})

	msg, _ := json.Marshal(map[string]any{"type": "sendToGroup", "group": "g", "dataType": "text", "data": strings.Repeat("x", 1000)})
	for _, tc := range []struct {
		name, user, proto, query string
		payload                  []byte
		reset                    bool
	}{
		{"json client, FIN", "json-writer", wire.SubprotocolJSON, "", msg, false},
		{"json client, RST", "json-writer-rst", wire.SubprotocolJSON, "", msg, true},
		{"simple client publishing to the group", "simple-writer", "", "&webpubsub_mode=sendToGroup&group=g", []byte(strings.Repeat("y", 1000)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := s.clientURL("hub", clientOpts{user: tc.user, roles: []string{"webpubsub.sendToGroup"}}) + tc.query
			c := rawHandshake(t, u, tc.proto)
			eventually(t, "writer registered", func() bool { return s.e.exists("hub", scopeUser, tc.user) })
			if _, err := c.Write(partialFrame(tc.payload)); err != nil {
				t.Fatal(err)
			}
			if tc.reset {
				_ = c.(*net.TCPConn).SetLinger(0)
			}
			_ = c.Close()
			eventually(t, "writer removed", func() bool { return !s.e.exists("hub", scopeUser, tc.user) })
			recv.expectNothing(50 * time.Millisecond)
		})
	}
	// The service still works for everyone else.
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/groups/g/:send"), nil, "text/plain", []byte("still here"))
	if m := recv.next(); m["data"] != "still here" {
		t.Fatalf("after the drops: %v", m)
	}

	// Server to client: a reliable client drops after reading part of a
	// 1 MiB message.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := s.clientURL("hub", clientOpts{user: "big"})
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSONReliable}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(4 << 20)
	_, b, err := ws.Read(ctx)
	var connected struct{ ConnectionID, ReconnectionToken string }
	if err != nil || json.Unmarshal(b, &connected) != nil || connected.ReconnectionToken == "" {
		t.Fatalf("connected: %s %v", b, err)
	}
	big := strings.Repeat("z", 1<<20)
	s.mustStatus(202, http.MethodPost, hubPath("hub", "/users/big/:send"), nil, "text/plain", []byte(big))
	_, r, err := ws.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	_ = ws.CloseNow()
	rc := s.dialURL(u+"&"+wire.QueryConnectionID+"="+url.QueryEscape(connected.ConnectionID)+"&"+wire.QueryReconnectionToken+"="+url.QueryEscape(connected.ReconnectionToken), wire.SubprotocolJSONReliable)
	if rc.id != connected.ConnectionID {
		t.Fatalf("recovered as %q, want %q", rc.id, connected.ConnectionID)
	}
	m := rc.next()
	if m["data"] != big || m["sequenceId"] != float64(1) {
		t.Fatalf("replayed message: sequenceId %v, %d bytes", m["sequenceId"], len(fmt.Sprint(m["data"])))
	}
	rc.expectNothing(50 * time.Millisecond)
}

// seqReceiver checks the reliable protocol from the application's side:
// every sequence id carries one message, the same one when replayed, and
// ids have no gaps.
type seqReceiver struct {
	t       *testing.T
	c       *wsClient
	bySeq   map[uint64]string
	order   []string
	maxSeq  uint64
	replays int
}

// take reads until want messages were received or the connection ends.
func (r *seqReceiver) take(want int, ackEvery int) error {
	for len(r.order) < want {
		_, b, err := r.c.read(5 * time.Second)
		if err != nil {
			return err
		}
		var m struct {
			Type       string `json:"type"`
			Event      string `json:"event"`
			SequenceID uint64 `json:"sequenceId"`
			Data       string `json:"data"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if m.Type != "message" {
			continue
		}
		if prev, seen := r.bySeq[m.SequenceID]; seen {
			if prev != m.Data {
				r.t.Fatalf("sequenceId %d replayed as %q, first %q", m.SequenceID, m.Data, prev)
			}
			r.replays++
			continue
		}
		if m.SequenceID != r.maxSeq+1 {
			r.t.Fatalf("silent gap: sequenceId %d after %d", m.SequenceID, r.maxSeq)
		}
		r.bySeq[m.SequenceID] = m.Data
		r.maxSeq = m.SequenceID
		r.order = append(r.order, m.Data)
		if ackEvery > 0 && len(r.order)%ackEvery == 0 {
			r.c.send(map[string]any{"type": "sequenceAck", "sequenceId": r.maxSeq})
		}
	}
	return nil
}

// TestReliableRepeatedReconnects drops a reliable client 25 times while
// 500 messages stream to its group: every message arrives exactly once, in
// order. With a small buffer and a long outage the connection instead ends
// with 1008, on the recovery attempt too: never a silent gap.
func TestReliableRepeatedReconnects(t *testing.T) {
	t.Run("recovered", func(t *testing.T) {
		s := newTestServer(t, WithRecoveryWindow(10*time.Second))
		c := s.connect("hub", clientOpts{user: "u", subprotocol: wire.SubprotocolJSONReliable, groups: []string{"g"}})
		const total, drops = 500, 25
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for i := range total {
				s.e.send("hub", scopeGroup, "g", target{}, &delivery{from: wire.FromGroup, group: "g", payload: Payload{DataType: wire.DataTypeText, Data: []byte(strconv.Itoa(i))}}, "")
				if i%20 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
		r := &seqReceiver{t: t, c: c, bySeq: map[uint64]string{}}
		id, token := c.id, c.token
		for d := range drops {
			if err := r.take((d+1)*total/(drops+1), 7); err != nil {
				t.Fatalf("before drop %d: %v", d+1, err)
			}
			_ = r.c.ws.CloseNow()
			rc := s.dialURL(r.c.url+"&"+wire.QueryConnectionID+"="+url.QueryEscape(id)+"&"+wire.QueryReconnectionToken+"="+url.QueryEscape(token), wire.SubprotocolJSONReliable)
			if rc.id != id {
				t.Fatalf("reconnect %d: recovered as %q (%v), want %q", d+1, rc.id, rc.earlyErr, id)
			}
			if rc.token != "" {
				token = rc.token
			}
			r.c = rc
		}
		waitClosed(t, sent, "the sender")
		if err := r.take(total, 7); err != nil {
			t.Fatal(err)
		}
		for i, d := range r.order {
			if d != strconv.Itoa(i) {
				t.Fatalf("message %d is %q", i, d)
			}
		}
		r.c.expectNothing(50 * time.Millisecond)
		t.Logf("%d messages, %d drops: delivered %d, lost 0, %d replays dropped by sequenceId", total, drops, len(r.order), r.replays)
	})
	t.Run("overflow ends with 1008", func(t *testing.T) {
		s := newTestServer(t, WithRecoveryWindow(10*time.Second), WithBufferLimits(50, 1<<20))
		c := s.connect("hub", clientOpts{user: "u", subprotocol: wire.SubprotocolJSONReliable, groups: []string{"g"}})
		r := &seqReceiver{t: t, c: c, bySeq: map[uint64]string{}}
		send := func(i int) {
			s.e.send("hub", scopeGroup, "g", target{}, &delivery{from: wire.FromGroup, group: "g", payload: Payload{DataType: wire.DataTypeText, Data: []byte(strconv.Itoa(i))}}, "")
		}
		for i := range 20 {
			send(i)
		}
		if err := r.take(20, 10); err != nil {
			t.Fatal(err)
		}
		_ = c.ws.CloseNow()
		for i := 20; i < 200; i++ { // far more than the buffer holds while the client is away
			send(i)
		}
		rc := s.dialURL(recoveryURL(c), wire.SubprotocolJSONReliable)
		r.c = rc
		err := r.take(200, 10)
		if code := websocket.CloseStatus(err); code != wire.ClosePolicyViolation {
			t.Fatalf("after the overflow: received up to %d, then %v (close code %d), want 1008", r.maxSeq, err, code)
		}
		t.Logf("overflow: received a gap-free prefix of %d messages, then close code 1008", r.maxSeq)
	})
}
