package emulator

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordingConn records every Write that reaches the network.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	writes []string
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func TestCorkConn(t *testing.T) {
	big := strings.Repeat("b", corkLimit)
	tests := []struct {
		name  string
		run   func(c *corkConn)
		wants []string // the writes that reach the network, in order
	}{
		{"uncorked writes pass through", func(c *corkConn) {
			_, _ = c.Write([]byte("a"))
			_, _ = c.Write([]byte("b"))
		}, []string{"a", "b"}},
		{"a corked batch is one write", func(c *corkConn) {
			c.cork()
			for _, s := range []string{"one", "two", "three"} {
				_, _ = c.Write([]byte(s))
			}
			_ = c.uncork()
		}, []string{"onetwothree"}},
		{"uncork with nothing collected writes nothing", func(c *corkConn) {
			c.cork()
			_ = c.uncork()
		}, nil},
		{"a full buffer is written before more is collected", func(c *corkConn) {
			c.cork()
			_, _ = c.Write([]byte(big[:corkLimit-1]))
			_, _ = c.Write([]byte("xy"))
			_ = c.uncork()
		}, []string{big[:corkLimit-1], "xy"}},
		{"a write as large as the limit passes through, in order", func(c *corkConn) {
			c.cork()
			_, _ = c.Write([]byte("head"))
			_, _ = c.Write([]byte(big))
			_, _ = c.Write([]byte("tail"))
			_ = c.uncork()
		}, []string{"head", big, "tail"}},
		{"an uncorked write first flushes what was collected", func(c *corkConn) {
			c.cork()
			_, _ = c.Write([]byte("a"))
			c.mu.Lock()
			c.corked = false // as if uncork raced with another writer
			c.mu.Unlock()
			_, _ = c.Write([]byte("b"))
		}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recordingConn{}
			tt.run(&corkConn{Conn: rc})
			if diff := cmp.Diff(tt.wants, rc.writes); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorkingWriterKeepsPendingBytes checks that bytes the client sent
// right after its handshake, already buffered by the HTTP server, are the
// first the WebSocket reads.
func TestCorkingWriterKeepsPendingBytes(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &corkingWriter{ResponseWriter: w}
		conn, brw, err := cw.Hijack()
		if err != nil {
			got <- "hijack: " + err.Error()
			return
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // lost bytes fail, not hang
		line, err := brw.ReadString('\n')
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- line
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The request and the bytes after it arrive in one write, so the server
	// has buffered them when the handler hijacks.
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nafter the handshake\n")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "after the handshake\n" {
		t.Errorf("first bytes read after the hijack = %q, want %q", s, "after the handshake\n")
	}
}
