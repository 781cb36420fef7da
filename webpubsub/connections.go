package webpubsub

import (
	"context"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// CloseConnectionOptions are the optional parameters of CloseConnection.
type CloseConnectionOptions struct {
	// Reason is shown to the client in its disconnected message.
	Reason string
}

// CloseConnectionsOptions are the optional parameters of
// CloseAllConnections, CloseGroupConnections and CloseUserConnections.
type CloseConnectionsOptions struct {
	// Reason is shown to the clients in their disconnected message.
	Reason string
	// Excluded lists connection ids that stay open.
	Excluded []string
}

func reasonParam(r string) *string {
	if r == "" {
		return nil
	}
	return &r
}

// CloseConnection closes one connection (DELETE
// /api/hubs/{hub}/connections/{connectionId}). Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) CloseConnection(ctx context.Context, connectionID string, opts *CloseConnectionOptions) error {
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID)); err != nil {
		return err
	}
	params := gen.CloseConnectionParams{APIVersion: c.apiVersion}
	if opts != nil {
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseConnectionRequest(c.server, c.hub, connectionID, &params)
	return c.run(ctx, "CloseConnection", req, err)
}

// CloseAllConnections closes every connection of the hub (POST
// /api/hubs/{hub}/:closeConnections). Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) CloseAllConnections(ctx context.Context, opts *CloseConnectionsOptions) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	params := gen.CloseAllConnectionsParams{APIVersion: c.apiVersion}
	if opts != nil {
		var err error
		if params.Excluded, err = validExcluded(opts.Excluded); err != nil {
			return err
		}
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseAllConnectionsRequest(c.server, c.hub, &params)
	return c.run(ctx, "CloseAllConnections", req, err)
}

// ConnectionExists reports whether the connection is open (HEAD
// /api/hubs/{hub}/connections/{connectionId}): 200 is true, 404 is false
// with a nil error, any other status is a *ResponseError.
func (c *Client) ConnectionExists(ctx context.Context, connectionID string) (bool, error) {
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID)); err != nil {
		return false, err
	}
	req, err := gen.NewConnectionExistsRequest(c.server, c.hub, connectionID, &gen.ConnectionExistsParams{APIVersion: c.apiVersion})
	return c.exists(ctx, "ConnectionExists", req, err)
}

// RemoveConnectionFromAllGroups removes a connection from every group it
// is in (DELETE /api/hubs/{hub}/connections/{connectionId}/groups). Needs
// api-version 2022-11-01 or later. Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) RemoveConnectionFromAllGroups(ctx context.Context, connectionID string) error {
	const op = "RemoveConnectionFromAllGroups"
	if err := firstError(checkCtx(ctx), validID("connection id", connectionID), c.needVersion(wire.APIVersion20221101, op)); err != nil {
		return err
	}
	req, err := gen.NewRemoveConnectionFromAllGroupsRequest(c.server, c.hub, connectionID, &gen.RemoveConnectionFromAllGroupsParams{APIVersion: c.apiVersion})
	return c.run(ctx, op, req, err)
}
