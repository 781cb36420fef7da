package webpubsubtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHalfSentRequestsAreClosed: connections that send half a request
// header, or stay idle after a request, are closed by the server's limits
// (issue 12: 500 half-sent requests used to stay open), while complete
// requests are served meanwhile.
func TestHalfSentRequestsAreClosed(t *testing.T) {
	oldHeader, oldIdle := readHeaderTimeout, idleTimeout
	readHeaderTimeout, idleTimeout = 300*time.Millisecond, 300*time.Millisecond
	defer func() { readHeaderTimeout, idleTimeout = oldHeader, oldIdle }()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := strings.TrimPrefix(s.URL(), "http://")
	partial := []string{
		"",                             // nothing at all
		"GET /api/health HTTP/1.1\r\n", // the request line only
		"GET /api/health HTTP/1.1\r\nHost: x\r\n",        // some headers
		"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET", // a complete request, then half of the next
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := range 200 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, partial[i%len(partial)]); err != nil {
			t.Fatal(err)
		}
	}
	// Complete requests are answered meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, s.URL()+"/api/health?api-version=2024-01-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: status %d", resp.StatusCode)
	}
	for i, c := range conns {
		// The server closes the connection: reads end (after the answer
		// to the complete request, where there was one).
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("connection %d (%q): %v, want the server to close it", i, partial[i%len(partial)], err)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
