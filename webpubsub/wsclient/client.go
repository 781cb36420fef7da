package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol is the WebSocket subprotocol a client speaks.
type Protocol string

// The protocols a Client speaks.
const (
	// ProtocolReliableJSON is json.reliable.webpubsub.azure.v1 (the
	// default): messages carry sequence ids, and a dropped connection is
	// recovered with its id, groups and undelivered messages.
	ProtocolReliableJSON Protocol = "json.reliable.webpubsub.azure.v1"
	// ProtocolJSON is json.webpubsub.azure.v1: a dropped connection is
	// replaced by a new one; messages sent meanwhile are lost.
	ProtocolJSON Protocol = "json.webpubsub.azure.v1"
)

// Defaults of Options.
const (
	DefaultReconnectDelay    = time.Second
	DefaultRecoveryWindow    = 30 * time.Second
	DefaultKeepAliveInterval = 20 * time.Second
	DefaultKeepAliveTimeout  = 120 * time.Second
	DefaultHandshakeTimeout  = 30 * time.Second
	DefaultReadLimit         = 4 << 20
	DefaultReceiveQueue      = 1024
)

// Timing of the reliable protocol, as in @azure/web-pubsub-client.
const (
	// sequenceAckInterval: a changed sequence id is acknowledged this long
	// after it changed (a timer armed only while an id waits).
	sequenceAckInterval = time.Second
	// quickAckGap: a sequence id this far ahead of the last ack is
	// acknowledged at once.
	quickAckGap = 300
	// recoveryRetry spaces recovery attempts.
	recoveryRetry = time.Second
	// minRecoverySpacing is the least time between two recovery dials.
	minRecoverySpacing = 250 * time.Millisecond
)

// Options configure a Client. The zero value gives the defaults, which
// match @azure/web-pubsub-client 1.1.
type Options struct {
	// Protocol is ProtocolReliableJSON (default) or ProtocolJSON.
	Protocol Protocol

	// DisableAutoReconnect makes the client stop, instead of opening a new
	// connection, when its connection is lost and cannot be recovered.
	DisableAutoReconnect bool
	// DisableAutoRejoin keeps the client from joining its groups again on
	// a new connection.
	DisableAutoRejoin bool
	// ReconnectDelay returns the wait before reconnect attempt n (1, 2,
	// ...). Default: DefaultReconnectDelay for every attempt.
	ReconnectDelay func(attempt int) time.Duration
	// MaxReconnectAttempts bounds the attempts to open a new connection
	// after a loss; 0 means no limit (the default). A new connection lost
	// within 10 s counts as a failed attempt: the count (and the attempt
	// passed to ReconnectDelay) starts from 1 again only after a
	// connection stayed up that long.
	MaxReconnectAttempts int
	// RecoveryWindow is how long the reliable protocol tries to recover a
	// dropped connection (default 30 s).
	RecoveryWindow time.Duration

	// KeepAliveInterval is how often a ping is sent (default 20 s;
	// negative: never).
	KeepAliveInterval time.Duration
	// KeepAliveTimeout: a connection that received nothing for this long
	// is treated as dead and dropped (default 120 s; negative: never). It
	// is checked at every ping and at least six times per timeout.
	KeepAliveTimeout time.Duration
	// HandshakeTimeout bounds one connection attempt, from dialing to the
	// service's connected message (default 30 s).
	HandshakeTimeout time.Duration
	// ReadLimit is the largest frame the client accepts, in bytes (default
	// 4 MiB). A larger frame drops the connection.
	ReadLimit int64
	// ReceiveQueue is how many received messages wait for Receive or
	// OnMessage (default 1024). When it is full the client stops reading
	// from the network until there is room: nothing is dropped, the service
	// buffers, and on the reliable protocol nothing is acknowledged that was
	// not queued. Acks are read in order with messages, so while the
	// queue is full, acknowledged calls wait too (their error then says
	// so): a client that joins the group it sends to must read its
	// messages or send with NoEcho.
	ReceiveQueue int

	// HTTPClient performs the WebSocket handshakes. The default is the
	// package's own client, with http.DefaultTransport's settings (proxy
	// from the environment, timeouts) and connections that tell the
	// reader when it is about to wait for the network, so that a burst
	// of messages wakes the Receive caller or the callbacks once instead
	// of once per message (about 1.5 µs of CPU each). With a client of
	// your own, every message wakes them.
	HTTPClient *http.Client
	// Header holds extra handshake request headers.
	Header http.Header
	// Logger receives the client's life cycle at Debug and Info level
	// (default: nothing is logged).
	Logger *slog.Logger

	// OnMessage, when set, receives every message in order on one
	// goroutine of the client, and Receive is not used. It must not block
	// for long: while it runs no later message or event is handled.
	OnMessage func(Message)
	// OnConnected is called when a connection opens, not when one is
	// recovered.
	OnConnected func(ConnectedEvent)
	// OnDisconnected is called when a connection is lost for good.
	OnDisconnected func(DisconnectedEvent)
	// OnStopped is called once when the client stops.
	OnStopped func(StoppedEvent)
	// OnRejoinGroupFailed is called for a group that could not be joined
	// again on a new connection.
	OnRejoinGroupFailed func(RejoinGroupFailedEvent)
}

