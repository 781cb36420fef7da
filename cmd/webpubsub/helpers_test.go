package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

const testHub = "chat"

// testService is an in-process emulator behind an httptest server.
type testService struct {
	connStr string
	client  *webpubsub.Client
}

func newService(t *testing.T) *testService {
	t.Helper()
	e, err := emulator.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		_ = e.Close()
		srv.Close()
	})
	cs := "Endpoint=" + srv.URL + ";AccessKey=" + e.AccessKey() + ";Version=1.0;"
	c, err := webpubsub.NewClientFromConnectionString(cs, testHub)
	if err != nil {
		t.Fatal(err)
	}
	return &testService{connStr: cs, client: c}
}

// env returns a getenv with the service's connection string and the test hub.
func (s *testService) env() func(string) string {
	return envMap(map[string]string{envConnectionString: s.connStr, envHub: testHub})
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// result is what one run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, getenv func(string) string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, getenv)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// syncBuffer is a bytes.Buffer safe for a command writing in a goroutine
// while the test reads.
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

// waitFor waits until the buffer contains sub.
func (s *syncBuffer) waitFor(t *testing.T, sub string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), sub) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q; got %q", sub, s.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// background runs the CLI in a goroutine; wait returns its result.
type background struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

func startCLI(t *testing.T, getenv func(string) string, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	b := &background{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { b.done <- run(ctx, args, strings.NewReader(""), b.stdout, b.stderr, getenv) }()
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

func (b *background) wait(t *testing.T) result {
	t.Helper()
	select {
	case code := <-b.done:
		b.done <- code // for the cleanup
		return result{code: code, stdout: b.stdout.String(), stderr: b.stderr.String()}
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not finish")
		return result{}
	}
}

// testListener is a WebSocket client written against coder/websocket
// directly, independent of the CLI's own client, to check deliveries.
type testListener struct {
	t            *testing.T
	conn         *websocket.Conn
	connectionID string
}

// message is the part of a server message the tests compare.
type message struct {
	Type     string          `json:"type"`
	From     string          `json:"from,omitempty"`
	Group    string          `json:"group,omitempty"`
	DataType string          `json:"dataType,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Event    string          `json:"event,omitempty"`
}

func (s *testService) listener(t *testing.T, opts *webpubsub.TokenOptions, groups ...string) *testListener {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if opts == nil {
		opts = &webpubsub.TokenOptions{}
	}
	opts.Groups = groups
	tok, err := s.client.ClientAccessToken(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, tok.URL, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSON}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	l := &testListener{t: t, conn: conn}
	var connected struct {
		Event        string `json:"event"`
		ConnectionID string `json:"connectionId"`
	}
	if err := json.Unmarshal(l.readRaw(5*time.Second), &connected); err != nil || connected.Event != wire.SystemEventConnected {
		t.Fatalf("first message: %+v, %v", connected, err)
	}
	l.connectionID = connected.ConnectionID
	return l
}

func (l *testListener) readRaw(d time.Duration) []byte {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := l.conn.Read(ctx)
	if err != nil {
		l.t.Fatalf("read: %v", err)
	}
	return b
}

// next returns the next message.
func (l *testListener) next() message {
	l.t.Helper()
	var m message
	if err := json.Unmarshal(l.readRaw(5*time.Second), &m); err != nil {
		l.t.Fatal(err)
	}
	return m
}

// textMsg, jsonMsg and binaryMsg build the messages a listener expects.
func textMsg(from, group, s string) message {
	b, _ := json.Marshal(s)
	return message{Type: wire.TypeMessage, From: from, Group: group, DataType: wire.DataTypeText, Data: b}
}

func jsonMsg(from, group, raw string) message {
	return message{Type: wire.TypeMessage, From: from, Group: group, DataType: wire.DataTypeJSON, Data: json.RawMessage(raw)}
}

func binMsg(from, group, b64 string) message {
	b, _ := json.Marshal(b64)
	return message{Type: wire.TypeMessage, From: from, Group: group, DataType: wire.DataTypeBinary, Data: b}
}

var _ io.Writer = (*syncBuffer)(nil)
