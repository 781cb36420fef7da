package emulator

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"sync"
)

// corkLimit is how many bytes a corked connection collects before it
// writes them anyway.
const corkLimit = 64 << 10

// Buffer sizes of a WebSocket's own reader and writer. Small, because
// every idle connection holds them; larger messages pass straight through.
const (
	socketReadBuffer  = 1 << 10
	socketWriteBuffer = 512
)

// corkPool recycles the buffers of corked connections, so an idle
// connection holds none.
var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, corkLimit); return &b }}

// corkConn is the network connection under a WebSocket. coder/websocket
// flushes after every message, which costs one write system call each;
// while the writer goroutine drains a batch of queued messages it corks
// the connection, so the batch reaches the socket in as few writes as
// possible (one per corkLimit bytes). Uncorked, writes pass straight
// through. Byte order is kept: every write, corked or not, goes through mu
// in call order.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    *[]byte // nil unless corked or holding data
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	if len(*c.buf)+len(p) > corkLimit {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) >= corkLimit {
			return c.Conn.Write(p)
		}
		c.buf = corkPool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

// flushLocked writes what was collected and returns the buffer to the
// pool. The caller holds mu.
func (c *corkConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = c.Conn.Write(*b)
	}
	*b = (*b)[:0]
	corkPool.Put(b)
	return err
}

// cork starts collecting writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was collected and lets later writes pass through.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// corkingWriter hands coder/websocket a corkConn, with small buffers, when
// it hijacks the HTTP connection.
type corkingWriter struct {
	http.ResponseWriter
	conn *corkConn
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *corkingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack takes over the connection from the HTTP server.
func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc}
	// Keep whatever the client sent after its handshake: read it into the
	// new reader's buffer before handing that over.
	pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
	br := bufio.NewReaderSize(w.conn, max(socketReadBuffer, len(pending)))
	if len(pending) > 0 {
		br = bufio.NewReaderSize(readerThen{bytes.NewReader(bytes.Clone(pending)), w.conn}, max(socketReadBuffer, len(pending)))
		if _, err := br.Peek(len(pending)); err != nil {
			_ = nc.Close()
			return nil, nil, err
		}
	}
	return w.conn, bufio.NewReadWriter(br, bufio.NewWriterSize(w.conn, socketWriteBuffer)), nil
}

// readerThen reads first from head, then from tail.
type readerThen struct {
	head *bytes.Reader
	tail net.Conn
}

func (r readerThen) Read(p []byte) (int, error) {
	if r.head.Len() > 0 {
		return r.head.Read(p)
	}
	return r.tail.Read(p)
}
