package webpubsub

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/webpubsub-go/sdk/gen"
)

// SendToAllOptions are the optional parameters of SendToAll.
type SendToAllOptions struct {
	// Filter is an OData filter that selects which connections receive the
	// message; build it with Filter to quote values safely. Needs
	// api-version 2022-11-01 or later.
	Filter string
	// Excluded lists connection ids that do not receive the message.
	Excluded []string
	// TTL is how long the message may wait for a slow client before the
	// service drops it: whole seconds from 1s to 5m. 0 means it never
	// expires. Needs api-version 2024-01-01 or later.
	TTL time.Duration
}

// SendToUserOptions are the optional parameters of SendToUser.
type SendToUserOptions struct {
	// Filter selects which of the user's connections receive the message.
	// Needs api-version 2022-11-01 or later.
	Filter string
	// TTL is as in SendToAllOptions.
	TTL time.Duration
}

// SendToConnectionOptions are the optional parameters of SendToConnection.
type SendToConnectionOptions struct {
	// TTL is as in SendToAllOptions.
	TTL time.Duration
}

// SendToGroupOptions are the optional parameters of SendToGroup.
type SendToGroupOptions struct {
	// Filter selects which of the group's connections receive the message.
	// Needs api-version 2022-11-01 or later.
	Filter string
	// Excluded lists connection ids that do not receive the message.
	Excluded []string
	// TTL is as in SendToAllOptions.
	TTL time.Duration
}

// SendToAll sends msg to every connection of the hub (POST
// /api/hubs/{hub}/:send). The service accepts the message (202) and
// delivers it asynchronously. Errors: ErrInvalidArgument for bad input,
// *ResponseError for an unexpected status.
func (c *Client) SendToAll(ctx context.Context, msg Message, opts *SendToAllOptions) error {
	const op = "SendToAll"
	if err := checkCtx(ctx); err != nil {
		return err
	}
	var o SendToAllOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToAllParams{APIVersion: c.apiVersion}
	var err error
	if params.Excluded, err = validExcluded(o.Excluded); err != nil {
		return err
	}
	if params.Filter, err = c.filterParam(o.Filter); err != nil {
		return err
	}
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	req, err := c.sendToAllRequest(ctx, op, &params, &msg)
	if err != nil {
		return err
	}
	return c.run(ctx, op, req, nil)
}

// sendToAllRequest builds the request of a SendToAll: from the cached
// template when params carry no option, else with the generated builder.
func (c *Client) sendToAllRequest(ctx context.Context, op string, params *gen.SendToAllParams, msg *Message) (*http.Request, error) {
	if req, ok, err := c.newSendToAllRequest(ctx, params, msg); ok {
		if err != nil {
			return nil, invalidArg("%s: building the request: %v", op, err)
		}
		return req, nil
	}
	return sendRequest(op, msg, func(body io.Reader) (*http.Request, error) {
		return gen.NewSendToAllRequestWithBody(c.server, c.hub, params, msg.contentType, body)
	})
}

// sendRequest builds a send's request with build from msg's body, and
// makes a seekable Stream replayable for retries. A bad message is its own
// error (ErrInvalidArgument); a failed build is named with op.
func sendRequest(op string, msg *Message, build func(body io.Reader) (*http.Request, error)) (*http.Request, error) {
	body, replay, err := sendBody(msg)
	if err != nil {
		return nil, err
	}
	req, err := build(body)
	if err != nil {
		return nil, invalidArg("%s: building the request: %v", op, err)
	}
	if replay != nil {
		replay(req)
	}
	return req, nil
}

// SendToUser sends msg to every connection of userID (POST
// /api/hubs/{hub}/users/{userId}/:send). A user with no connections is not
// an error. Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) SendToUser(ctx context.Context, userID string, msg Message, opts *SendToUserOptions) error {
	const op = "SendToUser"
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return err
	}
	var o SendToUserOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToUserParams{APIVersion: c.apiVersion}
	var err error
	if params.Filter, err = c.filterParam(o.Filter); err != nil {
		return err
	}
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	req, err := sendRequest(op, &msg, func(body io.Reader) (*http.Request, error) {
		return gen.NewSendToUserRequestWithBody(c.server, c.hub, userID, &params, msg.contentType, body)
	})
	if err != nil {
		return err
	}
	return c.run(ctx, op, req, nil)
}

// SendToConnection sends msg to one connection (POST
// /api/hubs/{hub}/connections/{connectionId}/:send). An unknown connection
// is not an error. Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) SendToConnection(ctx context.Context, connectionID string, msg Message, opts *SendToConnectionOptions) error {
	const op = "SendToConnection"
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID)); err != nil {
		return err
	}
	var o SendToConnectionOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToConnectionParams{APIVersion: c.apiVersion}
	var err error
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	req, err := sendRequest(op, &msg, func(body io.Reader) (*http.Request, error) {
		return gen.NewSendToConnectionRequestWithBody(c.server, c.hub, connectionID, &params, msg.contentType, body)
	})
	if err != nil {
		return err
	}
	return c.run(ctx, op, req, nil)
}

// SendToGroup sends msg to every connection in group (POST
// /api/hubs/{hub}/groups/{group}/:send). An empty group is not an error.
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) SendToGroup(ctx context.Context, group string, msg Message, opts *SendToGroupOptions) error {
	const op = "SendToGroup"
	if err := firstError(checkCtx(ctx), validGroup(group)); err != nil {
		return err
	}
	var o SendToGroupOptions
	if opts != nil {
		o = *opts
	}
	params := gen.SendToGroupParams{APIVersion: c.apiVersion}
	var err error
	if params.Excluded, err = validExcluded(o.Excluded); err != nil {
		return err
	}
	if params.Filter, err = c.filterParam(o.Filter); err != nil {
		return err
	}
	if params.MessageTTLSeconds, err = c.ttlSeconds(o.TTL); err != nil {
		return err
	}
	req, err := sendRequest(op, &msg, func(body io.Reader) (*http.Request, error) {
		return gen.NewSendToGroupRequestWithBody(c.server, c.hub, group, &params, msg.contentType, body)
	})
	if err != nil {
		return err
	}
	return c.run(ctx, op, req, nil)
}
