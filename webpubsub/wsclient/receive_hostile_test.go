package wsclient

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/google/go-cmp/cmp"
)

// rawService is a Web PubSub endpoint spoken in raw TCP: it answers the
// handshake of each connection with the reliable subprotocol, sends the
// connected message and runs script with the connection (whose reads
// script may ignore: what the client sends stays unread unless script
// reads br). It returns the client access URL.
func rawService(tb testing.TB, script func(conn net.Conn, br *bufio.Reader)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return "ws://" + rawServiceOn(tb, ln, script)
}

// rawServiceOn is rawService on ln; it returns the URL without its scheme.
func rawServiceOn(tb testing.TB, ln net.Listener, script func(conn net.Conn, br *bufio.Reader)) string {
	tb.Helper()
	var wg sync.WaitGroup
	conns := make(chan net.Conn, 100)
	tb.Cleanup(func() {
		_ = ln.Close()
		for done := false; !done; {
			select {
			case c := <-conns:
				_ = c.Close()
			default:
				done = true
			}
		}
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- conn:
			default:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
				resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n" +
					"Sec-WebSocket-Protocol: " + string(ProtocolReliableJSON) + "\r\n\r\n"
				connected := appendServerFrame(nil, []byte(`{"type":"system","event":"connected","userId":"u","connectionId":"c1","reconnectionToken":"t"}`))
				if _, err := conn.Write(append([]byte(resp), connected...)); err != nil {
					return
				}
				script(conn, br)
			}()
		}
	}()
	return ln.Addr().String() + "/client/hubs/h?access_token=x"
}

// groupFrame is the framed group message with sequence id seq whose
// text data is pad bytes long.
func groupFrame(seq, pad int) []byte {
	return appendServerFrame(nil, []byte(`{"type":"message","from":"group","group":"g","fromUserId":"p","dataType":"text","data":"`+
		strings.Repeat("x", pad)+`","sequenceId":`+strconv.Itoa(seq)+`}`))
}

// burstOf returns framed messages, sequence ids from first, whose
// stream is exactly size bytes long, and their number.
func burstOf(first, size int) ([]byte, int) {
	var b []byte
	seq := first
	for size-len(b) >= 300 {
		b = append(b, groupFrame(seq, 10)...)
		seq++
	}
	// The last message's data fills the rest (its frame has a 4-byte
	// header: its payload is over 125 bytes).
	for pad := 10; ; pad++ {
		if f := groupFrame(seq, pad); len(b)+len(f) == size {
			return append(b, f...), seq - first + 1
		}
	}
}

// idle keeps a connection open, reading what the client sends, until it
// goes away; it answers the client's close frame, so that Stop does not
// wait for the close handshake's timeout.
func idle(conn net.Conn, br *bufio.Reader) {
	for {
		op, _, err := readClientFrame(br)
		if err != nil {
			return
		}
		if op == 0x8 {
			_, _ = conn.Write([]byte{0x88, 0})
			return
		}
	}
}

