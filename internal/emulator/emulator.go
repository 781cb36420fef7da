package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultAccessKey is the access key the emulator accepts when no other is
// configured. It is the same well-known, non-secret key the official Azure
// Web PubSub emulator uses, so connection strings written for one work with
// the other.
const DefaultAccessKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

// MaxRequestBodyBytes is the largest REST request body the emulator reads;
// larger bodies get 413 Request Entity Too Large.
const MaxRequestBodyBytes = 1 << 20

// RequestBodyTimeout bounds the time to read a REST request body: a
// client that sends half a body is answered 400 and its connection
// closed after it.
const RequestBodyTimeout = 30 * time.Second

// requestBodyTimeout is RequestBodyTimeout, shorter in tests.
var requestBodyTimeout = RequestBodyTimeout

// Defaults of the reliable protocol and of the per-connection send queue.
const (
	DefaultRecoveryWindow    = 30 * time.Second
	DefaultBufferMessages    = 1000
	DefaultBufferBytes       = 16 << 20
	DefaultSendQueueMessages = 1000
	DefaultSendQueueBytes    = 16 << 20
	DefaultKeepAlive         = 20 * time.Second
)

// minPongTimeout is the shortest wait for a pong.
const minPongTimeout = time.Second

type options struct {
	accessKeys        []string
	logger            *slog.Logger
	allowEntra        bool
	recoveryWindow    time.Duration
	bufferMessages    int
	bufferBytes       int
	sendQueueMessages int
	sendQueueBytes    int
	keepAlive         time.Duration
	keepAliveTimeout  time.Duration
	writeTimeout      time.Duration
	eventHandler      EventHandler
	upstream          *upstreamOptions // set by WithUpstream*
}

// Option configures an Emulator.
type Option func(*options)

// WithAccessKeys sets the access keys that sign REST tokens and client
// tokens (for example a primary and a secondary key). Tokens signed with any
// of them are accepted; the first signs tokens minted by :generateToken.
// Without this option the emulator uses DefaultAccessKey.
func WithAccessKeys(keys ...string) Option {
	return func(o *options) { o.accessKeys = append([]string(nil), keys...) }
}

// WithLogger sets the logger for connection and request events. The default
// discards everything. Tokens and keys are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithUnvalidatedEntraTokens makes the REST API also accept Microsoft Entra
// ID bearer tokens without checking their signature (only their audience
// https://webpubsub.azure.com and expiry), for local runs of code that
// authenticates with azcore.TokenCredential. Never use it outside tests.
func WithUnvalidatedEntraTokens(allow bool) Option {
	return func(o *options) { o.allowEntra = allow }
}

// WithRecoveryWindow sets how long a dropped reliable connection keeps its
// state (groups, unacknowledged messages) for a reconnect with its
// reconnection token. The default is DefaultRecoveryWindow.
func WithRecoveryWindow(d time.Duration) Option {
	return func(o *options) { o.recoveryWindow = d }
}

// WithBufferLimits sets how many unacknowledged messages, and how many bytes
// of them, a reliable connection may hold. Past either limit the connection
// ends unrecoverably (close code 1008).
func WithBufferLimits(messages, bytes int) Option {
	return func(o *options) { o.bufferMessages, o.bufferBytes = messages, bytes }
}

// WithReliableBufferMessages sets how many unacknowledged messages a
// reliable connection may hold before it ends unrecoverably (close code
// 1008); the default, DefaultBufferMessages, is the service's limit. Tests
// that send bursts larger than that within a client's ack interval raise
// it. The byte limit grows with it, DefaultBufferBytes per
// DefaultBufferMessages messages, and never falls below DefaultBufferBytes.
func WithReliableBufferMessages(n int) Option {
	return func(o *options) {
		o.bufferMessages = n
		o.bufferBytes = max(DefaultBufferBytes, n*(DefaultBufferBytes/DefaultBufferMessages))
	}
}

