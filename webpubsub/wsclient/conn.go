package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// socket is one WebSocket of a logical connection. The client's goroutine
// reads it; timers send its sequence acks and keep-alive pings and watch
// for a dead connection (see serve).
type socket struct {
	ws *websocket.Conn
	// From the service's connected message.
	connectionID, userID, reconnTok string

	recv    atomic.Uint64 // frames read, for the dead-connection check
	err     error         // why reading ended (the reader's)
	discMsg atomic.Value  // string: the service's disconnected message
	// delivering is set while the reader handles a frame, which includes
	// waiting for room in a full receive queue: a slow consumer, not a
	// dead connection.
	delivering atomic.Bool
	names      nameCache // the reader's
	// lazy: the connection wakes the consumers before each network
	// read, so the reader queues messages without waking them (wake.go).
	lazy bool
	// dead: the dead-connection check closed the socket.
	dead atomic.Bool

	// Background work while the socket is read: the timers and the
	// writes they make. bg counts armed timers and running background
	// functions; ended (under Client.mu) keeps timers from being armed
	// again once reading ended.
	bg    sync.WaitGroup
	ended bool
	// writeMu is held by the one background write (ack or ping) in
	// flight: timers skip their write while it is held (TryLock), Stop's
	// final ack waits for it.
	writeMu  sync.Mutex
	ackArmed atomic.Bool // ackTimer is armed or running
	ackTimer *time.Timer // the 1 s sequence ack; made on the first need
	alive    *time.Timer // the keep-alive ping and dead-connection check
	// The keep-alive timer's own state.
	seen               uint64
	lastSeen, lastPing time.Time

	stopOnce sync.Once // the final ack and normal close, for Stop
}

// connect fetches a URL and opens a new connection with it.
func (c *Client) connect(ctx context.Context) (*socket, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	u, err := c.callURLFunc(ctx)
	if err != nil {
		return nil, "", &ConnectError{Reason: "getting the client access URL: " + redact(err.Error()), err: causeOf(err)}
	}
	s, err := c.dial(ctx, u)
	return s, u, err
}

// callURLFunc calls the URL function, returning when ctx ends even if
// the function ignores ctx (its goroutine then ends when it returns).
func (c *Client) callURLFunc(ctx context.Context) (string, error) {
	type result struct {
		u   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- result{err: fmt.Errorf("the URL function panicked: %v", v)}
			}
		}()
		u, err := c.urlFunc(ctx)
		ch <- result{u, err}
	}()
	select {
	case r := <-ch:
		return r.u, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("the URL function did not return before the deadline: %w", ctx.Err())
	}
}

