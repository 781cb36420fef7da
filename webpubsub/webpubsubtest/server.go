// Package webpubsubtest runs an in-process Azure Web PubSub service for
// tests, in the spirit of net/http/httptest.
//
// NewServer starts the service (the same emulator that `webpubsub serve`
// runs) on a loopback port and stops it when the test ends. Point the code
// under test at Server.ConnectionString or use Server.Client for a ready
// *webpubsub.Client; connect WebSocket clients with Server.Connect to assert
// what the code delivered; read Server.Requests to see which REST calls it
// made and Server.Events to see which client events reached the service;
// and make calls fail with Server.InjectFault to test retries and error
// handling. For code that authenticates with Microsoft Entra ID, start the
// server WithEntraTokens and give the code an EntraCredential.
//
// MQTT 3.1.1 and 5.0 clients (any MQTT library over WebSocket) connect at
// /clients/mqtt/hubs/{hub} with a URL from ClientAccessToken with
// webpubsub.ClientProtocolMQTT; topics are groups, and they exchange
// messages with Web PubSub clients and the REST API as on the service
// (docs/cli.md, "MQTT clients", lists what is supported and refused).
//
// # Testing the app's event handler
//
// Server.SetEventHandler sends a hub's events to the app's event handler
// (an http.Handler such as an eventhandler.Handler, served in-process) and
// Server.SetEventHandlerURL to a handler listening at a URL, exactly as
// the service would: after the abuse-protection handshake, as signed
// CloudEvents, with the service's handling of rejections, replies, failures
// and timeouts. So one test can drive a client through the whole app:
// connect (the handler accepts or rejects it, and sets its user id, groups
// and roles), events and their replies, messages the app's server code
// sends, disconnect. Events then lists the system events the handler
// received as well, each with the handler's HTTP status.
//
// # The requests an event handler receives
//
// For those who write their own handler: the handshake is an OPTIONS
// request to the URL with {event} = "validate" and a WebHook-Request-Origin
// header naming the service host (here 127.0.0.1:<port>); the handler
// allows delivery by answering 200 with WebHook-Allowed-Origin set to that
// host or "*". Every event is then a POST in CloudEvents binary mode with
// these headers:
//
//   - ce-specversion: 1.0, and ce-awpsversion: 1.0
//   - ce-type: azure.webpubsub.sys.connect, azure.webpubsub.sys.connected,
//     azure.webpubsub.sys.disconnected, or azure.webpubsub.user.<event>
//   - ce-source: /hubs/<hub>/client/<connection id>; ce-id: a unique id;
//     ce-time: the RFC 3339 time it was sent
//   - ce-hub, ce-connectionId, ce-eventName, and ce-userId when the client
//     has a user id
//   - ce-subprotocol: the client's subprotocol (absent for simple
//     WebSocket clients)
//   - ce-connectionState: the state the handler last set, if any
//   - ce-signature: "sha256=" + lowercase hex HMAC-SHA256 of the connection
//     id keyed with each access key, comma-separated
//   - WebHook-Request-Origin: the service host, as in the handshake
//
// The bodies:
//
//   - connect (application/json; the client waits for the answer):
//     {"claims": {...}, "query": {...}, "headers": {...}, "subprotocols":
//     [...], "clientCertificates": [...]}, each map from a name to a list
//     of strings. Answer 204 to accept the client as its token says, 200
//     with {"userId", "groups", "roles", "subprotocol"} to change it, or
//     400, 401 or 403 with a reason to reject it: the client's handshake
//     fails with that status and reason (another 4xx fails it with 400,
//     anything else with 500).
//   - connected (application/json, {}) and disconnected (application/json,
//     {"reason": "..."}): notifications; the answer is only logged.
//   - user events: the client's data, as text/plain, application/json or
//     application/octet-stream by its data type. Answer 204 to acknowledge,
//     or 200 with a body whose Content-Type is one of those three to send
//     it back to the client; any other status closes the client's
//     connection.
//
// Answers to connect and user events may set ce-connectionState; later
// events of the connection carry it.
package webpubsubtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// DefaultAccessKey is the access key of a Server started without
// WithAccessKey. It is a well-known test value, not a secret: the key of
// the official Web PubSub emulator.
const DefaultAccessKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

