package wsclient

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
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
// longer than the decoding of the frames that arrived with it. On a
// connection wsclient did not dial (a user's HTTP client), every message
// wakes the consumer.

// defaultHTTPClient performs the handshakes when Options.HTTPClient is
// nil: http.DefaultTransport's settings, with connections that report
// their reads, and none kept for reuse (a WebSocket connection is never
// returned to a pool, and a refused handshake's connection must not carry
// a hook to a later dial).
var defaultHTTPClient = &http.Client{Transport: newDefaultTransport()}

func newDefaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if h, _ := ctx.Value(readHookKey{}).(*readHook); h != nil && h.bound.CompareAndSwap(false, true) {
			return &hookedConn{Conn: conn, hook: h}, nil
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

// hookedConn is a TCP connection that calls its hook before each read.
type hookedConn struct {
	net.Conn
	hook *readHook
}

func (c *hookedConn) Read(p []byte) (int, error) {
	c.hook.beforeRead()
	return c.Conn.Read(p)
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