// causeOf drops URL wrappers (whose text holds the token) from err.
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// dial opens a WebSocket to raw and reads the service's connected message.
func (c *Client) dial(ctx context.Context, raw string) (*socket, error) {
	u, err := parseClientURL(raw)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	secrets := []string{q.Get(wire.QueryAccessToken), q.Get(wire.QueryReconnectionToken)}
	fail := func(status int, reason string, cause error) error {
		return &ConnectError{URL: endpoint(u), StatusCode: status, Reason: redactSecrets(reason, secrets...), err: cause}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	hc, hook := c.opts.HTTPClient, &readHook{beforeRead: c.wakeConsumers}
	if hc == nil {
		hc = defaultHTTPClient
		ctx = context.WithValue(ctx, readHookKey{}, hook)
	}
	ws, resp, err := websocket.Dial(ctx, raw, &websocket.DialOptions{
		Subprotocols: []string{string(c.opts.Protocol)},
		HTTPClient:   hc,
		HTTPHeader:   c.opts.Header,
		// The reader answers a ping itself, and its pong may wait for the
		// write lock (an operation's large write): messages queued
		// without a wake-up are handed over first.
		OnPingReceived: c.pingReceived,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			reason := "the service refused the connection: " + resp.Status
			if resp.Body != nil {
				if b, _ := io.ReadAll(resp.Body); len(b) > 0 {
					reason += ": " + oneLine(string(b))
				}
			}
			return nil, fail(resp.StatusCode, reason, nil)
		}
		if ctx.Err() != nil {
			return nil, fail(0, "no answer to the WebSocket handshake within the deadline", ctx.Err())
		}
		return nil, fail(0, oneLine(err.Error()), causeOf(err))
	}
	if ws.Subprotocol() != string(c.opts.Protocol) {
		_ = ws.CloseNow()
		return nil, fail(0, fmt.Sprintf("the service did not accept the %s subprotocol (it answered %q)", c.opts.Protocol, ws.Subprotocol()), nil)
	}
	ws.SetReadLimit(c.opts.ReadLimit)
	typ, b, err := readConnected(ctx, ws)
	if err != nil {
		_ = ws.CloseNow()
		if code := websocket.CloseStatus(err); code != -1 {
			var ce websocket.CloseError
			errors.As(err, &ce)
			return nil, fail(0, fmt.Sprintf("the service closed the connection before it was confirmed (close code %d %s)", code, ce.Reason), scrubErr(err, secrets...))
		}
		if ctx.Err() != nil {
			return nil, fail(0, "no connected message from the service within the deadline", ctx.Err())
		}
		return nil, fail(0, "waiting for the connected message: "+oneLine(err.Error()), nil)
	}
	f, err := parseFrame(b, nil)
	if err == nil && (typ != websocket.MessageText || f.Type != wire.TypeSystem || f.Event != wire.SystemEventConnected || f.ConnectionID == "") {
		err = errors.New("the service's first message is not a connected message with a connection id")
	}
	if err == nil {
		err = checkConnected(b, &f, secrets...)
	}
	if err != nil {
		_ = ws.CloseNow()
		return nil, fail(0, err.Error(), nil)
	}
	return &socket{ws: ws, connectionID: f.ConnectionID, userID: f.UserID, reconnTok: f.ReconnectionToken, lazy: hook.bound.Load()}, nil
}

// pingReceived runs on the reader when a ping arrived, before it answers.
func (c *Client) pingReceived(context.Context, []byte) bool {
	c.wakeConsumers()
	return true
}

// readConnected reads the service's first message until ctx ends. The
// read itself gets no context: coder/websocket keeps the context of the
// last read until the next frame arrives, and an idle client would hold
// the handshake's contexts and their timers for as long as it idles (~0.5
// KiB). ctx's end closes the socket instead, which ends the read.
func readConnected(ctx context.Context, ws *websocket.Conn) (websocket.MessageType, []byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = ws.CloseNow() })
	defer stop()
	return ws.Read(context.Background())
}

// maxSequenceID is the largest sequence id accepted: 2^53, the largest
// integer the service's JSON numbers carry exactly.
const maxSequenceID = 1 << 53

// Bounds of the connected message's fields: the service's ids and tokens
// are far shorter.
const (
	maxConnectionID      = 256
	maxReconnectionToken = 4096
)

// checkConnected refuses a connected message whose connection id or
// reconnection token is too long or not UTF-8 (encoding/json would turn
// bad bytes into U+FFFD, and recovery would fail later for no visible
// reason). The values are not quoted: they may be secrets.
func checkConnected(b []byte, f *serverFrame, secrets ...string) error {
	switch {
	case redactSecrets(f.ConnectionID, secrets...) != f.ConnectionID || redactSecrets(f.UserID, secrets...) != f.UserID:
		return errors.New("the service's connected message has a connection id or user id that holds a token: refused, so that it is never shown")
	case !utf8.Valid(b):
		return errors.New("the service's connected message is not valid UTF-8")
	case len(f.ConnectionID) > maxConnectionID:
		return fmt.Errorf("the service's connected message has a connection id of %d bytes (at most %d accepted)", len(f.ConnectionID), maxConnectionID)
	case len(f.ReconnectionToken) > maxReconnectionToken:
		return fmt.Errorf("the service's connected message has a reconnection token of %d bytes (at most %d accepted)", len(f.ReconnectionToken), maxReconnectionToken)
	case len(f.UserID) > maxConnectionID*4:
		return fmt.Errorf("the service's connected message has a user id of %d bytes (at most %d accepted)", len(f.UserID), maxConnectionID*4)
	}
	return nil
}