// readClientFrame reads one masked frame from a client: its opcode and
// unmasked payload (nil when over 64 KiB: skipped).
func readClientFrame(br *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	var key [4]byte
	if _, err := io.ReadFull(br, key[:]); err != nil {
		return 0, nil, err
	}
	if n > 64<<10 {
		_, err := io.CopyN(io.Discard, br, int64(n))
		return h[0] & 0x0f, nil, err
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	for i := range p {
		p[i] ^= key[i%4]
	}
	return h[0] & 0x0f, p, nil
}

// Every message is delivered though nothing follows it: whatever the
// shape of the stream the server sends (a burst ending exactly at the
// reader's 4 KiB buffer or the 64 KiB bulk buffer, bytes dripped one at
// a time, a message cut in continuation frames, a single message after a
// burst), the messages queued without a wake-up are handed over before
// the reader waits for more. The server then stays silent: a message that
// waits for a wake-up is never received.
func TestReceiveWithoutFollowUp(t *testing.T) {
	fragmented := func(seq int) []byte {
		p := []byte(`{"type":"message","from":"group","group":"g","dataType":"text","data":"fragmented","sequenceId":` + strconv.Itoa(seq) + `}`)
		// text frame, not final; a continuation; the final continuation
		b := append([]byte{0x01, 10}, p[:10]...)
		b = append(b, 0x00, 10)
		b = append(b, p[10:20]...)
		b = append(b, 0x80, byte(len(p)-20))
		return append(b, p[20:]...)
	}
	type probe struct {
		name   string
		stream []byte
		drip   bool // one byte per write
		n      int
		limit  int64 // Options.ReadLimit
	}
	probes := []probe{
		{"one message", groupFrame(1, 10), false, 1, 0},
		{"dripped", append(groupFrame(1, 10), groupFrame(2, 300)...), true, 2, 0},
		{"fragmented dripped", fragmented(1), true, 1, 0},
	}
	b, n := burstOf(1, 64<<10)
	b = append(append(b, groupFrame(n+1, 10<<20)...), groupFrame(n+2, 10)...)
	probes = append(probes, probe{"burst + 10 MiB frame + 1", b, false, n + 2, 11 << 20})
	for _, size := range []int{4 << 10, 4<<10 - 100, 4<<10 + 1, 64 << 10, 64<<10 - 4<<10, 68 << 10, 128 << 10} {
		b, n := burstOf(1, size)
		probes = append(probes,
			probe{"burst of " + strconv.Itoa(size), b, false, n, 0},
			probe{"burst of " + strconv.Itoa(size) + " + 1", append(b, groupFrame(n+1, 10)...), false, n + 1, 0},
			probe{"burst of " + strconv.Itoa(size) + " + fragmented", append(b, fragmented(n+1)...), false, n + 1, 0})
	}
	for _, tc := range probes {
		t.Run(tc.name, func(t *testing.T) {
			u := rawService(t, func(conn net.Conn, br *bufio.Reader) {
				if tc.drip {
					for i := range tc.stream {
						if _, err := conn.Write(tc.stream[i : i+1]); err != nil {
							return
						}
						time.Sleep(100 * time.Microsecond)
					}
				} else if _, err := conn.Write(tc.stream); err != nil {
					return
				}
				idle(conn, br)
			})
			for _, mode := range []string{"Receive", "OnMessage"} {
				t.Run(mode, func(t *testing.T) {
					opts := &Options{ReadLimit: tc.limit}
					got := make(chan Message, tc.n)
					if mode == "OnMessage" {
						opts.OnMessage = func(m Message) { got <- m }
					}
					c := start(t, u, opts)
					ctx := ctxT(t, 20*time.Second)
					for i := 1; i <= tc.n; i++ {
						var m Message
						if mode == "OnMessage" {
							select {
							case m = <-got:
							case <-ctx.Done():
								t.Fatalf("message %d of %d never came", i, tc.n)
							}
						} else {
							var err error
							if m, err = c.Receive(ctx); err != nil {
								t.Fatalf("message %d of %d: %v", i, tc.n, err)
							}
						}
						if m.SequenceID != uint64(i) {
							t.Fatalf("message %d has sequence id %d", i, m.SequenceID)
						}
					}
				})
			}
		})
	}
}

// A message queued without a wake-up is handed over although the reader
// then waits for something else than the network: here a ping whose pong
// waits for the write lock, held by a large SendToGroup that the server
// does not read. The server reads again only once the message was
// received; before the fix, the message came only when the pong's write
// gave up (5 s) and the connection was dropped, and the pong never came.
func TestMessageBeforePingWhileWriteBlocked(t *testing.T) {
	received := make(chan struct{})
	pong := make(chan bool, 1)
	u := rawService(t, func(conn net.Conn, br *bufio.Reader) {
		// The first bytes of the large message: its write holds the lock
		// until the server reads the rest (16 MiB, more than the socket
		// buffers hold).
		if _, err := br.Peek(2); err != nil {
			pong <- false
			return
		}
		if _, err := conn.Write(append(groupFrame(1, 10), 0x89, 0)); err != nil {
			pong <- false
			return
		}
		<-received
		for {
			op, _, err := readClientFrame(br)
			if err != nil {
				pong <- false
				return
			}
			if op == 0xA {
				pong <- true
				idle(conn, br)
				return
			}
		}
	})
	c := start(t, u, &Options{})
	sent := make(chan error, 1)
	go func() {
		sent <- c.SendToGroup(ctxT(t, 30*time.Second), "g", Text(strings.Repeat("x", 16<<20)), &SendToGroupOptions{FireAndForget: true})
	}()
	m, err := c.Receive(ctxT(t, 20*time.Second))
	close(received)
	if err != nil || m.SequenceID != 1 {
		t.Fatalf("Receive = %+v, %v; want the message with sequence id 1", m, err)
	}
	select {
	case ok := <-pong:
		if !ok {
			t.Error("the connection ended before the pong: the message waited for the pong's write to fail")
		}
	case <-ctxT(t, 20*time.Second).Done():
		t.Fatal("the server saw neither a pong nor the end of the connection")
	}
	if err := <-sent; err != nil {
		t.Errorf("SendToGroup: %v", err)
	}
}

// A server that sends a burst and then ends the connection (a close
// frame, a TCP close, a TCP reset) in the middle of what the reader holds
// in its bulk buffer: every complete message is delivered once, in order,
// before the drop; the connection is then recovered and the next message
// (sequence id n+1, sent by the recovered connection) follows. After a
// reset the kernel may discard what the client had not read: a prefix
// is then delivered.
func TestBurstThenConnectionEnds(t *testing.T) {
	const n = 3000
	var burst []byte
	for i := 1; i <= n; i++ {
		burst = append(burst, groupFrame(i, 10+i%50)...)
	}
	for _, tc := range []struct {
		name       string
		end        func(conn net.Conn)
		wholeBurst bool
	}{
		{"close frame", func(conn net.Conn) { _, _ = conn.Write([]byte{0x88, 2, 0x03, 0xe9}) }, true}, // 1001 going away
		{"TCP close", func(net.Conn) {}, true},
		{"TCP reset", func(conn net.Conn) { _ = conn.(*net.TCPConn).SetLinger(0) }, false},
		{"half a frame, then TCP close", func(conn net.Conn) { _, _ = conn.Write(groupFrame(n+1, 10)[:20]) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			u := rawService(t, func(conn net.Conn, br *bufio.Reader) {
				if conns.Add(1) > 1 {
					_, _ = conn.Write(groupFrame(n+1, 10))
					idle(conn, br)
					return
				}
				_, _ = conn.Write(burst)
				tc.end(conn)
				if tc.wholeBurst {
					// Closing with the client's acks unread would reset
					// the connection: they are read to the end.
					_ = conn.(*net.TCPConn).CloseWrite()
					_, _ = io.Copy(io.Discard, br)
				}
			})
			ev := newEvents()
			c := start(t, u, ev.options(&Options{}))
			ctx := ctxT(t, 30*time.Second)
			var last uint64
			for last != n+1 {
				m, err := c.Receive(ctx)
				if err != nil {
					t.Fatalf("after sequence id %d: %v", last, err)
				}
				if m.SequenceID != last+1 && !(m.SequenceID == n+1 && !tc.wholeBurst) {
					t.Fatalf("sequence id %d after %d", m.SequenceID, last)
				}
				last = m.SequenceID
			}
			if got := count[DisconnectedEvent](ev.snapshot()); got != 0 {
				t.Errorf("%d disconnected events; want none (the connection was recovered)", got)
			}
		})
	}
}

// variedMessage is the group message with sequence id seq: its group,
// sender and data change from message to message (empty names, names
// equal to the protocol's words, escaped and non-ASCII strings, JSON,
// binary), and want is what the client must deliver for it.
func variedMessage(seq int) (frame []byte, want Message) {
	names := []string{"g", "", "group", "message", "fromUserId", "é\u00e9", `a\"b`, strings.Repeat("n", 300)}
	group, user := names[seq%len(names)], names[(seq/len(names))%len(names)]
	want = Message{From: "group", Group: group, FromUserID: user, SequenceID: uint64(seq)}
	var data string
	switch seq % 4 {
	case 0:
		want.DataType, want.Data = DataTypeText, "text \"quoted\" ✓ "+strconv.Itoa(seq)
		data = strconv.Quote(want.Data.(string))
	case 1:
		raw := `{"n":` + strconv.Itoa(seq) + `,"s":"` + strings.Repeat("j", seq%200) + `"}`
		want.DataType, want.Data = DataTypeJSON, json.RawMessage(raw)
		data = raw
	case 2:
		b := []byte(strings.Repeat("\x00\xff", seq%100) + strconv.Itoa(seq))
		want.DataType, want.Data = DataTypeBinary, b
		data = `"` + base64.StdEncoding.EncodeToString(b) + `"`
	case 3:
		want.DataType, want.Data = DataTypeText, strconv.Itoa(seq)
		data = `"` + want.Data.(string) + `"`
	}
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	frame = appendServerFrame(nil, []byte(`{"type":"message","from":"group","group":`+js(group)+`,"fromUserId":`+js(user)+
		`,"dataType":"`+string(want.DataType)+`","data":`+data+`,"sequenceId":`+strconv.Itoa(seq)+`}`))
	return frame, want
}

// Messages whose names and data change every time, received by several
// goroutines calling Receive at once and by a callback that keeps them:
// each message is delivered once, equal to what was sent, and stays so
// while later frames reuse the reader's buffer.
func TestVariedMessagesConcurrentConsumers(t *testing.T) {
	const n = 2000
	var stream []byte
	want := make([]Message, n+1)
	for i := 1; i <= n; i++ {
		f, m := variedMessage(i)
		stream, want[i] = append(stream, f...), m
	}
	u := rawService(t, func(conn net.Conn, br *bufio.Reader) {
		_, _ = conn.Write(stream)
		idle(conn, br)
	})
	check := func(t *testing.T, got []Message) {
		t.Helper()
		seen := make([]bool, n+1)
		for _, m := range got {
			if m.SequenceID == 0 || m.SequenceID > n || seen[m.SequenceID] {
				t.Fatalf("unexpected or duplicate sequence id %d", m.SequenceID)
			}
			seen[m.SequenceID] = true
			if diff := cmp.Diff(want[m.SequenceID], m); diff != "" {
				t.Errorf("message %d (-want +got):\n%s", m.SequenceID, diff)
			}
		}
		if len(got) != n {
			t.Errorf("%d messages, want %d", len(got), n)
		}
	}
	t.Run("Receive from 4 goroutines", func(t *testing.T) {
		c := start(t, u, &Options{ReceiveQueue: 64})
		ctx := ctxT(t, 30*time.Second)
		all, allCame := context.WithCancel(ctx) // the consumers stop when all came
		defer allCame()
		var mu sync.Mutex
		var got []Message
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					m, err := c.Receive(all)
					if err != nil {
						if ctx.Err() != nil {
							t.Errorf("Receive: %v", err)
						}
						return
					}
					mu.Lock()
					if got = append(got, m); len(got) == n {
						allCame()
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		check(t, got)
	})
	t.Run("OnMessage keeping them", func(t *testing.T) {
		all := make(chan []Message, 1)
		var got []Message
		start(t, u, &Options{OnMessage: func(m Message) {
			if got = append(got, m); len(got) == n {
				all <- got
			}
		}})
		select {
		case got := <-all:
			check(t, got)
		case <-ctxT(t, 30*time.Second).Done():
			t.Fatal("not every message came")
		}
	})
}

// Stop in the middle of a burst, from the consumer or from the callback,
// with many clients bursting at once (sharing the pooled bulk buffers):
// the client stops, the messages received before are a prefix in order,
// and no goroutine is left (TestMain's leak check).
func TestStopDuringBurst(t *testing.T) {
	const clients, n, stopAt = 8, 20000, 500
	for _, fromCallback := range []bool{false, true} {
		t.Run(map[bool]string{false: "Stop after Receive", true: "Stop from OnMessage"}[fromCallback], func(t *testing.T) {
			u := blastServer(t, n, `"`+strings.Repeat("x", 100)+`"`, "text")
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					opts := &Options{}
					var last uint64
					var c *Client
					if fromCallback {
						opts.OnMessage = func(m Message) {
							if m.SequenceID <= last {
								t.Errorf("sequence id %d after %d", m.SequenceID, last)
							}
							if last = m.SequenceID; last == stopAt {
								c.Stop()
							}
						}
					}
					c, err := New(u, opts) // c is set before the callback runs
					if err != nil {
						t.Error(err)
						return
					}
					if err := c.Start(ctxT(t, 10*time.Second)); err != nil {
						t.Error(err)
						return
					}
					t.Cleanup(c.Stop)
					if !fromCallback {
						for range stopAt {
							m, err := c.Receive(ctxT(t, 30*time.Second))
							if err != nil {
								t.Errorf("Receive: %v", err)
								return
							}
							if m.SequenceID <= last {
								t.Errorf("sequence id %d after %d", m.SequenceID, last)
							}
							last = m.SequenceID
						}
						c.Stop()
					}
					waitDone(t, c, 30*time.Second, "the client did not stop")
				})
			}
			wg.Wait()
		})
	}
}

