package webpubsub

import (
	"context"

	"github.com/webpubsub-go/sdk/gen"
)

// CloseUserConnections closes every connection of userID (POST
// /api/hubs/{hub}/users/{userId}/:closeConnections). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) CloseUserConnections(ctx context.Context, userID string, opts *CloseConnectionsOptions) error {
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return err
	}
	params := gen.CloseUserConnectionsParams{APIVersion: c.apiVersion}
	if opts != nil {
		var err error
		if params.Excluded, err = validExcluded(opts.Excluded); err != nil {
			return err
		}
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseUserConnectionsRequest(c.server, c.hub, userID, &params)
	return c.run(ctx, "CloseUserConnections", req, err)
}

// UserExists reports whether userID has at least one connection (HEAD
// /api/hubs/{hub}/users/{userId}): 200 is true, 404 is false, anything
// else a *ResponseError.
func (c *Client) UserExists(ctx context.Context, userID string) (bool, error) {
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return false, err
	}
	req, err := gen.NewUserExistsRequest(c.server, c.hub, userID, &gen.UserExistsParams{APIVersion: c.apiVersion})
	return c.exists(ctx, "UserExists", req, err)
}

// AddUserToGroup adds every connection userID has open to group
// (PUT /api/hubs/{hub}/users/{userId}/groups/{group}). The service stores
// nothing for the user: connections it opens later do not join, so add
// those when they connect (for example from a connected event handler, or
// with groups in the client access token). A user with no open connection
// is a *ResponseError with StatusCode 404 and ErrorCode
// "Warning.User.NotExisted". Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) AddUserToGroup(ctx context.Context, group, userID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("user id", userID)); err != nil {
		return err
	}
	req, err := gen.NewAddUserToGroupRequest(c.server, c.hub, userID, group, &gen.AddUserToGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "AddUserToGroup", req, err)
}

// RemoveUserFromGroup removes userID from group (DELETE
// /api/hubs/{hub}/users/{userId}/groups/{group}). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) RemoveUserFromGroup(ctx context.Context, group, userID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("user id", userID)); err != nil {
		return err
	}
	req, err := gen.NewRemoveUserFromGroupRequest(c.server, c.hub, userID, group, &gen.RemoveUserFromGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "RemoveUserFromGroup", req, err)
}

// RemoveUserFromAllGroups removes userID from every group (DELETE
// /api/hubs/{hub}/users/{userId}/groups). Errors: ErrInvalidArgument,
// *ResponseError.
func (c *Client) RemoveUserFromAllGroups(ctx context.Context, userID string) error {
	if err := firstError(checkCtx(ctx), validID("user id", userID)); err != nil {
		return err
	}
	req, err := gen.NewRemoveUserFromAllGroupsRequest(c.server, c.hub, userID, &gen.RemoveUserFromAllGroupsParams{APIVersion: c.apiVersion})
	return c.run(ctx, "RemoveUserFromAllGroups", req, err)
}