// secrets returns the current access and reconnection tokens, to redact
// them from what the service echoes.
func (c *Client) secrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var tok string
	if u, err := url.Parse(c.connURL); err == nil {
		tok = u.Query().Get(wire.QueryAccessToken)
	}
	return []string{tok, c.reconnTok}
}

// closeCode returns the WebSocket close code of err, or -1.
func closeCode(err error) int {
	return int(websocket.CloseStatus(err))
}

// newLogical installs s as the first socket of a new logical connection,
// raises the connected event and, aside from the reader, sends the
// requests that wait for a connection and joins the client's groups again.
func (c *Client) newLogical(s *socket, u string) {
	c.maxSeq.Store(0)
	c.ackedSeq.Store(0)
	c.mu.Lock()
	c.connURL, c.connID, c.userID, c.reconnTok = u, s.connectionID, s.userID, s.reconnTok
	c.mu.Unlock()
	resend := c.attach(s)
	c.log.Info("wsclient: connected", "connectionId", redact(s.connectionID))
	c.emit(ConnectedEvent{ConnectionID: s.connectionID, UserID: s.userID, ReconnectionToken: s.reconnTok})
	c.sendAside(s, resend, c.rejoinGroups())
}

// attach makes s the current socket and returns the requests to send on
// it: those that wait for a connection and, on a recovery, those sent
// before (with their ack ids, which the service deduplicates), in ack id
// order.
func (c *Client) attach(s *socket) []*pendingOp {
	c.mu.Lock()
	c.sock = s
	close(c.ready)
	var resend []*pendingOp
	for _, p := range c.pending {
		resend = append(resend, p)
		p.sent = true
	}
	c.mu.Unlock()
	slices.SortFunc(resend, func(a, b *pendingOp) int { return compareUint(a.id, b.id) })
	return resend
}