// Over TLS, with the package's HTTP client (its hooked connection under
// TLS: a TLS record may hold messages the reader takes without reading
// the network) and with the user's: every message of a burst that ends
// at a 4 or 64 KiB boundary is delivered though nothing follows.
func TestReceiveOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate and a client that trusts it
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var stream []byte
	total := 0
	for _, size := range []int{4 << 10, 64 << 10, 64<<10 + 1} {
		b, n := burstOf(total+1, size)
		stream, total = append(stream, b...), total+n
	}
	u := "wss://" + rawServiceOn(t, tls.NewListener(ln, srv.TLS), func(conn net.Conn, br *bufio.Reader) {
		_, _ = conn.Write(stream)
		idle(conn, br)
	})
	trusting := newDefaultTransport()
	trusting.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	for _, tc := range []struct {
		name     string
		own      bool // the package's client (made to trust the server)
		wantLazy bool
	}{
		{"package's client", true, true},
		{"user's client", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := &Options{HTTPClient: srv.Client()}
			if tc.own {
				saved := defaultHTTPClient
				defaultHTTPClient = &http.Client{Transport: trusting}
				t.Cleanup(func() { defaultHTTPClient = saved })
				opts.HTTPClient = nil
			}
			c := start(t, u, opts)
			c.mu.Lock()
			lazy := c.sock != nil && c.sock.lazy
			c.mu.Unlock()
			if lazy != tc.wantLazy {
				t.Errorf("lazy = %v, want %v", lazy, tc.wantLazy)
			}
			got := receiveN(t, c, total, 30*time.Second)
			for i, m := range got {
				if m.SequenceID != uint64(i+1) {
					t.Fatalf("message %d has sequence id %d", i+1, m.SequenceID)
				}
			}
		})
	}
}

