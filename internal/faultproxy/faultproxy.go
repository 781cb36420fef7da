// Package faultproxy is a raw TCP proxy for tests that breaks connections
// the way networks and overloaded services do: it refuses connections,
// resets them while the request is being sent or while the response is
// coming back, truncates responses, and delays them.
//
// Each accepted connection takes the next queued Fault (or passes traffic
// through unchanged when none is queued), so a test can script exactly
// which try of a request fails and how. Use it with one request per
// connection (http.Transport.DisableKeepAlives) so that tries and
// connections correspond.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Mode is what the proxy does to one connection.
type Mode int

// The modes a Fault can have.
const (
	// Pass forwards the connection unchanged.
	Pass Mode = iota
	// ResetRequest reads the start of the request, never forwards it, and
	// resets the connection (TCP RST): the service never sees the request.
	ResetRequest
	// ResetResponse forwards the whole request, waits for the start of the
	// service's response, and resets the connection before the client gets
	// a complete status line: the service did the work, the client cannot
	// know.
	ResetResponse
	// Truncate forwards the request, and of the service's response passes
	// the headers and only part of the body, then closes the connection
	// normally (FIN).
	Truncate
	// Delay holds the connection for the Fault's Delay before forwarding it.
	Delay
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case ResetRequest:
		return "reset-request"
	case ResetResponse:
		return "reset-response"
	case Truncate:
		return "truncate"
	case Delay:
		return "delay"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Fault is what happens to the next accepted connections.
type Fault struct {
	Mode Mode
	// Count is how many connections get the fault; 0 means 1.
	Count int
	// Delay is the hold time of Mode Delay.
	Delay time.Duration
}

// Proxy forwards TCP connections from a loopback port to a target address.
type Proxy struct {
	target string
	addr   string

	mu       sync.Mutex
	ln       net.Listener // nil while refusing
	faults   []Fault
	conns    map[net.Conn]struct{}
	accepted int
	applied  map[Mode]int
	closed   bool
	done     chan struct{} // closed by Close
	wg       sync.WaitGroup
}

// New starts a proxy on a free loopback port that forwards to target
// (host:port).
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listening on loopback: %w", err)
	}
	p := &Proxy{
		target:  target,
		addr:    ln.Addr().String(),
		conns:   map[net.Conn]struct{}{},
		applied: map[Mode]int{},
		done:    make(chan struct{}),
	}
	p.serve(ln)
	return p, nil
}

// Addr returns the proxy's host:port. It stays the same across Refuse and
// Accept.
func (p *Proxy) Addr() string { return p.addr }

// Inject queues faults for the next accepted connections, in order.
func (p *Proxy) Inject(faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range faults {
		if f.Count <= 0 {
			f.Count = 1
		}
		p.faults = append(p.faults, f)
	}
}

// Clear drops every queued fault.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Pending returns how many queued fault applications are left.
func (p *Proxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.faults {
		n += f.Count
	}
	return n
}

// Accepted returns how many connections the proxy accepted.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Applied returns how many connections got mode m.
func (p *Proxy) Applied(m Mode) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied[m]
}

// Refuse closes the listening socket, so that new connections are refused
// (ECONNREFUSED) until Accept. Open connections are not touched.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
}

// Accept listens again on the same address after Refuse.
func (p *Proxy) Accept() error {
	p.mu.Lock()
	if p.ln != nil || p.closed {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("faultproxy: listening again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Break resets every open connection (TCP RST to both sides), as a
// network failure would, and returns how many it reset. New connections
// are accepted as before.
func (p *Proxy) Break() int {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		reset(c)
	}
	return len(conns)
}

// Close stops the proxy and ends every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	p.wg.Wait()
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = ln.Close()
		return
	}
	p.ln = ln
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f, ok := p.take(c)
			if !ok {
				_ = c.Close()
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer p.forget(c)
				p.handle(c, f)
			}()
		}
	}()
}

// take registers c and pops the fault it gets.
func (p *Proxy) take(c net.Conn) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Fault{}, false
	}
	p.conns[c] = struct{}{}
	p.accepted++
	f := Fault{Mode: Pass}
	if len(p.faults) > 0 {
		f = p.faults[0]
		p.faults[0].Count--
		if p.faults[0].Count == 0 {
			p.faults = p.faults[1:]
		}
	}
	p.applied[f.Mode]++
	return f, true
}

func (p *Proxy) forget(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// track registers a connection the proxy opened, so Close ends it.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// reset closes c with an RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *Proxy) handle(client net.Conn, f Fault) {
	switch f.Mode {
	case ResetRequest:
		buf := make([]byte, 64)
		_, _ = client.Read(buf) // the start of the request line
		reset(client)
		return
	case Delay:
		select {
		case <-time.After(f.Delay):
		case <-p.done:
			return
		}
	}
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(client)
		return
	}
	if !p.track(upstream) {
		_ = upstream.Close()
		return
	}
	defer p.forget(upstream)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(upstream, client)
		// HTTP clients never half-close: an ended client is gone, so the
		// service must see the connection end (and cancel the request).
		_ = upstream.Close()
	}()
	switch f.Mode {
	case ResetResponse:
		buf := make([]byte, 1)
		if _, err := io.ReadFull(upstream, buf); err == nil {
			_, _ = client.Write([]byte("HTTP/1.")) // not even a whole status line
		}
		reset(client)
	case Truncate:
		resp, _ := io.ReadAll(upstream) // one request per connection: the service closes
		_, _ = client.Write(truncated(resp))
		_ = client.Close()
	default:
		_, _ = io.Copy(client, upstream)
		if tc, ok := client.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
}

// truncated keeps a response's headers and the first half of its body (at
// least one byte short of the whole); with no body it cuts the headers.
func truncated(resp []byte) []byte {
	i := bytes.Index(resp, []byte("\r\n\r\n"))
	if i < 0 {
		return resp[:len(resp)/2]
	}
	head, body := resp[:i+4], resp[i+4:]
	if len(body) == 0 {
		return resp[:i/2]
	}
	return append(head[:len(head):len(head)], body[:len(body)/2]...)
}