// sendAside writes resend on s and then joins groups, on a goroutine of
// its own: the client's goroutine reads s meanwhile, and the acks arrive
// through it.
func (c *Client) sendAside(s *socket, resend []*pendingOp, groups []string) {
	if len(resend) == 0 && len(groups) == 0 {
		return
	}
	c.helpers.Add(1)
	go func() {
		defer c.helpers.Done()
		for _, p := range resend {
			if err := c.write(s.ws, p.frame); err != nil {
				break // the socket broke; the next recovery sends them again
			}
		}
		c.rejoin(groups)
	}()
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// detach forgets the current socket.
func (c *Client) detach() {
	c.mu.Lock()
	if c.sock != nil {
		c.sock = nil
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
}

// writeTimeout bounds one write of the client's own frames.
const writeTimeout = 10 * time.Second

func (c *Client) write(ws *websocket.Conn, b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, b)
}

// run is the client's goroutine: it reads the current socket and, when
// reading ends, recovers the connection or opens a new one, until the
// client stops.
func (c *Client) run(s *socket) {
	var stopErr error
	defer func() { c.shutdown(stopErr) }()
	// attempts counts new connections in a row that did not stay up for
	// stableConnection: a service that accepts and then drops at once
	// (close 1008 in a loop) gets the growing backoff and the attempt
	// limit, not one reconnect per ReconnectDelay(1) forever.
	attempts := 0
	up := time.Now()
	// window ends the recovery of the logical connection. It starts at a
	// drop, and again only at a drop of a socket that stayed up for
	// stableRecovery: a service that accepts each recovery and drops it
	// at once cannot keep the client recovering for ever.
	var window, sockUp time.Time
	sockUp = up
	for {
		endErr, stopping := c.serve(s)
		c.detach()
		if stopping {
			return
		}
		discMsg, _ := s.discMsg.Load().(string)
		c.log.Info("wsclient: connection dropped", "connectionId", redact(c.ConnectionID()), "error", endErr)
		if window.IsZero() || time.Since(sockUp) >= stableRecovery {
			window = time.Now().Add(c.opts.RecoveryWindow)
		}
		if next := c.recover(endErr, window); next != nil {
			sockUp = time.Now()
			c.log.Info("wsclient: connection recovered", "connectionId", redact(next.connectionID))
			s = next
			continue
		}
		if c.stopping() {
			return
		}
		c.loseLogical()
		c.emit(DisconnectedEvent{ConnectionID: c.ConnectionID(), Message: discMsg, Err: endErr})
		if c.opts.DisableAutoReconnect {
			stopErr = fmt.Errorf("the connection was lost and automatic reconnection is disabled: %w", endErr)
			return
		}
		if time.Since(up) >= stableConnection {
			attempts = 0
		}
		next, u, used, err := c.reconnect(attempts)
		if next == nil {
			stopErr = err
			return
		}
		attempts, up = used, time.Now()
		window, sockUp = time.Time{}, up
		c.newLogical(next, u)
		s = next
	}
}

// stopping reports whether Stop was called.
func (c *Client) stopping() bool {
	select {
	case <-c.stopReq:
		return true
	default:
		return false
	}
}

// sleep waits d, and reports false when the client is stopping.
func (c *Client) sleep(d time.Duration) bool {
	if d <= 0 {
		return !c.stopping()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.stopReq:
		return false
	}
}

// serve reads s until it ends, while timers send its sequence acks and
// keep-alive pings and drop it when nothing arrived for
// KeepAliveTimeout. It returns why s ended, or stopping=true after s was
// closed for Stop.
func (c *Client) serve(s *socket) (err error, stopping bool) {
	// Stop closes the current socket; one attached after Stop was called
	// is closed here, unread.
	if !c.stopping() {
		c.startKeepAlive(s)
		if c.reliable && c.maxSeq.Load() != c.ackedSeq.Load() {
			c.armAck(s) // an id the dropped socket did not acknowledge
		}
		c.read(s)
		c.endTimers(s)
	}
	if c.stopping() {
		c.stopSocket(s)
		return nil, true
	}
	if s.dead.Load() {
		return fmt.Errorf("nothing received for %s: the connection is considered dead", c.opts.KeepAliveTimeout), false
	}
	return s.err, false
}

// stopSocket sends the final sequence ack and closes s normally, once:
// Stop calls it, and the client's goroutine waits in it for Stop's call
// to finish.
func (c *Client) stopSocket(s *socket) {
	s.stopOnce.Do(func() {
		s.writeMu.Lock() // after an ack in flight, so that it is not sent twice
		c.sendSequenceAck(s)
		s.writeMu.Unlock()
		_ = s.ws.Close(websocket.StatusNormalClosure, "")
	})
}

// keepAliveDelay is the time from now to the keep-alive timer's next run
// (0: it never runs): the next ping, or the next dead-connection check if
// that comes first. Checks are a sixth of KeepAliveTimeout apart, so a dead
// connection is dropped at most a sixth of the timeout late; with the
// defaults every check is a ping, every 20 s.
func (c *Client) keepAliveDelay(s *socket, now time.Time) time.Duration {
	var d time.Duration
	if t := c.opts.KeepAliveTimeout; t > 0 {
		d = max(t/6, time.Millisecond)
	}
	if i := c.opts.KeepAliveInterval; i > 0 {
		if ping := max(s.lastPing.Add(i).Sub(now), time.Millisecond); d == 0 || ping < d {
			d = ping
		}
	}
	return d
}

// startKeepAlive arms s's keep-alive timer.
func (c *Client) startKeepAlive(s *socket) {
	s.lastSeen = time.Now()
	s.lastPing = s.lastSeen
	d := c.keepAliveDelay(s, s.lastSeen)
	if d == 0 {
		return
	}
	s.bg.Add(1)
	c.mu.Lock() // the timer reads s.alive under c.mu to arm itself again
	s.alive = time.AfterFunc(d, func() { c.keepAlive(s) })
	c.mu.Unlock()
}

// keepAlive runs on s's keep-alive timer: it drops s when nothing arrived
// for KeepAliveTimeout (a reader waiting for room in a full receive queue
// counts as receiving), and pings every KeepAliveInterval.
func (c *Client) keepAlive(s *socket) {
	defer s.bg.Done()
	now := time.Now()
	if n := s.recv.Load(); n != s.seen || s.delivering.Load() {
		s.seen, s.lastSeen = n, now
	}
	if t := c.opts.KeepAliveTimeout; t > 0 && now.Sub(s.lastSeen) >= t {
		s.dead.Store(true)
		_ = s.ws.CloseNow()
		return
	}
	if i := c.opts.KeepAliveInterval; i > 0 && now.Sub(s.lastPing) >= i {
		s.lastPing = now
		// A write still in flight (an ack the service does not take)
		// is not joined by a ping.
		if s.writeMu.TryLock() {
			_ = c.write(s.ws, pingFrame)
			s.writeMu.Unlock()
		}
	}
	c.rearm(s, &s.alive, c.keepAliveDelay(s, time.Now()))
}

// rearm arms the timer *t of s again after d, unless reading s ended. *t
// is read under c.mu, where it was set.
func (c *Client) rearm(s *socket, t **time.Timer, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !s.ended {
		s.bg.Add(1)
		(*t).Reset(d)
	}
}

// endTimers stops s's timers once reading it ended and waits for the
// background work they started.
func (c *Client) endTimers(s *socket) {
	c.mu.Lock()
	s.ended = true
	c.mu.Unlock()
	if s.alive != nil && s.alive.Stop() {
		s.bg.Done()
	}
	if s.ackTimer != nil && s.ackTimer.Stop() {
		s.bg.Done()
	}
	s.bg.Wait()
}

// ackInterval is sequenceAckInterval; tests change it.
var ackInterval = sequenceAckInterval

var pingFrame = []byte(`{"type":"` + wire.TypePing + `"}`)

// queued is called by the reader when it queued a message with sequence
// id seq: the id is acknowledged at once, aside from the reader, when it
// is more than quickAckGap ahead of the last ack, and otherwise within
// ackInterval by a timer that is armed only while an id waits.
func (c *Client) queued(s *socket, seq uint64) {
	c.maxSeq.Store(seq)
	if seq-c.ackedSeq.Load() > quickAckGap && s.writeMu.TryLock() {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			c.sendSequenceAck(s)
			s.writeMu.Unlock()
		}()
	}
	c.armAck(s)
}