type config struct {
	key             string
	logger          *slog.Logger
	recoveryWindow  time.Duration
	entra           bool
	reliableBuffer  *int
	upstreamTimeout time.Duration
}

// Option configures a Server.
type Option func(*config)

// WithAccessKey sets the access key of the server's connection string
// (DefaultAccessKey otherwise).
func WithAccessKey(key string) Option { return func(c *config) { c.key = key } }

// WithLogger logs the service's connection and request events to l. Events
// sent upstream are logged with the server's internal event URL,
// http://events.webpubsubtest.invalid/{hub}/{event}, whichever handler
// (if any) received them.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRecoveryWindow sets how long a dropped reliable client may take to
// recover its connection (30 s otherwise).
func WithRecoveryWindow(d time.Duration) Option { return func(c *config) { c.recoveryWindow = d } }

// WithReliableBufferLimit sets how many unacknowledged messages a reliable
// client (SubprotocolReliableJSON) may have before the server ends its
// connection with close code 1008. The default, 1,000, is the service's
// limit; raise it for tests that burst more messages than that within the
// client's ack interval (about one second for the official SDKs). The byte
// limit, 16 MiB by default, grows with it (16 KiB a message).
func WithReliableBufferLimit(messages int) Option {
	return func(c *config) { c.reliableBuffer = &messages }
}

// Request is one HTTP request the server received, as recorded by Requests.
type Request struct {
	// Method is the HTTP method, e.g. POST.
	Method string
	// Path is the unescaped path, e.g. /api/hubs/chat/groups/a b/:send.
	Path string
	// Query is the request's query, access tokens included: do not log it.
	Query url.Values
	// Operation is the REST operation name (for example "SendToGroup",
	// "AddUserToGroup"), "Connect" for a WebSocket client, or "" for an
	// unknown route.
	Operation string
	// Status is the response status; 101 for an accepted WebSocket; 0 while
	// the request is in flight or when an injected fault dropped the
	// connection.
	Status int
	// Fault reports whether an injected fault answered the request.
	Fault bool
}

// Server is a running in-process Web PubSub service.
type Server struct {
	emu *emulator.Emulator
	srv *httptest.Server
	key string

	transport *upstreamTransport // routes events to event handlers

	mu       sync.Mutex
	requests []*Request
	events   []Event
	eventsCh chan struct{} // closed and replaced when an event is recorded
	faults   []*faultState
	closed   bool
}