// A frame that breaks the protocol and echoes the tokens (or megabytes)
// in the values the client's error quotes: the connection is dropped
// with an error that holds neither the tokens nor more than a line of
// the service's text, in the disconnected event, the stop error and the
// log.
func TestProtocolErrorsEchoNoSecret(t *testing.T) {
	for _, tc := range []struct{ name, frame string }{
		{"data type echoing the access token", `{"type":"message","from":"group","group":"g","dataType":"` + fakeJWT + `"}`},
		{"data type echoing the reconnection token", `{"type":"message","from":"group","group":"g","dataType":"x rt-0123456789 x"}`},
		{"data type of 1 MiB", `{"type":"message","from":"group","group":"g","dataType":"` + strings.Repeat("d", 1<<20) + `"}`},
		{"text data type echoing the token", `{"type":"message","from":"server","dataType":"text","data":{"t":"` + fakeJWT + `"}}`},
		{"not JSON, echoing the token", `{"type":"message","data":"` + fakeJWT + `"` + fakeJWT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := fakeService(t, func(ctx context.Context, ws *websocket.Conn) {
				write(ctx, ws, connectedJSON, tc.frame)
				drain(ctx, ws)
			})
			var log logBuf
			ev := newEvents()
			c, err := New(u, ev.options(&Options{Protocol: ProtocolJSON, DisableAutoReconnect: true, Logger: log.logger()}))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctxT(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			defer c.Stop()
			waitDone(t, c, 10*time.Second, "the client did not stop")
			texts := map[string]string{"the stop error": c.Err().Error(), "the log": log.String()}
			for _, e := range ev.snapshot() {
				if d, ok := e.(DisconnectedEvent); ok {
					texts["the disconnected error"] = d.Err.Error()
				}
			}
			if _, ok := texts["the disconnected error"]; !ok {
				t.Fatal("no disconnected event")
			}
			for what, text := range texts {
				noSecretIn(t, what, text)
				if what != "the log" && len(text) > 1000 {
					t.Errorf("%s is %d bytes long", what, len(text))
				}
			}
			if len(log.String()) > 10000 {
				t.Errorf("the log is %d bytes long", len(log.String()))
			}
		})
	}
}