// armAck arms s's sequence ack timer unless it is armed or running. Only
// the client's goroutine calls it.
func (c *Client) armAck(s *socket) {
	if s.ackArmed.Load() || !s.ackArmed.CompareAndSwap(false, true) {
		return
	}
	s.bg.Add(1)
	if s.ackTimer != nil {
		s.ackTimer.Reset(ackInterval)
		return
	}
	c.mu.Lock() // the timer reads s.ackTimer under c.mu to arm itself again
	s.ackTimer = time.AfterFunc(ackInterval, func() { c.ackTick(s) })
	c.mu.Unlock()
}

// ackTick runs on s's sequence ack timer: it acknowledges the highest
// queued sequence id (unless another write is in flight) and arms the
// timer again while an id waits.
func (c *Client) ackTick(s *socket) {
	defer s.bg.Done()
	if s.writeMu.TryLock() {
		c.sendSequenceAck(s)
		s.writeMu.Unlock()
	}
	s.ackArmed.Store(false)
	// The reader sets maxSeq before it looks at ackArmed: one of the two
	// arms the timer for an id queued meanwhile.
	if c.maxSeq.Load() != c.ackedSeq.Load() && s.ackArmed.CompareAndSwap(false, true) {
		c.rearm(s, &s.ackTimer, ackInterval)
	}
}

