package webpubsub

import (
	"context"

	"github.com/webpubsub-go/sdk/gen"
)

// Permission is a right a connection can be granted.
type Permission string

// The permissions the service knows.
const (
	// PermissionSendToGroup lets a client send to a group.
	PermissionSendToGroup Permission = "sendToGroup"
	// PermissionJoinLeaveGroup lets a client join and leave a group.
	PermissionJoinLeaveGroup Permission = "joinLeaveGroup"
)

// PermissionOptions are the optional parameters of the permission
// operations.
type PermissionOptions struct {
	// TargetGroup limits the permission to one group; empty means every
	// group.
	TargetGroup string
}

func (c *Client) permissionArgs(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) (*string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if p != PermissionSendToGroup && p != PermissionJoinLeaveGroup {
		return nil, invalidArg("permission %q is neither %q nor %q", p, PermissionSendToGroup, PermissionJoinLeaveGroup)
	}
	if err := validID("connection id", connectionID); err != nil {
		return nil, err
	}
	if opts == nil || opts.TargetGroup == "" {
		return nil, nil
	}
	if err := validGroup(opts.TargetGroup); err != nil {
		return nil, err
	}
	t := opts.TargetGroup
	return &t, nil
}

// GrantPermission grants a permission to a connection (PUT
// /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}).
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) GrantPermission(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) error {
	target, err := c.permissionArgs(ctx, p, connectionID, opts)
	if err != nil {
		return err
	}
	req, err := gen.NewGrantPermissionRequest(c.server, c.hub, gen.Permission(p), connectionID, &gen.GrantPermissionParams{APIVersion: c.apiVersion, TargetName: target})
	return c.run(ctx, "GrantPermission", req, err)
}

// RevokePermission revokes a permission from a connection (DELETE
// /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}).
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) RevokePermission(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) error {
	target, err := c.permissionArgs(ctx, p, connectionID, opts)
	if err != nil {
		return err
	}
	req, err := gen.NewRevokePermissionRequest(c.server, c.hub, gen.Permission(p), connectionID, &gen.RevokePermissionParams{APIVersion: c.apiVersion, TargetName: target})
	return c.run(ctx, "RevokePermission", req, err)
}

// HasPermission reports whether a connection has a permission (HEAD
// /api/hubs/{hub}/permissions/{permission}/connections/{connectionId}):
// 200 is true, 404 is false, anything else a *ResponseError.
func (c *Client) HasPermission(ctx context.Context, p Permission, connectionID string, opts *PermissionOptions) (bool, error) {
	target, err := c.permissionArgs(ctx, p, connectionID, opts)
	if err != nil {
		return false, err
	}
	req, err := gen.NewCheckPermissionRequest(c.server, c.hub, gen.Permission(p), connectionID, &gen.CheckPermissionParams{APIVersion: c.apiVersion, TargetName: target})
	return c.exists(ctx, "HasPermission", req, err)
}
