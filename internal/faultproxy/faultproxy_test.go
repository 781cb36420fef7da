package faultproxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newProxy(t *testing.T, body string) (*Proxy, *http.Client) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	p, err := New(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return p, &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func get(c *http.Client, p *Proxy) (string, error) {
	resp, err := c.Post("http://"+p.Addr()+"/", "text/plain", strings.NewReader("payload"))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestModes(t *testing.T) {
	const body = "0123456789abcdefghij"
	tests := []struct {
		fault   Fault
		wantErr bool
		want    string
	}{
		{Fault{Mode: Pass}, false, body},
		{Fault{Mode: ResetRequest}, true, ""},
		{Fault{Mode: ResetResponse}, true, ""},
		{Fault{Mode: Truncate}, true, body[:len(body)/2]},
		{Fault{Mode: Delay, Delay: 50 * time.Millisecond}, false, body},
	}
	for _, tt := range tests {
		t.Run(tt.fault.Mode.String(), func(t *testing.T) {
			p, c := newProxy(t, body)
			p.Inject(tt.fault)
			start := time.Now()
			got, err := get(c, p)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if tt.fault.Mode == Delay && time.Since(start) < tt.fault.Delay {
				t.Errorf("answered after %v, before the delay", time.Since(start))
			}
			if p.Applied(tt.fault.Mode) != 1 || p.Pending() != 0 {
				t.Errorf("applied %d, pending %d", p.Applied(tt.fault.Mode), p.Pending())
			}
			// The next connection passes.
			if got, err := get(c, p); err != nil || got != body {
				t.Errorf("after the fault: %q, %v", got, err)
			}
		})
	}
}

func TestFaultCountAndOrder(t *testing.T) {
	p, c := newProxy(t, "ok")
	p.Inject(Fault{Mode: ResetRequest, Count: 2}, Fault{Mode: Truncate})
	for i, wantErr := range []bool{true, true, true, false} {
		if _, err := get(c, p); (err != nil) != wantErr {
			t.Errorf("try %d: %v", i+1, err)
		}
	}
	if p.Accepted() != 4 || p.Applied(ResetRequest) != 2 || p.Applied(Truncate) != 1 {
		t.Errorf("accepted %d, reset %d, truncate %d", p.Accepted(), p.Applied(ResetRequest), p.Applied(Truncate))
	}
	p.Inject(Fault{Mode: ResetRequest, Count: 5})
	p.Clear()
	if _, err := get(c, p); err != nil || p.Pending() != 0 {
		t.Errorf("after Clear: %v, %d pending", err, p.Pending())
	}
}

func TestRefuseAndAccept(t *testing.T) {
	p, c := newProxy(t, "ok")
	p.Refuse()
	_, err := get(c, p)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("refused: %v", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("refusal is not a dial error: %v", err)
	}
	if err := p.Accept(); err != nil {
		t.Fatal(err)
	}
	if got, err := get(c, p); err != nil || got != "ok" {
		t.Errorf("after Accept: %q, %v", got, err)
	}
}

func TestTruncated(t *testing.T) {
	tests := map[string]string{
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd": "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab",
		"HTTP/1.1 202 Accepted\r\n\r\n":                    "HTTP/1.1 2",
		"garbage!":                                         "garb",
	}
	for in, want := range tests {
		if got := string(truncated([]byte(in))); got != want {
			t.Errorf("truncated(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBreakResetsOpenConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	p, err := New(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	n := 0
	for n == 0 && time.Now().Before(deadline) {
		n = p.Break()
		time.Sleep(time.Millisecond)
	}
	if n == 0 {
		t.Fatal("Break reset no connection")
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection still works after Break")
	}
}