// NewServer starts a server and stops it when the test (and its subtests)
// end. It fails the test if the server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("webpubsubtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Limits of the HTTP server; variables so that tests can shorten them.
var (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Start starts a server for use outside a single test (for example in
// TestMain or an example). Call Close when done.
func Start(opts ...Option) (*Server, error) {
	c := config{key: DefaultAccessKey}
	for _, o := range opts {
		o(&c)
	}
	if c.key == "" {
		return nil, errors.New("WithAccessKey: the key is empty")
	}
	if c.reliableBuffer != nil && *c.reliableBuffer < 1 {
		return nil, fmt.Errorf("WithReliableBufferLimit(%d): the limit must be at least 1 message", *c.reliableBuffer)
	}
	s := &Server{key: c.key, eventsCh: make(chan struct{})}
	eopts := []emulator.Option{emulator.WithAccessKeys(c.key)}
	s.transport = newUpstreamTransport(s)
	eopts = append(eopts, s.transport.emulatorOptions(c.upstreamTimeout)...)
	if c.logger != nil {
		eopts = append(eopts, emulator.WithLogger(c.logger))
	}
	if c.recoveryWindow != 0 {
		eopts = append(eopts, emulator.WithRecoveryWindow(c.recoveryWindow))
	}
	if c.entra {
		eopts = append(eopts, emulator.WithUnvalidatedEntraTokens(true))
	}
	if c.reliableBuffer != nil {
		eopts = append(eopts, emulator.WithReliableBufferMessages(*c.reliableBuffer))
	}
	emu, err := emulator.New(eopts...)
	if err != nil {
		return nil, err
	}
	s.emu = emu
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// A client that sends half a request, or keeps a connection idle,
	// does not hold it forever (`webpubsub serve` has the same limits).
	// No ReadTimeout or WriteTimeout: they would cut WebSockets, whose
	// connections outlive the request; the emulator bounds the time to
	// read a REST body itself.
	s.srv.Config.ReadHeaderTimeout = readHeaderTimeout
	s.srv.Config.IdleTimeout = idleTimeout
	s.srv.Start()
	return s, nil
}

// Close ends every client connection and stops the server. It is safe to
// call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	_ = s.emu.Close()
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.transport.running.Wait()
}

// URL returns the server's base URL, http://127.0.0.1:<port>.
func (s *Server) URL() string { return s.srv.URL }

// AccessKey returns the server's access key.
func (s *Server) AccessKey() string { return s.key }

// ConnectionString returns a connection string for the server, in the
// portal's format: Endpoint=http://127.0.0.1:<port>;AccessKey=<key>;Version=1.0;
func (s *Server) ConnectionString() string {
	return "Endpoint=" + s.srv.URL + ";AccessKey=" + s.key + ";Version=1.0;"
}

// HTTPClient returns an *http.Client that reaches the server.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Client returns a client for hub that talks to the server, or fails the
// test when hub or opts are invalid. opts are applied after the server's
// own (an HTTP client for the server). Outside a test (with Start), build
// one from ConnectionString and HTTPClient:
//
//	webpubsub.NewClientFromConnectionString(srv.ConnectionString(), hub, webpubsub.WithHTTPClient(srv.HTTPClient()))
func (s *Server) Client(t testing.TB, hub string, opts ...webpubsub.Option) *webpubsub.Client {
	t.Helper()
	all := append([]webpubsub.Option{webpubsub.WithHTTPClient(s.srv.Client())}, opts...)
	c, err := webpubsub.NewClientFromConnectionString(s.ConnectionString(), hub, all...)
	if err != nil {
		t.Fatalf("webpubsubtest: client for hub %q: %v", hub, err)
	}
	return c
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
		out[i].Query = cloneValues(r.Query)
	}
	return out
}

// Event is an event the server received from a client: a user event (an
// "event" message of a json subprotocol client, or a frame of a simple
// WebSocket client, Name "message"), or a system event (connect, connected,
// disconnected) sent to an event handler set with Server.SetEventHandler
// or Server.SetEventHandlerURL. User events no handler asked for are
// acknowledged with success.
type Event struct {
	Hub          string                // the client's hub
	ConnectionID string                // the client's connection id
	UserID       string                // the client's user id; empty for anonymous clients
	Name         string                // the event name: the client's, "message", or a system event (EventConnect, ...)
	DataType     eventhandler.DataType // DataJSON, DataText or DataBinary; DataJSON for system events
	Data         []byte                // the event's data; the CloudEvent's JSON body for system events
	// System reports a system event.
	System bool
	// Status is the event handler's HTTP status (for example 200, 204, or
	// 401 for a rejected connect); 0 when no handler received the event
	// or its request failed. Events never sent to their handler (because
	// its abuse-protection handshake failed) are not recorded.
	Status int
}

// Events returns the events received so far, in the order they were
// handled. Connected and disconnected events are sent without delaying
// the client, so they may be recorded a moment after the client's own
// view of the connection changed: wait for them with WaitForEvent.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		e.Data = slices.Clone(e.Data)
		out[i] = e
	}
	return out
}

// WaitForEvent returns the first recorded event that match accepts,
// waiting until one is recorded or ctx ends.
func (s *Server) WaitForEvent(ctx context.Context, match func(Event) bool) (Event, error) {
	for {
		s.mu.Lock()
		for _, e := range s.events {
			if match(e) {
				s.mu.Unlock()
				e.Data = slices.Clone(e.Data)
				return e, nil
			}
		}
		ch := s.eventsCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("webpubsubtest: no matching event: %w", ctx.Err())
		}
	}
}

// addEvent records e and wakes WaitForEvent.
func (s *Server) addEvent(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	close(s.eventsCh)
	s.eventsCh = make(chan struct{})
}