// ConnectedEvent is raised when a new connection opened.
type ConnectedEvent struct {
	// ConnectionID is the id the service gave the connection.
	ConnectionID string
	// UserID is the connection's user id; empty for an anonymous client.
	UserID string
	// ReconnectionToken is the token for recovering the connection
	// (reliable protocol). Treat it as a secret.
	ReconnectionToken string
}

// String prints the event without the reconnection token.
func (e ConnectedEvent) String() string {
	return fmt.Sprintf("connected: connection %s, user %q", redact(e.ConnectionID), redact(e.UserID))
}

// GoString prints the event for %#v without the reconnection token.
func (e ConnectedEvent) GoString() string {
	tok := ""
	if e.ReconnectionToken != "" {
		tok = "REDACTED"
	}
	return fmt.Sprintf("wsclient.ConnectedEvent{ConnectionID:%q, UserID:%q, ReconnectionToken:%q}", redact(e.ConnectionID), redact(e.UserID), tok)
}

// DisconnectedEvent is raised when a connection was lost and could not be
// recovered.
type DisconnectedEvent struct {
	// ConnectionID is the id of the connection that ended.
	ConnectionID string
	// Message is the reason from the service's disconnected message, if
	// it sent one.
	Message string
	// Err says how the connection ended.
	Err error
}

// StoppedEvent is raised once, when the client stopped: because Stop was
// called, or because it gave up reconnecting.
type StoppedEvent struct {
	// Err is nil after Stop, and why the client gave up otherwise.
	Err error
}

// RejoinGroupFailedEvent is raised when a group could not be joined again
// on a new connection.
type RejoinGroupFailedEvent struct {
	// Group is the group that could not be joined again.
	Group string
	// Err is the error JoinGroup returned for it.
	Err error
}

// Client is a Web PubSub WebSocket client. It is safe for concurrent use.
// A Client is started once; after Stop, create a new one.
type Client struct {
	urlFunc  func(context.Context) (string, error)
	opts     Options
	log      *slog.Logger
	reliable bool

	mu        sync.Mutex
	state     int           // stateNew, stateRunning, stateStopped
	sock      *socket       // the current socket, nil between sockets
	ready     chan struct{} // closed while sock != nil
	connURL   string        // the URL of the current logical connection
	connID    string
	userID    string
	reconnTok string
	groups    map[string]struct{}
	pending   map[uint64]*pendingOp
	nextAckID uint64
	stopErr   error

	maxSeq   atomic.Uint64 // highest sequence id queued
	ackedSeq atomic.Uint64 // highest sequence id acknowledged to the service

	runCtx  context.Context // ends when the client stops
	cancel  context.CancelFunc
	stopReq chan struct{}
	stopOne sync.Once
	done    chan struct{} // closed when every goroutine ended
	helpers sync.WaitGroup

	msgs         *queue[Message] // received messages, for Receive (OnMessage unset)
	consumers    atomic.Pointer[consumerQueues]
	queue        *queue[item] // messages and events for the callbacks
	dispatchDone chan struct{}
	inCallback   atomic.Bool
	dispatcher   atomic.Uint64 // goroutine id of dispatch
	lastRecovery time.Time     // start of the last recovery dial (run only)
}

const (
	stateNew = iota
	stateRunning
	stateStopped
)

// item is one entry of the callback queue: an event, or a message when
// ev is nil (held by value: queuing it allocates nothing).
type item struct {
	msg Message
	ev  any
}

