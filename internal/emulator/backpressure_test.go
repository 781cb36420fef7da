package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// TestAckedFlood: a client writes 20,000 acked events (and, in a second
// run, 5,000 sendToGroup messages echoed to itself) back to back while
// another goroutine reads every answer. It gets back-pressure (the service
// stops reading its socket while the send queue is full), never a close
// (issue 12 defect 5: closed with 1008 "send queue is full" after 3,601).
// The heap holds no trace of the ids afterwards.
func TestAckedFlood(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		msg    func(id int) string
		frames int // frames the client gets per message
	}{
		{"events", 20000, func(id int) string { return fmt.Sprintf(`{"type":"event","event":"e","data":1,"ackId":%d}`, id) }, 1},
		{"sendToGroup with echo", 5000, func(id int) string {
			return fmt.Sprintf(`{"type":"sendToGroup","group":"g","data":%d,"ackId":%d}`, id, id)
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := tc.n
			// A small queue makes back-pressure happen at once.
			s := newTestServer(t)
			c := s.connect("hub", clientOpts{subprotocol: "-", groups: []string{"g"}, roles: []string{wire.RoleSendToGroup}})
			before := heapInUse()
			written := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				for id := 1; id <= n; id++ {
					if err := c.ws.Write(ctx, websocket.MessageText, []byte(tc.msg(id))); err != nil {
						written <- fmt.Errorf("write %d: %w", id, err)
						return
					}
				}
				written <- nil
			}()
			acked, other := 0, 0
			for acked+other < n*tc.frames {
				_, b, err := c.read(30 * time.Second)
				if err != nil {
					t.Fatalf("after %d acks and %d other messages: %v (close code %d)", acked, other, err, websocket.CloseStatus(err))
				}
				var m struct {
					Type    string `json:"type"`
					AckID   int    `json:"ackId"`
					Success bool   `json:"success"`
				}
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				switch {
				case m.Type == wire.TypeAck && m.Success && m.AckID == acked+1:
					acked++
				case m.Type == wire.TypeMessage:
					other++
				default:
					t.Fatalf("after %d acks: %s", acked, b)
				}
			}
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			if acked != n {
				t.Fatalf("%d acks, want %d", acked, n)
			}
			after := heapInUse()
			t.Logf("%d acked messages: heap %.1f MiB before, %.1f MiB after", n, mib(before), mib(after))
			if int64(after)-int64(before) > 10<<20 {
				t.Errorf("heap grew by %.1f MiB", mib(after-before))
			}
			c.mustAck(n+1, map[string]any{"type": "event", "event": "e", "data": 1}) // still open
		})
	}
}

// TestClientThatStopsReadingIsClosed: back-pressure does not keep a client
// that never reads forever, while another client of the same emulator is
// served. A client whose own echoes fill its queue is closed by the
// slow-reader rule; one that only gets answers (32 KiB negative acks here)
// fills the socket buffers, and the service's write times out.
func TestClientThatStopsReadingIsClosed(t *testing.T) {
	pad := strings.Repeat("x", 32<<10)
	for _, tc := range []struct {
		name string
		msg  func(id int) []byte
	}{
		{"echoes", func(id int) []byte {
			return fmt.Appendf(nil, `{"type":"sendToGroup","group":"echo","dataType":"text","data":"%s","ackId":%d}`, pad, id)
		}},
		{"acks only", func(id int) []byte { return fmt.Appendf(nil, `{"type":"%s","ackId":%d}`, pad, id) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, WithSendQueueLimits(8, 1<<20), func(o *options) { o.writeTimeout = 300 * time.Millisecond })
			other := s.connect("hub", clientOpts{subprotocol: "-"})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, s.clientURL("hub", clientOpts{groups: []string{"echo"}, roles: []string{wire.RoleSendToGroup}}),
				&websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSON}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			wctx, stop := context.WithCancel(ctx)
			writes := make(chan struct{})
			go func() {
				defer close(writes)
				for id := 1; id <= 100000; id++ {
					if ws.Write(wctx, websocket.MessageText, tc.msg(id)) != nil {
						return
					}
				}
			}()
			defer func() { stop(); <-writes }()
			connections := func() int {
				s.e.mu.RLock()
				defer s.e.mu.RUnlock()
				return len(s.e.membersLocked("hub", scopeAll, ""))
			}
			// Generous: the close handshake with a peer that does not read
			// waits 5 s.
			deadline := time.Now().Add(20 * time.Second)
			for connections() != 1 {
				if time.Now().After(deadline) {
					t.Fatal("the client that does not read was not closed")
				}
				time.Sleep(10 * time.Millisecond)
			}
			other.mustAck(1, map[string]any{"type": "event", "event": "e", "data": 1})
		})
	}
}

// TestHalfSentBody: a signed REST call whose body never completes is
// answered and closed after requestBodyTimeout instead of holding its
// handler (the server has no ReadTimeout, which would cut WebSockets).
func TestHalfSentBody(t *testing.T) {
	old := requestBodyTimeout
	requestBodyTimeout = 300 * time.Millisecond
	defer func() { requestBodyTimeout = old }()
	s := newTestServer(t)
	u := s.srv.URL + hubPath("hub", "/:send") + "?api-version=" + testAPIVersion
	token := signToken(t, s.key, jwt.MapClaims{"aud": u})
	for _, auth := range []string{"Authorization: Bearer " + token + "\r\n", "", "Authorization: Bearer wrong\r\n"} {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.srv.URL, "http://"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := "POST " + strings.TrimPrefix(u, s.srv.URL) + " HTTP/1.1\r\nHost: " + strings.TrimPrefix(s.srv.URL, "http://") + "\r\n" + auth +
			"Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly ten b"
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer to a half-sent body (auth %t): %v", auth != "", err)
		}
		_ = resp.Body.Close()
		if want := map[bool]int{true: http.StatusBadRequest, false: http.StatusUnauthorized}[strings.Contains(auth, token)]; resp.StatusCode != want {
			t.Errorf("status %d, want %d", resp.StatusCode, want)
		}
	}
}
