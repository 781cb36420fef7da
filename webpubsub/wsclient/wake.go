package wsclient

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// Waking the consumer once per burst.
//
// The reader queues each message it decodes for Receive or the callbacks.
// Waking the goroutine that waits for a message costs far more than
// decoding one (a futex call and another processor's spin, ~1.5 µs), so a
// reader that wakes it for every message of a burst spends most of its
// time on wake-ups. When wsclient dialed the connection itself (no
// Options.HTTPClient), its TCP connection tells the reader when it is
// about to wait for the network: the reader then queues messages without
// waking (queue.push with lazy) and wakes the consumer once, before each
// read from the network, which is before it could block. The messages of
// a burst that arrived together cost one wake-up, and no message waits
// longer than the decoding of the frames that arrived with it (at most
// one bulk read, 64 KiB: about 300 messages of 100 bytes, 0.6 ms; a
// variant that woke the consumer every 4 KiB measured 3.0x the JS
// client's rate and 0.32x its CPU per message, against 3.4x and 0.27x,
// in one clientload backlog run). The reader's only other wait is the
// answer to a control frame: a ping wakes the consumers first
// (pingReceived), and a close frame ends the reader, which wakes them. On a
// connection wsclient did not dial (a user's HTTP client), every message
// wakes the consumer.

// defaultHTTPClient performs the handshakes when Options.HTTPClient is
// nil: http.DefaultTransport's settings, with connections that report
// their reads, and none kept for reuse (a WebSocket connection is never
// returned to a pool, and a refused handshake's connection must not carry
// a hook to a later dial).
var defaultHTTPClient = &http.Client{Transport: newDefaultTransport()}

func newDefaultTransport() *http.Transport {
	t := wire.HTTPTransport()
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if h, _ := ctx.Value(readHookKey{}).(*readHook); h != nil && h.bound.CompareAndSwap(false, true) {
			return newHookedConn(conn, h), nil
		}
		return conn, nil
	}
	t.DisableKeepAlives = true
	return t
}

// readHookKey carries a *readHook in a dial's context.
type readHookKey struct{}

// readHook is called before every read of one dialed connection.
type readHook struct {
	bound      atomic.Bool // set when a connection was dialed with it
	beforeRead func()
}

// hookedConn is a TCP connection that calls its hook before each read
// that may wait for the network.
//
// It also reads in bulk while a burst lasts: when a read fills the
// caller's buffer (coder/websocket reads 4 KiB at a time), more data is
// likely waiting in the kernel, and one read without waiting takes up to
// bulkReadSize of it into a pooled buffer that the next reads are served
// from (16 system calls fewer per 64 KiB). An idle connection holds no
// such buffer: it is taken only when data is there and given back when it
// is consumed.
type hookedConn struct {
	net.Conn
	hook    *readHook
	raw     syscall.RawConn // for the reads that do not wait; nil when unsupported
	bulk    *[]byte         // pooled; nil unless pending holds data
	pending []byte          // read from the kernel, not yet returned
}

// bulkReadSize is the size of the pooled buffers of bulk reads.
const bulkReadSize = 64 << 10

var bulkBuffers = sync.Pool{New: func() any { b := make([]byte, bulkReadSize); return &b }}

func newHookedConn(conn net.Conn, h *readHook) *hookedConn {
	c := &hookedConn{Conn: conn, hook: h}
	if sc, ok := conn.(syscall.Conn); ok && canReadWithoutWaiting {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	return c
}

func (c *hookedConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.releaseBulk()
		}
		return n, nil
	}
	c.hook.beforeRead()
	n, err := c.Conn.Read(p)
	if err == nil && n == len(p) && c.raw != nil {
		c.readBulk()
	}
	return n, err
}

// readBulk takes what the kernel holds for the connection, without
// waiting. Nothing (no data yet, the end, an error) leaves pending empty:
// the next Read then waits, and reports the end or the error.
func (c *hookedConn) readBulk() {
	buf := bulkBuffers.Get().(*[]byte)
	n := readWithoutWaiting(c.raw, *buf)
	if n <= 0 {
		bulkBuffers.Put(buf)
		return
	}
	c.bulk, c.pending = buf, (*buf)[:n]
}

func (c *hookedConn) releaseBulk() {
	if c.bulk != nil {
		bulkBuffers.Put(c.bulk)
		c.bulk, c.pending = nil, nil
	}
}

// consumerQueues are the queues a reader fills: the hook reaches them
// without the client's lock (a read may happen while it is held).
type consumerQueues struct {
	msgs  *queue[Message]
	items *queue[item] // nil without callbacks
}

// wakeConsumers wakes whoever waits for the messages and events queued
// lazily.
func (c *Client) wakeConsumers() {
	q := c.consumers.Load()
	if q == nil {
		return // not started: nothing was queued
	}
	q.msgs.wake()
	if q.items != nil {
		q.items.wake()
	}
}
