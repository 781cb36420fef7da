package wsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// SendToGroupOptions are options of SendToGroup.
type SendToGroupOptions struct {
	// NoEcho keeps the message from this connection itself.
	NoEcho bool
	// FireAndForget sends without an ack id: SendToGroup returns once the
	// message is written, and a message written just before a drop may
	// be lost.
	FireAndForget bool
	// AckID sets the request's ack id instead of the next free one. The
	// service executes a request with an ack id at most once per
	// connection, so a caller can retry with the same id after an
	// uncertain outcome (ErrAckLost is not covered: that connection is
	// gone).
	AckID uint64
}

// SendEventOptions are options of SendEvent.
type SendEventOptions struct {
	// FireAndForget sends without an ack id (see SendToGroupOptions).
	FireAndForget bool
	// AckID sets the request's ack id (see SendToGroupOptions).
	AckID uint64
}

// JoinGroup joins group and returns when the service acknowledged it
// (the token needs the webpubsub.joinLeaveGroup role or that of the
// group). The client joins it again on every new connection.
func (c *Client) JoinGroup(ctx context.Context, group string) error {
	if err := checkGroup(group); err != nil {
		return err
	}
	err := c.invoke(ctx, &request{Type: wire.TypeJoinGroup, Group: group}, 0)
	if err == nil {
		c.mu.Lock()
		c.groups[group] = struct{}{}
		c.mu.Unlock()
	}
	return err
}

// LeaveGroup leaves group and returns when the service acknowledged it.
func (c *Client) LeaveGroup(ctx context.Context, group string) error {
	if err := checkGroup(group); err != nil {
		return err
	}
	err := c.invoke(ctx, &request{Type: wire.TypeLeaveGroup, Group: group}, 0)
	if err == nil {
		c.mu.Lock()
		delete(c.groups, group)
		c.mu.Unlock()
	}
	return err
}

// SendToGroup publishes data to group (the token needs the
// webpubsub.sendToGroup role or that of the group). Unless
// opts.FireAndForget is set it returns when the service acknowledged the
// message; a message interrupted by a drop is sent again after the
// recovery with the same ack id, so it is published once. opts may be nil.
func (c *Client) SendToGroup(ctx context.Context, group string, data Payload, opts *SendToGroupOptions) error {
	if err := checkGroup(group); err != nil {
		return err
	}
	if err := data.check(); err != nil {
		return err
	}
	var o SendToGroupOptions
	if opts != nil {
		o = *opts
	}
	r := &request{Type: wire.TypeSendToGroup, Group: group, NoEcho: o.NoEcho, DataType: data.dataType, Data: data.data}
	if o.FireAndForget {
		return c.fireAndForget(ctx, r)
	}
	return c.invoke(ctx, r, o.AckID)
}

// SendEvent sends the event to the app's event handler (the user event
// of the CloudEvents upstream). Unless opts.FireAndForget is set it
// returns when the service acknowledged it. opts may be nil.
func (c *Client) SendEvent(ctx context.Context, event string, data Payload, opts *SendEventOptions) error {
	if event == "" || !utf8.ValidString(event) {
		return errors.New("wsclient: SendEvent needs an event name of valid UTF-8")
	}
	if err := data.check(); err != nil {
		return err
	}
	var o SendEventOptions
	if opts != nil {
		o = *opts
	}
	r := &request{Type: wire.TypeEvent, Event: event, DataType: data.dataType, Data: data.data}
	if o.FireAndForget {
		return c.fireAndForget(ctx, r)
	}
	return c.invoke(ctx, r, o.AckID)
}

// checkGroup applies the service's rule for group names before any I/O.
func checkGroup(g string) error {
	const rule = "a group name is valid UTF-8 of 1 to 1024 characters and not only whitespace"
	switch {
	case !utf8.ValidString(g):
		// encoding/json would send U+FFFD instead: another group.
		return fmt.Errorf("wsclient: group %q is not valid UTF-8: %s", oneLine(g), rule)
	case strings.TrimSpace(g) == "":
		return fmt.Errorf("wsclient: group %q: %s", g, rule)
	case utf8.RuneCountInString(g) > 1024:
		return fmt.Errorf("wsclient: group %q has %d characters: %s", oneLine(g), utf8.RuneCountInString(g), rule)
	}
	return nil
}