// sendSequenceAck acknowledges the highest queued sequence id if it
// changed.
func (c *Client) sendSequenceAck(s *socket) {
	if !c.reliable {
		return
	}
	seq := c.maxSeq.Load()
	if seq == 0 || seq <= c.ackedSeq.Load() {
		return
	}
	b := strconv.AppendUint([]byte(`{"type":"`+wire.TypeSequenceAck+`","sequenceId":`), seq, 10)
	b = append(b, '}')
	if c.write(s.ws, b) != nil {
		return
	}
	c.ackedSeq.Store(seq)
}

// recover tries to reattach to the logical connection for the recovery
// window (reliable protocol only). It returns nil when the connection
// cannot be recovered.
func (c *Client) recover(endErr error, deadline time.Time) *socket {
	c.mu.Lock()
	connURL, id, tok := c.connURL, c.connID, c.reconnTok
	c.mu.Unlock()
	if !c.reliable || tok == "" || closeCode(endErr) == wire.ClosePolicyViolation {
		return nil
	}
	u, err := url.Parse(connURL)
	if err != nil {
		return nil
	}
	q := u.Query()
	q.Set(wire.QueryConnectionID, id)
	q.Set(wire.QueryReconnectionToken, tok)
	u.RawQuery = q.Encode()
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		// Failed attempts are recoveryRetry apart; and whatever the
		// service does (accepting each recovery and dropping it at once)
		// dials are at least minRecoverySpacing apart.
		gap := minRecoverySpacing
		if attempt > 0 {
			gap = recoveryRetry
		}
		if !c.sleep(gap - time.Since(c.lastRecovery)) {
			return nil
		}
		c.lastRecovery = time.Now()
		ctx, cancel := context.WithDeadline(c.runCtx, deadline)
		s, err := c.dial(ctx, u.String())
		cancel()
		if err == nil {
			if s.connectionID != id {
				_ = s.ws.CloseNow()
				return nil
			}
			if s.reconnTok != "" {
				c.mu.Lock()
				c.reconnTok = s.reconnTok
				c.mu.Unlock()
			}
			c.sendAside(s, c.attach(s), nil)
			return s
		}
		var ce *ConnectError
		if closeCode(err) == wire.ClosePolicyViolation || errors.As(err, &ce) && ce.StatusCode >= 400 && ce.StatusCode < 500 {
			c.log.Info("wsclient: recovery refused", "connectionId", redact(id), "error", err)
			return nil
		}
		if c.stopping() {
			return nil
		}
	}
	return nil
}

// loseLogical ends the logical connection: requests sent on it that wait
// for an ack fail with ErrAckLost (the service may have executed them);
// requests not sent yet wait for the next connection.
func (c *Client) loseLogical() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.pending {
		if p.sent {
			delete(c.pending, id)
			p.done <- ErrAckLost
		}
	}
}

// reconnect opens a new connection, with backoff, until it succeeds, the
// attempts are used up or the client stops.
func (c *Client) reconnect(before int) (*socket, string, int, error) {
	last := errors.New("every connection was dropped within " + stableConnection.String())
	for attempt := before + 1; c.opts.MaxReconnectAttempts == 0 || attempt <= c.opts.MaxReconnectAttempts; attempt++ {
		if !c.sleep(c.opts.ReconnectDelay(attempt)) {
			return nil, "", 0, nil
		}
		s, u, err := c.connect(c.runCtx)
		if err == nil {
			return s, u, attempt, nil
		}
		last = err
		c.log.Info("wsclient: reconnect failed", "attempt", attempt, "error", err)
	}
	if c.stopping() {
		return nil, "", 0, nil
	}
	return nil, "", 0, fmt.Errorf("gave up reconnecting after %d attempts: %w", c.opts.MaxReconnectAttempts, last)
}

// stableRecovery is how long a recovered socket must stay up for its drop
// to start a new recovery window.
const stableRecovery = 2 * time.Second

