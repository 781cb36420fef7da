// Package interop checks the emulator against official client libraries.
// The tests skip when the tools they need (node, npm) are missing.
package interop

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// nodeModules installs the pinned npm packages of testdata once.
func nodeModules(t *testing.T) string {
	t.Helper()
	track(t)
	if testing.Short() {
		skipInterop(t, "-short mode")
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipInterop(t, "node is not installed: install Node.js 20 or later")
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	_, errClient := os.Stat(filepath.Join(dir, "node_modules", "@azure", "web-pubsub-client"))
	_, errMQTT := os.Stat(filepath.Join(dir, "node_modules", "mqtt"))
	if errClient != nil || errMQTT != nil {
		npmCI(t, dir)
	}
	return dir
}

// dropProxy forwards TCP connections to a backend and can cut them all,
// as a network failure would.
type dropProxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newDropProxy(t *testing.T, backend string) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, backend: backend}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.dropAll()
		p.wg.Wait()
	})
	return p
}

func (p *dropProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(b, c); _ = b.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(c, b); _ = c.Close() }()
	}
}

func (p *dropProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

type jsEvent struct {
	Ev       string `json:"ev"`
	ID       string `json:"id"`
	User     string `json:"user"`
	Group    string `json:"group"`
	From     string `json:"from"`
	DataType string `json:"dataType"`
	Data     any    `json:"data"`
	Message  any    `json:"message"`
}

// TestJSClientRecovers connects @azure/web-pubsub-client 1.1.0 with a URL
// from the SDK's ClientAccessToken, publishes json, text and binary to a
// group, receives server messages, and recovers after its TCP connection is
// cut mid-stream, receiving every message exactly once, in order.
func TestJSClientRecovers(t *testing.T) {
	dir := nodeModules(t)
	srv := webpubsubtest.NewServer(t)
	proxy := newDropProxy(t, srv.URL()[len("http://"):])
	endpoint := "http://" + proxy.ln.Addr().String()
	client, err := webpubsub.NewClientFromConnectionString("Endpoint="+endpoint+";AccessKey="+srv.AccessKey()+";Version=1.0;", "chat")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{
		UserID: "js", Roles: []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const total = 40
	cmd, stdout := startNode(t, ctx, dir, "client.mjs", tok.URL, strconv.Itoa(total))
	events := jsonLines[jsEvent](t, stdout)
	var all []jsEvent
	waitFor := func(ev string) {
		t.Helper()
		for e := range events {
			all = append(all, e)
			if e.Ev == "error" || e.Ev == "timeout" {
				t.Fatalf("node: %+v (events so far %+v)", e, all)
			}
			if e.Ev == ev {
				return
			}
		}
		t.Fatalf("node exited before %q; events %+v", ev, all)
	}
	waitFor("sent")
	rest := srv.Client(t, "chat") // not through the proxy, which the test cuts
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if err := rest.SendToUser(ctx, "js", webpubsub.Text("m"+strconv.Itoa(i)), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, total/2)
	proxy.dropAll() // cut the client mid-stream
	send(total/2, total)
	waitFor("done")
	for e := range events {
		all = append(all, e)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v", err)
	}

	var connected, groups, server []jsEvent
	for _, e := range all {
		switch e.Ev {
		case "connected":
			connected = append(connected, e)
		case "group":
			groups = append(groups, e)
		case "server":
			server = append(server, e)
		}
	}
	if len(connected) != 1 || connected[0].User != "js" {
		t.Errorf("connected events %+v: want one (recovery raises no second)", connected)
	}
	wantGroups := []jsEvent{
		{Ev: "group", Group: "g", From: "js", DataType: "json", Data: map[string]any{"a": float64(1)}},
		{Ev: "group", Group: "g", From: "js", DataType: "text", Data: "hi"},
		{Ev: "group", Group: "g", From: "js", DataType: "binary", Data: map[string]any{"base64": "AQID"}},
	}
	if diff := cmp.Diff(wantGroups, groups); diff != "" {
		t.Errorf("group messages (-want +got):\n%s", diff)
	}
	if len(server) != total {
		t.Fatalf("%d server messages, want %d", len(server), total)
	}
	for i, e := range server {
		if e.Data != "m"+strconv.Itoa(i) || e.DataType != "text" {
			t.Fatalf("server message %d is %+v", i, e)
		}
	}
	// The drop was real: the emulator saw a second WebSocket (the recovery).
	if n := len(srv.RequestsFor("Connect")); n < 2 {
		t.Errorf("%d WebSocket connects, want a recovery connect after the drop", n)
	}
}

// TestJSClientStartsOverAfterServiceClose: when the service closes a
// reliable connection (REST CloseConnection), the JS client must not try to
// recover it (close code 1008) but open a new connection.
func TestJSClientStartsOverAfterServiceClose(t *testing.T) {
	dir := nodeModules(t)
	srv := webpubsubtest.NewServer(t)
	client := srv.Client(t, "chat")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{
		UserID: "js", Roles: []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd, stdout := startNode(t, ctx, dir, "client.mjs", tok.URL, "2")
	dec := json.NewDecoder(stdout)
	var connected []string
	next := func(want string) jsEvent {
		t.Helper()
		for {
			var e jsEvent
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("waiting for %q: %v (connected %v)", want, err, connected)
			}
			if e.Ev == "connected" {
				connected = append(connected, e.ID)
			}
			if e.Ev == "error" || e.Ev == "timeout" {
				t.Fatalf("node: %+v", e)
			}
			if e.Ev == want {
				return e
			}
		}
	}
	next("sent")
	if err := client.SendToUser(ctx, "js", webpubsub.Text("before"), nil); err != nil {
		t.Fatal(err)
	}
	if e := next("server"); e.Data != "before" {
		t.Fatalf("got %+v", e)
	}
	if err := client.CloseConnection(ctx, connected[0], &webpubsub.CloseConnectionOptions{Reason: "kicked"}); err != nil {
		t.Fatal(err)
	}
	next("connected")
	if connected[1] == connected[0] {
		t.Fatalf("reconnected with the closed connection id %s", connected[0])
	}
	if err := client.SendToUser(ctx, "js", webpubsub.Text("after"), nil); err != nil {
		t.Fatal(err)
	}
	if e := next("server"); e.Data != "after" {
		t.Fatalf("got %+v", e)
	}
	next("done")
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v", err)
	}
}