// running returns nil while the client runs.
func (c *Client) runningLocked() error {
	switch c.state {
	case stateRunning:
		if c.msgs != nil {
			return nil
		}
		return fmt.Errorf("%w: the client is still starting", ErrStopped)
	case stateNew:
		return fmt.Errorf("%w: call Start first", ErrStopped)
	}
	return ErrStopped
}

// invoke sends r with an ack id and waits for the ack. Without a
// connection the request waits for the next one.
func (c *Client) invoke(ctx context.Context, r *request, ackID uint64) error {
	c.mu.Lock()
	if err := c.runningLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	if ackID == 0 {
		for {
			c.nextAckID++
			if _, used := c.pending[c.nextAckID]; !used {
				break
			}
		}
		ackID = c.nextAckID
	} else if _, used := c.pending[ackID]; used {
		c.mu.Unlock()
		return fmt.Errorf("wsclient: ack id %d is used by a request still waiting for its ack", ackID)
	}
	r.AckID = ackID
	b, err := marshal(r)
	if err != nil {
		c.mu.Unlock()
		return fmt.Errorf("wsclient: encoding the %s request: %w", r.Type, err)
	}
	p := &pendingOp{id: ackID, frame: b, done: make(chan error, 1)}
	c.pending[ackID] = p
	s := c.sock
	if s != nil {
		p.sent = true
	}
	c.mu.Unlock()
	if s != nil {
		// A failed write is not final: the request is sent again on the
		// recovered connection, or fails with ErrAckLost.
		_ = c.write(s.ws, b)
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("%s: %w", r.Type, err)
		}
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if c.pending[ackID] == p { // not a later request given the same id
			delete(c.pending, ackID)
		}
		c.mu.Unlock()
		return fmt.Errorf("wsclient: %s: waiting for ack %d%s: %w", r.Type, ackID, c.queueFullHint(), ctx.Err())
	}
}

// fireAndForget writes r without an ack id, waiting for a connection if
// there is none.
func (c *Client) fireAndForget(ctx context.Context, r *request) error {
	b, err := marshal(r)
	if err != nil {
		return fmt.Errorf("wsclient: encoding the %s request: %w", r.Type, err)
	}
	for {
		c.mu.Lock()
		if err := c.runningLocked(); err != nil {
			c.mu.Unlock()
			return err
		}
		s, ready := c.sock, c.ready
		c.mu.Unlock()
		if s != nil {
			if err := s.ws.Write(ctx, websocket.MessageText, b); err != nil {
				return fmt.Errorf("wsclient: %s: %w", r.Type, err)
			}
			return nil
		}
		select {
		case <-ready:
		case <-c.done:
			return ErrStopped
		case <-ctx.Done():
			return fmt.Errorf("wsclient: %s: waiting for a connection: %w", r.Type, ctx.Err())
		}
	}
}

// queueFullHint explains a missing ack when the receive queue is full:
// the reader waits for room, so acks behind the queued messages wait too.
func (c *Client) queueFullHint() string {
	c.mu.Lock()
	q, cb := c.msgs, c.queue
	c.mu.Unlock()
	if cb != nil && c.opts.OnMessage != nil {
		if cb.len() >= c.opts.ReceiveQueue {
			return " (the callback queue is full: OnMessage is too slow, and acks wait behind the messages)"
		}
		return ""
	}
	if q != nil && q.len() >= c.opts.ReceiveQueue {
		return fmt.Sprintf(" (the receive queue is full with %d messages: read them with Receive or Messages, or send with NoEcho; acks wait behind them)", c.opts.ReceiveQueue)
	}
	return ""
}