// RequestsFor returns the recorded requests of one operation.
func (s *Server) RequestsFor(operation string) []Request {
	return slices.DeleteFunc(s.Requests(), func(r Request) bool { return r.Operation != operation })
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// serveHTTP records each request when it arrives (so a long-lived
// WebSocket is logged at once) and sets its status when it is known.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Operation: s.emu.Operation(r)}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, s: s, rec: rec}
	if f := s.takeFault(rec.Operation); f != nil {
		s.mu.Lock()
		rec.Fault = true
		s.mu.Unlock()
		f.apply(sw, r)
		return
	}
	s.emu.Handler().ServeHTTP(sw, r)
	sw.setStatus(http.StatusOK) // no-op when a status was written
}

// statusWriter records the status; it stays a Hijacker for WebSockets.
type statusWriter struct {
	http.ResponseWriter
	s       *Server
	rec     *Request
	written bool
}

func (w *statusWriter) setStatus(code int) {
	if w.written {
		return
	}
	w.written = true
	w.s.mu.Lock()
	w.rec.Status = code
	w.s.mu.Unlock()
}

func (w *statusWriter) WriteHeader(code int) {
	w.setStatus(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.setStatus(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Hijack hands the connection to the WebSocket code; the request is logged
// as 101 Switching Protocols.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("webpubsubtest: the response writer cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err == nil {
		w.setStatus(http.StatusSwitchingProtocols)
	}
	return conn, rw, err
}

// drop closes the connection without a response; the request is logged
// with status 0.
func (w *statusWriter) drop() {
	w.written = true
	if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // closes the connection without a response
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Fault describes how injected failures answer requests.
type Fault struct {
	// Operation limits the fault to one REST operation (for example
	// "SendToAll") or to "Connect"; empty matches every REST operation.
	Operation string
	// Count is how many matching requests fail; 0 means 1.
	Count int
	// Status is the status to answer with (for example 503). With Status 0
	// and no Drop, the request is only delayed and then served normally.
	Status int
	// ErrorCode is sent as x-ms-error-code with Status; default
	// "InjectedFault".
	ErrorCode string
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds (rounded up).
	RetryAfter time.Duration
	// Delay holds the request this long before answering.
	Delay time.Duration
	// Drop closes the TCP connection without any response.
	Drop bool
}

type faultState struct {
	Fault
	left int
	srv  *Server
}

// InjectFault makes the next matching requests fail as f describes. Faults
// are used in the order they were injected.
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{Fault: f, left: f.Count, srv: s})
	s.mu.Unlock()
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *Server) takeFault(op string) *faultState {
	if op == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Operation == op || (f.Operation == "" && op != emulator.OperationConnect) {
			f.left--
			if f.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

// apply answers r as the fault says.
func (f *faultState) apply(w *statusWriter, r *http.Request) {
	if f.Delay > 0 {
		// Read the body first: only then does net/http notice a client
		// that goes away during the delay and cancel r's context.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(emulator.RequestBodyTimeout))
		body, err := io.ReadAll(io.LimitReader(r.Body, emulator.MaxRequestBodyBytes+1))
		if err != nil {
			w.written = true // the client is gone, or too slow
			return
		}
		_ = rc.SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			w.written = true // the client gave up: no status
			return
		}
	}
	if f.Drop {
		w.drop()
		return
	}
	if f.Status == 0 {
		f.srv.emu.Handler().ServeHTTP(w, r)
		w.setStatus(http.StatusOK)
		return
	}
	code := f.ErrorCode
	if code == "" {
		code = "InjectedFault"
	}
	if f.RetryAfter > 0 {
		secs := (f.RetryAfter + time.Second - 1) / time.Second
		w.Header().Set(wire.HeaderRetryAfter, fmt.Sprint(int64(secs)))
	}
	w.Header().Set(wire.HeaderErrorCode, code)
	if r.Method == http.MethodHead {
		w.WriteHeader(f.Status)
		return
	}
	w.Header().Set(wire.HeaderContentType, wire.ContentTypeJSON)
	w.WriteHeader(f.Status)
	_, _ = fmt.Fprintf(w, "{\"code\":%q,\"message\":%q}\n", code, "fault injected by webpubsubtest")
}

// clientURL builds a WebSocket URL for hub with a token.
func (s *Server) clientURL(hub, token string) string {
	return wire.WebSocketScheme(s.srv.URL) + wire.ClientPathDefault + url.PathEscape(hub) + "?" + wire.QueryAccessToken + "=" + url.QueryEscape(token)
}
