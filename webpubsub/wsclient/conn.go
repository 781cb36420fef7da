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
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// socket is one WebSocket of a logical connection.
type socket struct {
	ws      *websocket.Conn
	first   serverFrame // the connected message
	done    chan struct{}
	recv    atomic.Uint64 // frames read, for the dead-connection timer
	err     error         // why reading ended; set before done closes
	discMsg atomic.Value  // string: the service's disconnected message
}

// connect fetches a URL and opens a new connection with it.
func (c *Client) connect(ctx context.Context) (*socket, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	u, err := c.urlFunc(ctx)
	if err != nil {
		return nil, "", &ConnectError{Reason: "getting the client access URL: " + redact(err.Error()), err: causeOf(err)}
	}
	s, err := c.dial(ctx, u)
	return s, u, err
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
	ws, resp, err := websocket.Dial(ctx, raw, &websocket.DialOptions{
		Subprotocols: []string{string(c.opts.Protocol)},
		HTTPClient:   c.opts.HTTPClient,
		HTTPHeader:   c.opts.Header,
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
	typ, b, err := ws.Read(ctx)
	if err != nil {
		_ = ws.CloseNow()
		if code := websocket.CloseStatus(err); code != -1 {
			var ce websocket.CloseError
			errors.As(err, &ce)
			return nil, fail(0, fmt.Sprintf("the service closed the connection before it was confirmed (close code %d %s)", code, ce.Reason), err)
		}
		if ctx.Err() != nil {
			return nil, fail(0, "no connected message from the service within the deadline", ctx.Err())
		}
		return nil, fail(0, "waiting for the connected message: "+oneLine(err.Error()), nil)
	}
	f, err := parseFrame(b)
	if err == nil && (typ != websocket.MessageText || f.Type != wire.TypeSystem || f.Event != wire.SystemEventConnected || f.ConnectionID == "") {
		err = errors.New("the service's first message is not a connected message with a connection id")
	}
	if err != nil {
		_ = ws.CloseNow()
		return nil, fail(0, err.Error(), nil)
	}
	return &socket{ws: ws, first: f, done: make(chan struct{})}, nil
}

// closeCode returns the WebSocket close code of err, or -1.
func closeCode(err error) int {
	return int(websocket.CloseStatus(err))
}

// newLogical installs s as the first socket of a new logical connection
// and raises the connected event.
func (c *Client) newLogical(s *socket, u string) {
	c.maxSeq.Store(0)
	c.ackedSeq.Store(0)
	c.mu.Lock()
	c.connURL, c.connID, c.userID, c.reconnTok = u, s.first.ConnectionID, s.first.UserID, s.first.ReconnectionToken
	c.mu.Unlock()
	c.attach(s)
	c.log.Info("wsclient: connected", "connectionId", s.first.ConnectionID)
	c.emit(ConnectedEvent{ConnectionID: s.first.ConnectionID, UserID: s.first.UserID, ReconnectionToken: s.first.ReconnectionToken})
}

// attach makes s the current socket, starts its reader and sends the
// requests that wait for a connection (on a recovery also those sent
// before, with their ack ids, which the service deduplicates).
func (c *Client) attach(s *socket) {
	c.mu.Lock()
	c.ws = s.ws
	close(c.ready)
	var resend []*pendingOp
	for _, p := range c.pending {
		resend = append(resend, p)
		p.sent = true
	}
	c.mu.Unlock()
	go c.read(s)
	slices.SortFunc(resend, func(a, b *pendingOp) int { return compareUint(a.id, b.id) })
	for _, p := range resend {
		if err := c.write(s.ws, p.frame); err != nil {
			return // the socket broke; the next recovery sends them again
		}
	}
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
	if c.ws != nil {
		c.ws = nil
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

// manage runs the client's life cycle until it stops.
func (c *Client) manage(s *socket) {
	var stopErr error
	defer func() { c.shutdown(stopErr) }()
	for {
		endErr, stopping := c.serve(s)
		c.detach()
		if stopping {
			return
		}
		discMsg, _ := s.discMsg.Load().(string)
		c.log.Info("wsclient: connection dropped", "connectionId", c.ConnectionID(), "error", endErr)
		if next := c.recover(endErr); next != nil {
			c.log.Info("wsclient: connection recovered", "connectionId", next.first.ConnectionID)
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
		next, u, err := c.reconnect()
		if next == nil {
			stopErr = err
			return
		}
		c.newLogical(next, u)
		c.rejoin()
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

// serve runs while s is open: it sends sequence acks and keep-alive
// pings, and drops s when nothing arrived for KeepAliveTimeout. It returns
// why s ended, or stopping=true after closing s for Stop.
func (c *Client) serve(s *socket) (err error, stopping bool) {
	tick := c.opts.KeepAliveInterval
	if c.reliable || tick <= 0 || tick > time.Second && c.opts.KeepAliveTimeout > 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	lastPing, lastSeen, seen := time.Now(), time.Now(), uint64(0)
	for {
		select {
		case <-s.done:
			return s.err, false
		case <-c.stopReq:
			c.sendSequenceAck(s)
			_ = s.ws.Close(websocket.StatusNormalClosure, "")
			<-s.done
			return nil, true
		case <-c.ackNow:
			c.sendSequenceAck(s)
		case now := <-t.C:
			c.sendSequenceAck(s)
			if n := s.recv.Load(); n != seen {
				seen, lastSeen = n, now
			}
			if c.opts.KeepAliveTimeout > 0 && now.Sub(lastSeen) >= c.opts.KeepAliveTimeout {
				_ = s.ws.CloseNow()
				<-s.done
				return fmt.Errorf("nothing received for %s: the connection is considered dead", c.opts.KeepAliveTimeout), false
			}
			if c.opts.KeepAliveInterval > 0 && now.Sub(lastPing) >= c.opts.KeepAliveInterval {
				lastPing = now
				_ = c.write(s.ws, pingFrame)
			}
		}
	}
}

var pingFrame = []byte(`{"type":"` + wire.TypePing + `"}`)

// sendSequenceAck acknowledges the highest queued sequence id if it
// changed.
func (c *Client) sendSequenceAck(s *socket) {
	if !c.reliable {
		return
	}
	seq := c.maxSeq.Load()
	if seq == 0 || seq == c.ackedSeq.Load() {
		return
	}
	b := strconv.AppendUint([]byte(`{"type":"`+wire.TypeSequenceAck+`","sequenceId":`), seq, 10)
	b = append(b, '}')
	if c.write(s.ws, b) == nil {
		c.ackedSeq.Store(seq)
	}
}

// recover tries to reattach to the logical connection for the recovery
// window (reliable protocol only). It returns nil when the connection
// cannot be recovered.
func (c *Client) recover(endErr error) *socket {
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
	deadline := time.Now().Add(c.opts.RecoveryWindow)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 && !c.sleep(recoveryRetry) {
			return nil
		}
		ctx, cancel := context.WithDeadline(c.runCtx, deadline)
		s, err := c.dial(ctx, u.String())
		cancel()
		if err == nil {
			if s.first.ConnectionID != id {
				_ = s.ws.CloseNow()
				return nil
			}
			if s.first.ReconnectionToken != "" {
				c.mu.Lock()
				c.reconnTok = s.first.ReconnectionToken
				c.mu.Unlock()
			}
			c.attach(s)
			return s
		}
		var ce *ConnectError
		if closeCode(err) == wire.ClosePolicyViolation || errors.As(err, &ce) && ce.StatusCode >= 400 && ce.StatusCode < 500 {
			c.log.Info("wsclient: recovery refused", "connectionId", id, "error", err)
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
func (c *Client) reconnect() (*socket, string, error) {
	var last error
	for attempt := 1; c.opts.MaxReconnectAttempts == 0 || attempt <= c.opts.MaxReconnectAttempts; attempt++ {
		if !c.sleep(c.opts.ReconnectDelay(attempt)) {
			return nil, "", nil
		}
		s, u, err := c.connect(c.runCtx)
		if err == nil {
			return s, u, nil
		}
		last = err
		c.log.Info("wsclient: reconnect failed", "attempt", attempt, "error", err)
	}
	if c.stopping() {
		return nil, "", nil
	}
	return nil, "", fmt.Errorf("gave up reconnecting after %d attempts: %w", c.opts.MaxReconnectAttempts, last)
}

// rejoin joins the client's groups again on a new connection, aside from
// the manager (the acks arrive through the reader).
func (c *Client) rejoin() {
	if c.opts.DisableAutoRejoin {
		return
	}
	c.mu.Lock()
	groups := make([]string, 0, len(c.groups))
	for g := range c.groups {
		groups = append(groups, g)
	}
	c.mu.Unlock()
	if len(groups) == 0 {
		return
	}
	slices.Sort(groups)
	c.helpers.Add(1)
	go func() {
		defer c.helpers.Done()
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
	}()
}

// shutdown ends the client: it runs on the manager when it returns.
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
		close(c.queue)
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
		c.queue <- item{ev: ev} // the dispatcher drains the queue to the end
		return
	}
	select {
	case c.queue <- item{ev: ev}:
	case <-c.stopReq:
	}
}

// dispatch calls the callbacks.
func (c *Client) dispatch() {
	defer close(c.dispatchDone)
	o := &c.opts
	for it := range c.queue {
		c.inCallback.Store(true)
		switch ev := it.ev.(type) {
		case nil:
			if o.OnMessage != nil {
				o.OnMessage(*it.msg)
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
		c.inCallback.Store(false)
	}
}

// read reads s until it ends.
func (c *Client) read(s *socket) {
	defer close(s.done)
	for {
		typ, b, err := s.ws.Read(context.Background())
		if err != nil {
			if s.err == nil {
				s.err = err
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
		if err := c.handle(s, b); err != nil {
			s.err = err
			_ = s.ws.CloseNow()
			return
		}
	}
}

// handle acts on one frame from the service.
func (c *Client) handle(s *socket, b []byte) error {
	f, err := parseFrame(b)
	if err != nil {
		return err
	}
	switch f.Type {
	case wire.TypeMessage:
		if f.SequenceID != 0 && c.reliable {
			if f.SequenceID <= c.maxSeq.Load() {
				return nil // a replayed duplicate
			}
		}
		m, err := f.message()
		if err != nil {
			return err
		}
		if !c.deliver(m) {
			return errors.New("the client is stopping")
		}
		if f.SequenceID != 0 && c.reliable {
			c.maxSeq.Store(f.SequenceID)
			if f.SequenceID-c.ackedSeq.Load() > quickAckGap {
				select {
				case c.ackNow <- struct{}{}:
				default:
				}
			}
		}
	case wire.TypeAck:
		c.mu.Lock()
		p := c.pending[f.AckID]
		delete(c.pending, f.AckID)
		c.mu.Unlock()
		if p != nil {
			p.done <- ackResult(&f)
		}
	case wire.TypeSystem:
		switch f.Event {
		case wire.SystemEventConnected:
			if f.ReconnectionToken != "" {
				c.mu.Lock()
				c.reconnTok = f.ReconnectionToken
				c.mu.Unlock()
			}
		case wire.SystemEventDisconnected:
			s.discMsg.Store(f.Message)
		}
	}
	// pong and types a newer service may add need nothing.
	return nil
}

// ackResult turns an ack into the operation's result: nil on success and
// on Duplicate (executed before), an *AckError otherwise.
func ackResult(f *serverFrame) error {
	if f.Success {
		return nil
	}
	if f.Error == nil {
		return &AckError{AckID: f.AckID, Name: "Unknown", Message: "the service reported a failure without an error"}
	}
	if f.Error.Name == wire.AckErrorDuplicate {
		return nil
	}
	return &AckError{AckID: f.AckID, Name: f.Error.Name, Message: f.Error.Message}
}

// deliver queues a message; it waits while the queue is full and reports
// false when the client stops meanwhile.
func (c *Client) deliver(m Message) bool {
	if c.queue != nil && c.opts.OnMessage != nil {
		select {
		case c.queue <- item{msg: &m}:
			return true
		case <-c.stopReq:
			return false
		}
	}
	select {
	case c.msgs <- m:
		return true
	case <-c.stopReq:
		return false
	}
}

// marshal encodes a request.
func marshal(r *request) ([]byte, error) {
	return json.Marshal(r)
}