// stableConnection is how long a new connection must stay up for the
// reconnect attempts to count from 1 again.
const stableConnection = 10 * time.Second

// rejoinGroups returns the groups to join again on a new connection.
func (c *Client) rejoinGroups() []string {
	if c.opts.DisableAutoRejoin {
		return nil
	}
	c.mu.Lock()
	groups := make([]string, 0, len(c.groups))
	for g := range c.groups {
		groups = append(groups, g)
	}
	c.mu.Unlock()
	slices.Sort(groups)
	return groups
}

// rejoin joins groups again (on sendAside's goroutine: the acks arrive
// through the reader).
func (c *Client) rejoin(groups []string) {
	for _, g := range groups {
		if err := c.JoinGroup(c.runCtx, g); err != nil {
			if c.stopping() {
				return
			}
			c.mu.Lock()
			delete(c.groups, g)
			c.mu.Unlock()
			c.emit(RejoinGroupFailedEvent{Group: g, Err: err})
		}
	}
}

// shutdown ends the client: it runs on the client's goroutine when it
// returns.
func (c *Client) shutdown(stopErr error) {
	c.cancel()
	c.helpers.Wait()
	c.mu.Lock()
	c.state = stateStopped
	c.stopErr = stopErr
	for id, p := range c.pending {
		delete(c.pending, id)
		p.done <- ErrStopped
	}
	c.mu.Unlock()
	if stopErr != nil {
		c.log.Info("wsclient: stopped", "error", stopErr)
	}
	c.emit(StoppedEvent{Err: stopErr})
	if c.queue != nil {
		c.queue.close()
		<-c.dispatchDone
	}
	close(c.done)
}

// emit hands an event to the callbacks, in order with the messages.
func (c *Client) emit(ev any) {
	if c.queue == nil {
		return
	}
	switch ev.(type) {
	case StoppedEvent:
		c.queue.push(item{ev: ev}, nil, false) // the dispatcher drains the queue to the end
		return
	}
	c.queue.push(item{ev: ev}, c.stopReq, false)
}

// dispatch calls the callbacks.
func (c *Client) dispatch() {
	defer close(c.dispatchDone)
	c.dispatcher.Store(goid())
	for {
		it, res := c.queue.pop(nil, nil)
		if res != popped {
			return // the queue is closed and drained
		}
		c.inCallback.Store(true)
		c.call(it)
		c.inCallback.Store(false)
	}
}

// call runs the callback of one item. A panicking callback is logged at
// Error level and the client goes on with the next item, as net/http does
// with a panicking handler: the client's goroutines stay consistent.
func (c *Client) call(it item) {
	o := &c.opts
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("wsclient: a callback panicked", "panic", redact(fmt.Sprint(v)))
		}
	}()
	switch ev := it.ev.(type) {
	case nil:
		if o.OnMessage != nil {
			o.OnMessage(it.msg)
		}
	case ConnectedEvent:
		if o.OnConnected != nil {
			o.OnConnected(ev)
		}
	case DisconnectedEvent:
		if o.OnDisconnected != nil {
			o.OnDisconnected(ev)
		}
	case StoppedEvent:
		if o.OnStopped != nil {
			o.OnStopped(ev)
		}
	case RejoinGroupFailedEvent:
		if o.OnRejoinGroupFailed != nil {
			o.OnRejoinGroupFailed(ev)
		}
	}
}

// read reads s until it ends.
func (c *Client) read(s *socket) {
	defer c.wakeConsumers() // what was queued lazily
	var b []byte            // one frame at a time: nothing handle keeps aliases it
	for {
		typ, r, err := s.ws.Reader(context.Background())
		if err == nil {
			b, err = readFrame(r, b[:0])
		}
		if err != nil {
			if s.err == nil {
				s.err = scrubErr(err, c.secrets()...)
			}
			_ = s.ws.CloseNow() // also after a read limit error, so the peer stops writing
			return
		}
		s.recv.Add(1)
		if typ != websocket.MessageText {
			s.err = errors.New("the service sent a binary frame on a JSON subprotocol")
			_ = s.ws.CloseNow()
			return
		}
		s.delivering.Store(true)
		err = c.handle(s, b)
		s.delivering.Store(false)
		if cap(b) > maxKeptFrameBuffer {
			b = nil // a rare large frame's buffer is not kept
		}
		if err != nil {
			s.err = scrubErr(err, c.secrets()...) // it may quote the frame
			_ = s.ws.CloseNow()
			return
		}
	}
}