// pendingOp is an acknowledged request waiting for its ack.
type pendingOp struct {
	id    uint64
	frame []byte
	sent  bool // written on the current logical connection
	done  chan error
}

// New returns a client of the client access URL u (ws, wss, http or https
// scheme, with the access token in its query), e.g. from
// webpubsub.Client.ClientAccessToken. Every new connection uses the same
// URL; use NewWithURLFunc when the token expires before reconnects. opts
// may be nil.
func New(u string, opts *Options) (*Client, error) {
	if _, err := parseClientURL(u); err != nil {
		return nil, err
	}
	return NewWithURLFunc(func(context.Context) (string, error) { return u, nil }, opts)
}

// NewWithURLFunc returns a client that calls urlFunc for the client access
// URL of every new connection (not of recoveries), e.g. a call to the
// app's negotiate endpoint. opts may be nil.
func NewWithURLFunc(urlFunc func(context.Context) (string, error), opts *Options) (*Client, error) {
	if urlFunc == nil {
		return nil, errors.New("wsclient: NewWithURLFunc needs a function that returns the client access URL")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	switch o.Protocol {
	case "":
		o.Protocol = ProtocolReliableJSON
	case ProtocolReliableJSON, ProtocolJSON:
	default:
		return nil, fmt.Errorf("wsclient: unsupported protocol %q: use ProtocolReliableJSON or ProtocolJSON", o.Protocol)
	}
	if o.ReconnectDelay == nil {
		o.ReconnectDelay = func(int) time.Duration { return DefaultReconnectDelay }
	}
	if o.MaxReconnectAttempts < 0 {
		return nil, fmt.Errorf("wsclient: MaxReconnectAttempts %d: give 0 for no limit or a positive number", o.MaxReconnectAttempts)
	}
	o.RecoveryWindow = orDefault(o.RecoveryWindow, DefaultRecoveryWindow)
	o.KeepAliveInterval = orDefault(o.KeepAliveInterval, DefaultKeepAliveInterval)
	o.KeepAliveTimeout = orDefault(o.KeepAliveTimeout, DefaultKeepAliveTimeout)
	o.HandshakeTimeout = orDefault(o.HandshakeTimeout, DefaultHandshakeTimeout)
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.ReceiveQueue <= 0 {
		o.ReceiveQueue = DefaultReceiveQueue
	}
	log := o.Logger
	if log == nil {
		log = discardLogger
	}
	return &Client{
		urlFunc:  urlFunc,
		opts:     o,
		log:      log,
		reliable: o.Protocol == ProtocolReliableJSON,
		ready:    make(chan struct{}),
		groups:   map[string]struct{}{},
		pending:  map[uint64]*pendingOp{},
		stopReq:  make(chan struct{}),
		done:     make(chan struct{}),
	}, nil
}

// discardLogger is the logger of every client without Options.Logger.
var discardLogger = slog.New(slog.DiscardHandler)

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (c *Client) hasCallbacks() bool {
	o := &c.opts
	return o.OnMessage != nil || o.OnConnected != nil || o.OnDisconnected != nil || o.OnStopped != nil || o.OnRejoinGroupFailed != nil
}

// Start opens the first connection and returns when the service has
// confirmed it, or with the reason it failed (a *ConnectError for a
// refused or failed handshake). ctx bounds this first connection only:
// afterwards the client runs, reconnecting as needed, until Stop. A
// failed Start may be retried.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	switch c.state {
	case stateRunning:
		c.mu.Unlock()
		return ErrAlreadyStarted
	case stateStopped:
		c.mu.Unlock()
		return fmt.Errorf("%w: a stopped client cannot start again; create a new one", ErrStopped)
	}
	c.state = stateRunning // no second Start while this one dials
	c.mu.Unlock()

	// Stop during Start ends the dial at once.
	dialCtx, cancelDial := context.WithCancel(ctx)
	go func() {
		select {
		case <-c.stopReq:
			cancelDial()
		case <-dialCtx.Done():
		}
	}()
	s, u, err := c.connect(dialCtx)
	cancelDial()
	if err == nil && c.stopping() {
		_ = s.ws.CloseNow()
		err = ErrStopped
	}
	if err != nil {
		c.mu.Lock()
		c.state = stateNew
		if c.stopping() { // Stop was called while Start dialed
			c.state = stateStopped
			close(c.done)
		}
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	c.runCtx, c.cancel = context.WithCancel(context.Background())
	if c.stopping() {
		c.cancel()
	}
	c.msgs = newQueue[Message](c.opts.ReceiveQueue, messageSegments)
	if c.hasCallbacks() {
		c.queue = newQueue[item](c.opts.ReceiveQueue, itemSegments)
		c.dispatchDone = make(chan struct{})
		go c.dispatch()
	}
	c.consumers.Store(&consumerQueues{msgs: c.msgs, items: c.queue})
	c.mu.Unlock()
	c.newLogical(s, u)
	go c.run(s)
	return nil
}