// WithSendQueueLimits bounds the messages waiting to be written to one
// WebSocket. A client that reads too slowly to stay within the bounds is
// disconnected, so it never stalls delivery to others.
func WithSendQueueLimits(messages, bytes int) Option {
	return func(o *options) { o.sendQueueMessages, o.sendQueueBytes = messages, bytes }
}

// WithKeepAlive sets the interval of WebSocket pings to clients; a client
// that does not answer a ping within the interval (at least one second) is
// dropped. Zero disables pings. The default is DefaultKeepAlive.
func WithKeepAlive(d time.Duration) Option {
	return func(o *options) { o.keepAlive = d }
}

// WithEventHandler sets the handler of client events: "event" messages of
// the json subprotocols and messages of simple WebSocket clients.
func WithEventHandler(h EventHandler) Option {
	return func(o *options) { o.eventHandler = h }
}

// Event is a client event passed to an EventHandler.
type Event struct {
	Hub          string
	ConnectionID string
	UserID       string // empty when the client connected without a user
	Subprotocol  string // empty for simple WebSocket clients
	// Name is the event name; "message" for simple WebSocket clients.
	Name    string
	Payload Payload
}

// EventHandler handles client events, for example by delivering them as
// CloudEvents to an upstream application. A non-nil reply is sent back to
// the client as a server message. An error fails the client's ack with
// InternalServerError and the error's text (Timeout when the context's
// deadline passed); an error that wraps ErrCloseConnection also ends the
// connection.
//
// An EventHandler that also implements ConnectHandler decides who may
// connect; one that implements LifecycleHandler is told when connections
// start and end.
type EventHandler interface {
	HandleEvent(ctx context.Context, ev Event) (reply *Payload, err error)
}

// EventHandlerFunc adapts a function to EventHandler.
type EventHandlerFunc func(ctx context.Context, ev Event) (*Payload, error)

// HandleEvent calls f.
func (f EventHandlerFunc) HandleEvent(ctx context.Context, ev Event) (*Payload, error) {
	return f(ctx, ev)
}

// Emulator is a local Azure Web PubSub service: the data-plane REST API
// (api-version 2024-12-01) and the WebSocket client endpoints, sharing one
// in-memory state. It is safe for concurrent use.
type Emulator struct {
	opts    options
	handler http.Handler
	ops     map[string]string // mux pattern → operation name
	mux     *http.ServeMux
	apiMux  *recordingMux
	ctx     context.Context
	cancel  context.CancelFunc
	bg      sync.WaitGroup
	bgMu    sync.Mutex
	bgDone  bool // no more background work may start

	mu     sync.RWMutex
	hubs   map[string]*hubState
	closed bool
}