// An ack in the middle of a burst, then silence: the acked SendToGroup
// returns success and every message of the burst, before and after the
// ack, is delivered.
func TestAckInsideBurst(t *testing.T) {
	const n = 1000
	u := rawService(t, func(conn net.Conn, br *bufio.Reader) {
		var req clientRequest
		for req.AckID == 0 {
			op, p, err := readClientFrame(br)
			if err != nil || op == 0x8 {
				return
			}
			_ = json.Unmarshal(p, &req)
		}
		var stream []byte
		for i := 1; i <= n; i++ {
			stream = append(stream, groupFrame(i, 10)...)
			if i == n/2 {
				stream = appendServerFrame(stream, []byte(`{"type":"ack","ackId":`+strconv.FormatUint(req.AckID, 10)+`,"success":true}`))
			}
		}
		_, _ = conn.Write(stream)
		idle(conn, br)
	})
	c := start(t, u, &Options{})
	if err := c.SendToGroup(ctxT(t, 20*time.Second), "g", Text("hi"), nil); err != nil {
		t.Fatalf("SendToGroup: %v", err)
	}
	for i, m := range receiveN(t, c, n, 20*time.Second) {
		if m.SequenceID != uint64(i+1) {
			t.Fatalf("message %d has sequence id %d", i+1, m.SequenceID)
		}
	}
}
