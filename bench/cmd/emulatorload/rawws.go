package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// rawConn is the load generator's minimal WebSocket client (RFC 6455,
// client side only): one HTTP/1.1 upgrade, then unmasked server frames
// parsed straight out of a large bufio.Reader and masked client frames
// (pongs, acks, close). It exists because coder/websocket's reader costs
// this process more CPU per small message than the emulator's writer costs
// the emulator, and both share two cores; -reader=websocket keeps the
// library's path.
type rawConn struct {
	nc  net.Conn
	br  *bufio.Reader
	out []byte // scratch for outgoing frames; used by the reader goroutine only
}

// rawBufferSize is each client's read buffer: many small frames per read
// system call.
const rawBufferSize = 64 << 10

// websocketGUID is RFC 6455's fixed accept-key suffix.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dialRaw upgrades a TCP connection to rawURL (ws://) with subprotocol
// proto and checks the server's 101 answer.
func dialRaw(ctx context.Context, rawURL, proto string) (*rawConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing the client URL: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("the raw reader supports ws:// only, got %s://: use -reader=websocket", u.Scheme)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Protocol: " + proto + "\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("sending the upgrade request: %w", err)
	}
	br := bufio.NewReaderSize(nc, rawBufferSize)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("reading the upgrade response: %w", err)
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		err = fmt.Errorf("the upgrade was answered %s, not 101", resp.Status)
	case resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]):
		err = errors.New("the upgrade response's Sec-WebSocket-Accept does not match the key")
	case resp.Header.Get("Sec-WebSocket-Protocol") != proto:
		err = fmt.Errorf("the server chose subprotocol %q, not %q", resp.Header.Get("Sec-WebSocket-Protocol"), proto)
	case resp.Header.Get("Sec-WebSocket-Extensions") != "":
		err = errors.New("the server negotiated an extension the raw reader does not implement: use -reader=websocket")
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return &rawConn{nc: nc, br: br}, nil
}

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// next reads one whole data message, answering pings on the way, and
// hands each chunk of its payload to chunk (the slice is only valid during
// the call). It returns io.EOF after a close frame (which it answers).
func (c *rawConn) next(chunk func([]byte)) error {
	inMessage := false
	for {
		var hdr [14]byte
		if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
			return err
		}
		fin, op := hdr[0]&0x80 != 0, hdr[0]&0x0F
		if hdr[0]&0x70 != 0 {
			return errors.New("a server frame has RSV bits set (no extension was negotiated)")
		}
		if hdr[1]&0x80 != 0 {
			return errors.New("a server frame is masked (RFC 6455 forbids it)")
		}
		n := uint64(hdr[1] & 0x7F)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, hdr[2:4]); err != nil {
				return err
			}
			n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(c.br, hdr[2:10]); err != nil {
				return err
			}
			n = binary.BigEndian.Uint64(hdr[2:10])
		}
		switch op {
		case opPing, opPong, opClose:
			if n > 125 || !fin {
				return errors.New("a server control frame is fragmented or longer than 125 bytes")
			}
			p, err := c.br.Peek(int(n))
			if err != nil {
				return err
			}
			reply := append([]byte(nil), p...)
			_, _ = c.br.Discard(int(n))
			switch op {
			case opPing:
				if err := c.write(opPong, reply); err != nil {
					return err
				}
			case opClose:
				_ = c.write(opClose, reply[:min(len(reply), 2)])
				return io.EOF
			}
			continue
		case opText, opBinary:
			if inMessage {
				return errors.New("a server data frame interrupts an unfinished message")
			}
			inMessage = true
		case opContinuation:
			if !inMessage {
				return errors.New("a server continuation frame has no message to continue")
			}
		default:
			return fmt.Errorf("a server frame has the reserved opcode %#x", op)
		}
		for n > 0 {
			p, err := c.br.Peek(int(min(n, rawBufferSize)))
			if err != nil {
				return err
			}
			chunk(p)
			_, _ = c.br.Discard(len(p))
			n -= uint64(len(p))
		}
		if fin {
			return nil
		}
	}
}

// write sends one masked frame (the client must mask, RFC 6455 5.3).
func (c *rawConn) write(op byte, payload []byte) error {
	b := append(c.out[:0], 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range b[start:] {
		b[start+i] ^= mask[i&3]
	}
	c.out = b
	_, err := c.nc.Write(b)
	return err
}

// closeNow ends the connection without a closing handshake.
func (c *rawConn) closeNow() error { return c.nc.Close() }
