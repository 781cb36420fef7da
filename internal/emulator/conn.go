package emulator

import (
	"context"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// protocolKind is how the service talks to a connection.
type protocolKind int

const (
	protocolSimple   protocolKind = iota // raw payloads
	protocolJSON                         // json.webpubsub.azure.v1
	protocolReliable                     // json.reliable.webpubsub.azure.v1
	protocolMQTT                         // MQTT 3.1.1 or 5.0 over WebSocket (mqtt.go)
)

func (k protocolKind) String() string {
	switch k {
	case protocolJSON:
		return wire.SubprotocolJSON
	case protocolReliable:
		return wire.SubprotocolJSONReliable
	case protocolMQTT:
		return wire.SubprotocolMQTT
	}
	return "simple"
}

// conn is a logical client connection. With the reliable protocol it
// outlives its WebSocket for the recovery window.
//
// Locking: groups, grants and ended are guarded by the engine's mutex; the
// rest by mu. The engine's mutex is always taken before mu.
type conn struct {
	e           *Emulator
	hub         string
	id          string
	userID      string
	hasUser     bool
	kind        protocolKind
	subprotocol string
	roles       []string
	reconnToken string
	publishTo   string       // simple clients in sendToGroup mode: the group their frames go to
	mq          *mqttSession // MQTT clients only; guarded by mu

	// Guarded by Emulator.mu.
	groups map[string]struct{}
	grants grants
	ended  bool

	mu     sync.Mutex
	closed bool // no more deliveries; the connection is ending
	acks   ackLog
	// ackMu makes checking, executing and recording an acked request one
	// step, also when the old and the recovered socket of a connection
	// both carry the same request.
	ackMu         sync.Mutex
	lastSeq       uint64
	unacked       []frame // reliable: sent or pending data not yet acked
	unackedBytes  int
	phys          *physical
	recoverTimer  *time.Timer
	endReason     string        // why the connection ended, for the LifecycleHandler
	connectedDone chan struct{} // closed when HandleConnected returned; nil if never called
}

// physical is one WebSocket carrying a logical connection.
type physical struct {
	ws   *websocket.Conn
	cork *corkConn // under ws; nil only if the handshake was not ours
	wake chan struct{}
	done chan struct{}
	room chan struct{} // signalled when the writer takes a batch off the queue

	writerDone chan struct{} // closed when writeLoop returns

	// Guarded by conn.mu.
	queue      []frame
	queueBytes int
	closeReq   *closeRequest
	gone       bool
}

type closeRequest struct {
	code   websocket.StatusCode
	reason string
}

func (p *physical) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// enqueueLocked queues a frame for writing. The caller holds c.mu. It
// reports false when the queue limit is exceeded.
func (c *conn) enqueueLocked(f frame) bool {
	return c.enqueueFrameLocked(f, false)
}

// enqueueFrameLocked queues a frame; force skips the queue limit, for the
// answers to the client's own messages, which the reader bounds instead
// (see waitForRoom).
func (c *conn) enqueueFrameLocked(f frame, force bool) bool {
	p := c.phys
	if p == nil || p.gone || p.closeReq != nil {
		return true
	}
	if f.seq == 0 && !force {
		lim := c.e.opts.sendQueueMessages
		if len(p.queue) >= lim || p.queueBytes+len(f.data) > c.e.opts.sendQueueBytes {
			return false
		}
	}
	p.queue = append(p.queue, f)
	p.queueBytes += len(f.data)
	p.signal()
	return true
}

// deliver sends one fanned-out message to the connection without blocking.
func (c *conn) deliver(d *delivery) {
	if !d.validText() {
		c.e.invalidDelivery()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.mq != nil {
		c.mq.deliverLocked(c, d)
		return
	}
	if c.kind == protocolReliable {
		c.lastSeq++
		f := d.frameFor(c.kind, c.lastSeq)
		if len(c.unacked) >= c.e.opts.bufferMessages || c.unackedBytes+len(f.data) > c.e.opts.bufferBytes {
			c.failLocked(wire.ClosePolicyViolation, "too many unacknowledged messages; the connection cannot be recovered")
			return
		}
		c.unacked = append(c.unacked, f)
		c.unackedBytes += len(f.data)
		c.enqueueLocked(f)
		return
	}
	if !c.enqueueLocked(d.frameFor(c.kind, 0)) {
		c.failLocked(wire.ClosePolicyViolation, "the client reads too slowly; its send queue is full")
	}
}

// sendControl queues the answer to a client's message (ack, pong). It is
// never refused for a full queue: the reader does not read the client's
// next message until the queue has room (waitForRoom), so a client gets
// back-pressure, not a close, and answers add at most one frame per
// message read. Lost if the socket drops.
func (c *conn) sendControl(f frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.enqueueFrameLocked(f, true)
}

// waitForRoom returns when the connection's send queue is at most half
// full, so that reading the client's next message cannot overflow it with
// answers and echoes: the client that sends faster than it reads is
// slowed down by TCP flow control rather than cut off. It reports false
// when the socket's writer has ended (a client that stops reading
// altogether is closed by the write timeout or the keep-alive).
func (c *conn) waitForRoom(ctx context.Context, p *physical) bool {
	for {
		c.mu.Lock()
		full := len(p.queue) > c.e.opts.sendQueueMessages/2 || p.queueBytes > c.e.opts.sendQueueBytes/2
		c.mu.Unlock()
		if !full {
			return true
		}
		select {
		case <-p.room:
		case <-p.writerDone:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// failLocked ends the connection for good from a delivery path, where the
// engine lock may be held: the connection stops taking messages at once and
// is removed from the engine asynchronously. The caller holds c.mu.
func (c *conn) failLocked(code websocket.StatusCode, reason string) {
	c.closeLocked(code, reason)
	c.e.background(func() { c.e.removeConn(c) })
}

// closeLocked marks the connection closed and asks its socket to send a
// disconnected message (json protocols) and close. The caller holds c.mu.
func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	c.endReason = reason
	c.unacked, c.unackedBytes = nil, 0
	if c.recoverTimer != nil {
		c.recoverTimer.Stop()
		c.recoverTimer = nil
	}
	if c.mq != nil {
		c.mq.closingLocked(c, code, reason)
	}
	p := c.phys
	if p == nil || p.gone {
		return
	}
	if c.kind == protocolJSON || c.kind == protocolReliable {
		p.queue = append(p.queue, controlFrame(disconnectedMessage{Type: wire.TypeSystem, Event: wire.SystemEventDisconnected, Message: reason}))
	}
	p.closeReq = &closeRequest{code: code, reason: truncateReason(reason)}
	p.signal()
}

// truncateReason keeps a close reason within the 123 bytes a close frame allows.
func truncateReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	s = s[:123]
	for !utf8.ValidString(s) { // drop a rune cut in half
		s = s[:len(s)-1]
	}
	return s
}

// ack handles a sequenceAck: every data message up to seq is delivered.
func (c *conn) ack(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for i < len(c.unacked) && c.unacked[i].seq <= seq {
		c.unackedBytes -= len(c.unacked[i].data)
		i++
	}
	if i > 0 {
		// Reslicing, not copying the rest: a client that acknowledges
		// every 300 of 400,000 buffered messages made the copies
		// quadratic (1.3 s of the emulator's CPU in one benchmark run).
		// The acknowledged frames are cleared for the collector; the
		// array goes when append outgrows it or nothing is left.
		clear(c.unacked[:i])
		c.unacked = c.unacked[i:]
		if len(c.unacked) == 0 {
			c.unacked = nil
		}
	}
}

// recordAck remembers an ackId whose request succeeded, so that a retry
// with the same id gets a Duplicate ack instead of running again.
func (c *conn) recordAck(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acks.record(id)
}

// writeLoop writes queued frames to the socket until it ends, and starts
// a keep-alive ping every keepAlive interval.
//
// A batch is written corked (one system call per 64 KiB instead of one
// per message), and one timer bounds every write instead of a context per
// message: the context's Done channel is nil, so coder/websocket arms no
// timer of its own either. A write that takes longer than writeTimeout, or
// the end of ctx, closes the socket, which fails the write.
func (c *conn) writeLoop(ctx context.Context, p *physical) {
	defer close(p.writerDone)
	closeNow := func() { _ = p.ws.CloseNow() }
	timer := time.AfterFunc(time.Hour, closeNow)
	timer.Stop()
	defer timer.Stop()
	defer context.AfterFunc(ctx, closeNow)()
	wctx := context.WithoutCancel(ctx)
	var tick <-chan time.Time // keep-alive pings; nil when disabled
	if c.e.opts.keepAlive > 0 {
		t := time.NewTicker(c.e.opts.keepAlive)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-p.wake:
			// Let the goroutines that are fanning messages out run first:
			// under load more of them join this batch, which is written
			// with one system call; when idle this returns at once.
			runtime.Gosched()
		case <-tick:
			// A ping waits for its pong, which the reader receives: run it
			// aside so that writes go on meanwhile.
			c.e.background(func() { c.ping(ctx, p) })
			continue
		case <-p.done:
			return
		}
		c.mu.Lock()
		batch := p.queue
		p.queue, p.queueBytes = nil, 0
		req := p.closeReq
		c.mu.Unlock()
		select { // the reader may read the client's next message
		case p.room <- struct{}{}:
		default:
		}
		now := time.Now()
		if p.cork != nil && len(batch) > 1 {
			p.cork.cork()
		}
		for _, f := range batch {
			if !f.expires.IsZero() && now.After(f.expires) {
				continue
			}
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			} else if !f.checked && !utf8.Valid(f.data) {
				// Never put invalid UTF-8 into a text frame (RFC 6455
				// §8.1): the client would have to fail the connection.
				c.e.opts.logger.Error("emulator bug: a text frame is not valid UTF-8; closing the connection", "hub", c.hub, "connectionId", c.id)
				_ = p.ws.Close(wire.CloseInternalError, "internal error: a message was not valid UTF-8")
				return
			}
			timer.Reset(c.e.opts.writeTimeout)
			err := p.ws.Write(wctx, typ, f.data)
			timer.Stop()
			if err != nil {
				_ = p.ws.CloseNow()
				return
			}
		}
		if p.cork != nil {
			timer.Reset(c.e.opts.writeTimeout)
			err := p.cork.uncork()
			timer.Stop()
			if err != nil {
				_ = p.ws.CloseNow()
				return
			}
		}
		if req != nil {
			_ = p.ws.Close(req.code, req.reason)
			return
		}
		// Hand the batch's array back as the next queue (one allocation
		// per delivery less), unless a backlog made it large.
		if cap(batch) <= maxReusedQueue {
			clear(batch) // drop the frames' data for the collector
			c.mu.Lock()
			if p.queue == nil {
				p.queue = batch[:0]
			}
			c.mu.Unlock()
		}
	}
}

// maxReusedQueue is the largest queue array a writer keeps for reuse.
const maxReusedQueue = 64

// ping pings the client once so that a dead socket is noticed: a client
// that does not answer within keepAliveTimeout is dropped.
func (c *conn) ping(ctx context.Context, p *physical) {
	pctx, cancel := context.WithTimeout(ctx, c.e.opts.keepAliveTimeout)
	err := p.ws.Ping(pctx)
	cancel()
	if err != nil {
		_ = p.ws.CloseNow()
	}
}