// maxKeptFrameBuffer is the largest frame buffer a reader keeps for the
// next frame: enough for the common frames, and an idle client that once
// got a large one does not hold its buffer (larger frames cost one
// allocation each, as io.ReadAll would).
const maxKeptFrameBuffer = 4 << 10

// readFrame appends the rest of a frame from r to b (io.ReadAll into a
// buffer that is used again).
func readFrame(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// handle acts on one frame from the service.
func (c *Client) handle(s *socket, b []byte) error {
	f, err := parseFrame(b, &s.names)
	if err != nil {
		return err
	}
	switch f.Type {
	case wire.TypeMessage:
		if !c.reliable {
			f.SequenceID = 0 // not a reliable protocol: no sequence to keep
		}
		if f.SequenceID > maxSequenceID {
			return fmt.Errorf("the service sent sequence id %d, beyond 2^53 (no service counts that far; accepting it would discard every later message as a duplicate)", f.SequenceID)
		}
		if f.SequenceID != 0 && f.SequenceID <= c.maxSeq.Load() {
			c.log.Debug("wsclient: duplicate dropped", "sequenceId", f.SequenceID)
			return nil // a replayed duplicate
		}
		m, err := f.message()
		if err != nil {
			return err
		}
		if !c.deliver(m, s.lazy) {
			return errors.New("the client is stopping")
		}
		if f.SequenceID != 0 {
			c.queued(s, f.SequenceID)
		}
	case wire.TypeAck:
		c.mu.Lock()
		p := c.pending[f.AckID]
		delete(c.pending, f.AckID)
		c.mu.Unlock()
		if p != nil {
			p.done <- ackResult(&f, c.secrets)
		} else {
			c.log.Debug("wsclient: ack for no waiting request ignored", "ackId", f.AckID)
		}
	case wire.TypeSystem:
		switch f.Event {
		case wire.SystemEventConnected:
			if err := checkConnected(b, &f, c.secrets()...); err != nil {
				return err
			}
			if f.ReconnectionToken != "" {
				c.mu.Lock()
				c.reconnTok = f.ReconnectionToken
				c.mu.Unlock()
			}
		case wire.SystemEventDisconnected:
			s.discMsg.Store(serviceText(f.Message, c.secrets()...))
		}
	}
	// pong and types a newer service may add need nothing.
	return nil
}

// ackResult turns an ack into the operation's result: nil on success and
// on Duplicate (executed before), an *AckError otherwise.
func ackResult(f *serverFrame, secrets func() []string) error {
	if f.Success {
		return nil
	}
	if f.Error == nil {
		return &AckError{AckID: f.AckID, Name: "Unknown", Message: "the service reported a failure without an error"}
	}
	if f.Error.Name == wire.AckErrorDuplicate {
		return nil
	}
	sec := secrets()
	return &AckError{AckID: f.AckID, Name: serviceText(f.Error.Name, sec...), Message: serviceText(f.Error.Message, sec...)}
}

// deliver queues a message; it waits while the queue is full and reports
// false when the client stops meanwhile. lazy is as for queue.push.
func (c *Client) deliver(m Message, lazy bool) bool {
	if c.queue != nil && c.opts.OnMessage != nil {
		return c.queue.push(item{msg: m}, c.stopReq, lazy)
	}
	return c.msgs.push(m, c.stopReq, lazy)
}

// marshal encodes a request.
func marshal(r *request) ([]byte, error) {
	return json.Marshal(r)
}