// Stop closes the connection normally, fails the operations still waiting
// (ErrStopped), raises the stopped event and returns when every goroutine
// of the client has ended. Messages still queued for Receive can be read
// after Stop. Stop is idempotent. It must not be called from a callback
// (OnMessage and the On* events) and wait there: from a callback it only
// asks the client to stop.
func (c *Client) Stop() {
	fromCallback := c.inCallback.Load() && c.dispatcher.Load() == goid()
	c.mu.Lock()
	switch c.state {
	case stateNew:
		c.state = stateStopped
		c.stopErr = nil
		close(c.done)
		c.mu.Unlock()
		return
	case stateStopped:
		c.mu.Unlock()
		if !fromCallback {
			<-c.done
		}
		return
	}
	first := false
	c.stopOne.Do(func() { close(c.stopReq); first = true })
	if c.cancel != nil {
		c.cancel() // ends a reconnect's or recovery's dial at once
	}
	// The current socket gets the final ack and a normal close, which
	// ends the client's read of it; the client's goroutine closes a
	// socket it attaches after this point itself.
	s := c.sock
	if !first {
		s = nil
	}
	if s != nil && fromCallback {
		c.helpers.Add(1) // before the client's goroutine detaches s and waits for helpers
	}
	c.mu.Unlock()
	switch {
	case s == nil:
	case fromCallback:
		go func() {
			defer c.helpers.Done()
			c.stopSocket(s)
		}()
	default:
		c.stopSocket(s)
	}
	if !fromCallback {
		<-c.done
	}
}

// goid returns the id of the calling goroutine (from its stack header,
// "goroutine N [...]"): Stop uses it to know it runs in a callback, where
// waiting for the dispatcher would wait for itself.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// Done is closed when the client has stopped and every goroutine of it
// has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped on its own (it gave up
// reconnecting), or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopErr
}

// ConnectionID returns the id of the current connection ("" before
// Start). It stays the same across recoveries.
func (c *Client) ConnectionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connID
}

// UserID returns the user of the current connection, "" for anonymous.
func (c *Client) UserID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

// Receive returns the next received message in order, waiting until one
// arrives, ctx ends, or the client stopped and no message is left
// (ErrStopped). With Options.OnMessage set, messages go to the callback
// and Receive only reports the stop.
func (c *Client) Receive(ctx context.Context) (Message, error) {
	c.mu.Lock()
	msgs := c.msgs
	c.mu.Unlock()
	if msgs == nil {
		return Message{}, fmt.Errorf("%w: Receive needs a started client", ErrStopped)
	}
	m, res := msgs.pop(ctx.Done(), c.done)
	switch res {
	case popped:
		return m, nil
	case popDone:
		return Message{}, ctx.Err()
	}
	// The client stopped: what arrived before is still delivered.
	if m, ok, _ := msgs.tryPop(false); ok {
		return m, nil
	}
	if err := c.Err(); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return Message{}, ErrStopped
}

// Messages iterates over received messages (as Receive) until ctx ends or
// the client stops.
func (c *Client) Messages(ctx context.Context) iter.Seq[Message] {
	return func(yield func(Message) bool) {
		for {
			m, err := c.Receive(ctx)
			if err != nil || !yield(m) {
				return
			}
		}
	}
}

// parseClientURL checks a client access URL.
func parseClientURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &ConnectError{Reason: "the client access URL is not a valid URL: " + redact(err.Error())}
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, &ConnectError{URL: endpoint(u), Reason: fmt.Sprintf("the client access URL has scheme %q: give a ws://, wss://, http:// or https:// URL", u.Scheme)}
	}
	if u.Host == "" {
		return nil, &ConnectError{URL: endpoint(u), Reason: "the client access URL has no host"}
	}
	return u, nil
}