// New returns a ready emulator. Serve it with Handler (for example in an
// httptest.Server) or with Serve.
func New(opts ...Option) (*Emulator, error) {
	o := options{
		logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		recoveryWindow:    DefaultRecoveryWindow,
		bufferMessages:    DefaultBufferMessages,
		bufferBytes:       DefaultBufferBytes,
		sendQueueMessages: DefaultSendQueueMessages,
		sendQueueBytes:    DefaultSendQueueBytes,
		keepAlive:         DefaultKeepAlive,
		writeTimeout:      10 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.accessKeys) == 0 {
		o.accessKeys = []string{DefaultAccessKey}
	}
	for i, k := range o.accessKeys {
		if k == "" {
			return nil, fmt.Errorf("emulator: access key %d is empty: pass non-empty keys to WithAccessKeys", i+1)
		}
	}
	if o.logger == nil {
		return nil, errors.New("emulator: WithLogger(nil): pass a logger, or omit the option to discard logs")
	}
	switch {
	case o.recoveryWindow <= 0:
		return nil, fmt.Errorf("emulator: recovery window %v must be positive", o.recoveryWindow)
	case o.bufferMessages < 1 || o.bufferBytes < 1:
		return nil, fmt.Errorf("emulator: buffer limits (%d messages, %d bytes) must be positive", o.bufferMessages, o.bufferBytes)
	case o.sendQueueMessages < 1 || o.sendQueueBytes < 1:
		return nil, fmt.Errorf("emulator: send queue limits (%d messages, %d bytes) must be positive", o.sendQueueMessages, o.sendQueueBytes)
	case o.keepAlive < 0:
		return nil, fmt.Errorf("emulator: keep-alive interval %v must not be negative", o.keepAlive)
	}
	if err := o.setupUpstream(); err != nil {
		return nil, err
	}
	// A pong may take a moment on a loaded machine: never expect it faster
	// than minPongTimeout.
	o.keepAliveTimeout = max(o.keepAlive, minPongTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	e := &Emulator{opts: o, hubs: map[string]*hubState{}, ctx: ctx, cancel: cancel}
	e.handler = e.routes()
	return e, nil
}

// Handler returns the HTTP handler serving the REST API under /api/ and the
// WebSocket client endpoints under /client/.
func (e *Emulator) Handler() http.Handler { return e.handler }

// Operation names the REST operation a request is routed to (for example
// "SendToAll"), "Connect" for a WebSocket client endpoint, or "" when the
// request matches no route.
func (e *Emulator) Operation(r *http.Request) string {
	_, pattern := e.mux.Handler(r)
	if pattern == "/api/" {
		_, pattern = e.apiMux.Handler(r)
		return e.apiMux.ops[pattern]
	}
	return e.ops[pattern]
}

// AccessKey returns the key that signs tokens minted by the emulator.
func (e *Emulator) AccessKey() string { return e.opts.accessKeys[0] }

// String describes the emulator without its access keys, so printing it
// with any fmt verb never shows a key.
func (e *Emulator) String() string {
	return fmt.Sprintf("emulator.Emulator(%d access key(s) [REDACTED])", len(e.opts.accessKeys))
}

// GoString is String, for the %#v verb.
func (e *Emulator) GoString() string { return e.String() }

// Close ends every client connection (close code 1001) and waits for the
// emulator's goroutines. The handler keeps answering REST calls afterwards,
// but refuses new WebSocket clients.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	var all []*conn
	for _, h := range e.hubs {
		for _, c := range h.conns {
			all = append(all, c)
		}
	}
	e.mu.Unlock()
	for _, c := range all {
		e.endConn(c, 1001, "the service is shutting down")
	}
	e.bgMu.Lock()
	e.bgDone = true
	e.bgMu.Unlock()
	// Let sockets send their close frames, then stop whatever remains.
	done := make(chan struct{})
	go func() { e.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		e.cancel()
		<-done
	}
	e.cancel()
	if d, ok := e.opts.eventHandler.(*dispatcher); ok {
		d.closeIdle()
	}
	return nil
}

// track counts n goroutines that Close waits for. It reports false once
// Close has started waiting; the caller must then not start them.
func (e *Emulator) track(n int) bool {
	e.bgMu.Lock()
	defer e.bgMu.Unlock()
	if e.bgDone {
		return false
	}
	e.bg.Add(n)
	return true
}

// background runs f on a goroutine that Close waits for. After Close has
// begun, f is skipped: Close itself ends every connection.
func (e *Emulator) background(f func()) {
	if !e.track(1) {
		return
	}
	go func() {
		defer e.bg.Done()
		f()
	}()
}

// Serve listens on addr (for example "127.0.0.1:8080" or ":0") and serves
// the emulator until ctx is done. It returns the bound address on ready as
// soon as the listener is open, and closes the emulator when ctx ends.
// errc receives the server's final error (nil after a clean shutdown).
func (e *Emulator) Serve(ctx context.Context, addr string) (bound net.Addr, errc <-chan error, err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e.handler, ReadHeaderTimeout: 10 * time.Second}
	out := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		out <- err
	}()
	go func() {
		<-ctx.Done()
		_ = e.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), out, nil
}
