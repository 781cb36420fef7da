package webpubsub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// GroupClient runs the operations of one group of a Client's hub, like the
// JavaScript SDK's hub.group(name). Get one with Client.Group; it is cheap
// and safe for concurrent use.
type GroupClient struct {
	c    *Client
	name string
}

// Group returns a client for the group name. The name is checked when an
// operation runs (1 to 1024 characters, not only whitespace).
func (c *Client) Group(name string) *GroupClient { return &GroupClient{c: c, name: name} }

// Name returns the group's name.
func (g *GroupClient) Name() string { return g.name }

// Send is Client.SendToGroup for this group.
func (g *GroupClient) Send(ctx context.Context, msg Message, opts *SendToGroupOptions) error {
	return g.c.SendToGroup(ctx, g.name, msg, opts)
}

// AddConnection is Client.AddConnectionToGroup for this group.
func (g *GroupClient) AddConnection(ctx context.Context, connectionID string) error {
	return g.c.AddConnectionToGroup(ctx, g.name, connectionID)
}

// RemoveConnection is Client.RemoveConnectionFromGroup for this group.
func (g *GroupClient) RemoveConnection(ctx context.Context, connectionID string) error {
	return g.c.RemoveConnectionFromGroup(ctx, g.name, connectionID)
}

// AddUser is Client.AddUserToGroup for this group.
func (g *GroupClient) AddUser(ctx context.Context, userID string) error {
	return g.c.AddUserToGroup(ctx, g.name, userID)
}

// RemoveUser is Client.RemoveUserFromGroup for this group.
func (g *GroupClient) RemoveUser(ctx context.Context, userID string) error {
	return g.c.RemoveUserFromGroup(ctx, g.name, userID)
}

// Exists is Client.GroupExists for this group.
func (g *GroupClient) Exists(ctx context.Context) (bool, error) {
	return g.c.GroupExists(ctx, g.name)
}

// CloseConnections is Client.CloseGroupConnections for this group.
func (g *GroupClient) CloseConnections(ctx context.Context, opts *CloseConnectionsOptions) error {
	return g.c.CloseGroupConnections(ctx, g.name, opts)
}

// ListConnections is Client.ListConnectionsInGroup for this group.
func (g *GroupClient) ListConnections(ctx context.Context, opts *ListConnectionsOptions) iter.Seq2[GroupMember, error] {
	return g.c.ListConnectionsInGroup(ctx, g.name, opts)
}

// ListConnectionPages is Client.ListConnectionsInGroupPages for this group.
func (g *GroupClient) ListConnectionPages(ctx context.Context, opts *ListConnectionsOptions) iter.Seq2[ConnectionsPage, error] {
	return g.c.ListConnectionsInGroupPages(ctx, g.name, opts)
}

// GroupMember is one connection in a group.
type GroupMember struct {
	// ConnectionID is the connection's id.
	ConnectionID string
	// UserID is the user the connection belongs to; empty for anonymous
	// connections.
	UserID string
}

// ListConnectionsOptions are the optional parameters of
// ListConnectionsInGroup and ListConnectionsInGroupPages.
type ListConnectionsOptions struct {
	// PageSize is the most members the service returns per request, 1 to
	// 200; 0 lets the service choose.
	PageSize int
	// Top is the most members to return in total (from ContinuationToken
	// on, when it is set); 0 means all.
	Top int
	// ContinuationToken starts the listing where an earlier one stopped:
	// pass the ContinuationToken of the last ConnectionsPage that was
	// handled, and the listing yields exactly the members after it. Empty
	// starts at the beginning.
	ContinuationToken string
}

// ConnectionsPage is one page of ListConnectionsInGroupPages.
type ConnectionsPage struct {
	// Members are the connections on this page.
	Members []GroupMember
	// ContinuationToken resumes the listing after this page (set it as
	// ListConnectionsOptions.ContinuationToken, in this process or a later
	// one); empty on the last page, which is also the page where Top was
	// reached. It is the service's own token.
	ContinuationToken string
}

// maxPageBody bounds the size of one page of members: a page holds at
// most 200 members (maxpagesize), each a connection id and a user id, so
// even with every character escaped a real page stays far below it.
const maxPageBody = 8 << 20

// maxContinuationToken bounds a continuation token given back to the
// client.
const maxContinuationToken = 4 << 10

// ListConnectionsInGroup iterates over the connections in group (GET
// /api/hubs/{hub}/groups/{group}/connections), requesting further pages by
// following each page's nextLink (with the client's api-version added if
// the link lacks it, and signed like every request). Needs api-version
// 2024-12-01. Bad arguments and failed requests are yielded once as the
// error, after which iteration stops:
//
//	for m, err := range client.ListConnectionsInGroup(ctx, "chat", nil) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(m.ConnectionID, m.UserID)
//	}
//
// To resume a listing later or split it across requests, use
// ListConnectionsInGroupPages, which exposes each page's continuation
// token.
func (c *Client) ListConnectionsInGroup(ctx context.Context, group string, opts *ListConnectionsOptions) iter.Seq2[GroupMember, error] {
	return func(yield func(GroupMember, error) bool) {
		for page, err := range c.ListConnectionsInGroupPages(ctx, group, opts) {
			if err != nil {
				yield(GroupMember{}, err)
				return
			}
			for _, m := range page.Members {
				if !yield(m, nil) {
					return
				}
			}
		}
	}
}

// ListConnectionsInGroupPages is ListConnectionsInGroup a page at a time:
// it yields each page with the token that resumes the listing after it
// (see ListConnectionsOptions.ContinuationToken), one request per page.
// A failed request is yielded once as the error, after which iteration
// stops; resume from the last page's token:
//
//	opts := &webpubsub.ListConnectionsOptions{ContinuationToken: saved}
//	for page, err := range client.ListConnectionsInGroupPages(ctx, "chat", opts) {
//		if err != nil {
//			return err
//		}
//		handle(page.Members)
//		saved = page.ContinuationToken // persist it to resume after a crash
//	}
func (c *Client) ListConnectionsInGroupPages(ctx context.Context, group string, opts *ListConnectionsOptions) iter.Seq2[ConnectionsPage, error] {
	const op = "ListConnectionsInGroup"
	var o ListConnectionsOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(ConnectionsPage, error) bool) {
		fail := func(err error) { yield(ConnectionsPage{}, err) }
		if err := checkCtx(ctx); err != nil {
			fail(err)
			return
		}
		if err := validGroup(group); err != nil {
			fail(err)
			return
		}
		if o.PageSize < 0 || o.PageSize > wire.MaxPageSize {
			fail(invalidArg("PageSize %d must be from 1 to %d (0 lets the service choose)", o.PageSize, wire.MaxPageSize))
			return
		}
		if o.Top < 0 || int64(o.Top) > 1<<31-1 {
			fail(invalidArg("Top %d must be at least 1 (0 means all members)", o.Top))
			return
		}
		if len(o.ContinuationToken) > maxContinuationToken {
			fail(invalidArg("ContinuationToken is longer than %d bytes; pass a page's ContinuationToken unchanged", maxContinuationToken))
			return
		}
		if err := c.needVersion(wire.APIVersion20241201, op); err != nil {
			fail(err)
			return
		}
		params := gen.ListConnectionsInGroupParams{APIVersion: c.apiVersion}
		if o.PageSize > 0 {
			n := int32(o.PageSize)
			params.Maxpagesize = &n
		}
		if o.Top > 0 {
			n := int32(o.Top)
			params.Top = &n
		}
		if o.ContinuationToken != "" {
			params.ContinuationToken = &o.ContinuationToken
		}
		req, err := gen.NewListConnectionsInGroupRequest(c.server, c.hub, group, &params)
		if err != nil {
			fail(invalidArg("%s: building the request: %v", op, err))
			return
		}
		first := *req.URL
		seen := map[string]bool{}
		yielded := 0
		for req != nil {
			page, err := c.fetchPage(ctx, op, req)
			if err != nil {
				fail(err)
				return
			}
			out := ConnectionsPage{Members: make([]GroupMember, 0, len(page.Value))}
			for _, m := range page.Value {
				if o.Top > 0 && yielded >= o.Top {
					break
				}
				gm := GroupMember{ConnectionID: m.ConnectionID}
				if m.UserID != nil {
					gm.UserID = *m.UserID
				}
				out.Members = append(out.Members, gm)
				yielded++
			}
			last := page.NextLink == nil || *page.NextLink == "" || (o.Top > 0 && yielded >= o.Top)
			var next *url.URL
			if !last {
				next, err = c.nextPageURL(&first, *page.NextLink)
				if err != nil {
					if yield(out, nil) { // the page's members are good; then the error
						fail(err)
					}
					return
				}
				out.ContinuationToken = next.Query().Get(wire.QueryContinuationToken)
			}
			if !yield(out, nil) || last {
				return
			}
			if seen[next.String()] {
				fail(newTransportError(op, http.MethodGet, next.String(), req.Header.Get(wire.HeaderClientRequestID), errLoopingNextLink, nil))
				return
			}
			seen[next.String()] = true
			req, err = http.NewRequest(http.MethodGet, next.String(), nil)
			if err != nil {
				fail(invalidArg("%s: next page: %v", op, err))
				return
			}
		}
	}
}

var errLoopingNextLink = errorString("the service returned the same nextLink twice; stopping to avoid an endless loop")

// errorString is a constant-friendly error type.
type errorString string

func (e errorString) Error() string { return string(e) }

// fetchPage sends one list request and decodes its page. A page whose
// body breaks off (a connection reset or truncated response after the
// status) is fetched again under the retry policy, as GET is idempotent.
func (c *Client) fetchPage(ctx context.Context, op string, req *http.Request) (*gen.GroupMemberPagedValues, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.pipe.do(ctx, op, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, newResponseError(op, resp, c.pipe.auth.secrets())
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBody+1))
		discard(resp)
		if err == nil && len(body) > maxPageBody {
			return nil, newTransportError(op, req.Method, req.URL.String(), req.Header.Get(wire.HeaderClientRequestID),
				errorString(fmt.Sprintf("the service sent a page of more than %d MiB (a page holds at most 200 members): refused without decoding it", maxPageBody>>20)), c.pipe.auth.secrets())
		}
		if err != nil {
			if ctx.Err() == nil && attempt <= c.pipe.retry.MaxRetries {
				if err := c.pipe.sleep(ctx, c.pipe.retry.delay(attempt, nil, c.pipe.now())); err == nil {
					continue
				}
			}
			return nil, newTransportError(op, req.Method, req.URL.String(), req.Header.Get(wire.HeaderClientRequestID), errorString("reading the page: "+unwrapURLError(err).Error()), c.pipe.auth.secrets())
		}
		var page gen.GroupMemberPagedValues
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, newTransportError(op, req.Method, req.URL.String(), req.Header.Get(wire.HeaderClientRequestID), errorString("decoding the page: "+err.Error()), c.pipe.auth.secrets())
		}
		return &page, nil
	}
}

// nextPageURL turns a nextLink into the URL of the next request. A link
// to the client's own endpoint host is used as is; a link to any other
// host (tokens must never be sent elsewhere) contributes only its query,
// applied to the first page's URL. The api-version is added if missing.
func (c *Client) nextPageURL(first *url.URL, link string) (*url.URL, error) {
	l, err := first.Parse(link)
	if err != nil {
		return nil, newTransportError("ListConnectionsInGroup", http.MethodGet, first.String(), "", errorString("the service returned an invalid nextLink"), nil)
	}
	var next url.URL
	if l.Scheme == first.Scheme && l.Host == first.Host {
		next = *l
	} else {
		next = *first
		next.RawQuery = l.RawQuery
	}
	next.Fragment = ""
	q := next.Query()
	if q.Get(wire.QueryAPIVersion) == "" {
		q.Set(wire.QueryAPIVersion, c.apiVersion)
		next.RawQuery = q.Encode()
	}
	return &next, nil
}

// GroupExists reports whether group has at least one connection (HEAD
// /api/hubs/{hub}/groups/{group}): 200 is true, 404 is false, anything
// else a *ResponseError.
func (c *Client) GroupExists(ctx context.Context, group string) (bool, error) {
	if err := firstError(checkCtx(ctx), validGroup(group)); err != nil {
		return false, err
	}
	req, err := gen.NewGroupExistsRequest(c.server, c.hub, group, &gen.GroupExistsParams{APIVersion: c.apiVersion})
	return c.exists(ctx, "GroupExists", req, err)
}

// AddConnectionToGroup adds a connection to group (PUT
// /api/hubs/{hub}/groups/{group}/connections/{connectionId}). Errors:
// ErrInvalidArgument, *ResponseError (404 if the connection is unknown).
func (c *Client) AddConnectionToGroup(ctx context.Context, group, connectionID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("connection id", connectionID)); err != nil {
		return err
	}
	req, err := gen.NewAddConnectionToGroupRequest(c.server, c.hub, group, connectionID, &gen.AddConnectionToGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "AddConnectionToGroup", req, err)
}

// RemoveConnectionFromGroup removes a connection from group (DELETE
// /api/hubs/{hub}/groups/{group}/connections/{connectionId}). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) RemoveConnectionFromGroup(ctx context.Context, group, connectionID string) error {
	if err := firstError(checkCtx(ctx), validGroup(group), validID("connection id", connectionID)); err != nil {
		return err
	}
	req, err := gen.NewRemoveConnectionFromGroupRequest(c.server, c.hub, group, connectionID, &gen.RemoveConnectionFromGroupParams{APIVersion: c.apiVersion})
	return c.run(ctx, "RemoveConnectionFromGroup", req, err)
}

func validGroups(groups []string) error {
	if len(groups) == 0 {
		return invalidArg("no groups given")
	}
	for _, g := range groups {
		if err := validGroup(g); err != nil {
			return err
		}
	}
	return nil
}

// AddConnectionsToGroups adds every connection that filter selects to each
// of groups (POST /api/hubs/{hub}/:addToGroups). An empty filter selects
// every connection of the hub. Needs api-version 2024-01-01 or later.
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) AddConnectionsToGroups(ctx context.Context, groups []string, filter string) error {
	const op = "AddConnectionsToGroups"
	if err := firstError(checkCtx(ctx), validGroups(groups), c.needVersion(wire.APIVersion20240101, op)); err != nil {
		return err
	}
	body := gen.AddToGroupsRequest{Groups: groups, Filter: reasonParam(filter)}
	req, err := gen.NewAddConnectionsToGroupsRequest(c.server, c.hub, &gen.AddConnectionsToGroupsParams{APIVersion: c.apiVersion}, body)
	return c.run(ctx, op, req, err)
}

// RemoveConnectionsFromGroups removes every connection that filter selects
// from each of groups (POST /api/hubs/{hub}/:removeFromGroups). An empty
// filter selects every connection. Needs api-version 2024-01-01 or later.
// Errors: ErrInvalidArgument, *ResponseError.
func (c *Client) RemoveConnectionsFromGroups(ctx context.Context, groups []string, filter string) error {
	const op = "RemoveConnectionsFromGroups"
	if err := firstError(checkCtx(ctx), validGroups(groups), c.needVersion(wire.APIVersion20240101, op)); err != nil {
		return err
	}
	body := gen.RemoveFromGroupsRequest{Groups: groups, Filter: reasonParam(filter)}
	req, err := gen.NewRemoveConnectionsFromGroupsRequest(c.server, c.hub, &gen.RemoveConnectionsFromGroupsParams{APIVersion: c.apiVersion}, body)
	return c.run(ctx, op, req, err)
}

// CloseGroupConnections closes every connection in group (POST
// /api/hubs/{hub}/groups/{group}/:closeConnections). Errors:
// ErrInvalidArgument, *ResponseError.
func (c *Client) CloseGroupConnections(ctx context.Context, group string, opts *CloseConnectionsOptions) error {
	if err := firstError(checkCtx(ctx), validGroup(group)); err != nil {
		return err
	}
	params := gen.CloseGroupConnectionsParams{APIVersion: c.apiVersion}
	if opts != nil {
		var err error
		if params.Excluded, err = validExcluded(opts.Excluded); err != nil {
			return err
		}
		params.Reason = reasonParam(opts.Reason)
	}
	req, err := gen.NewCloseGroupConnectionsRequest(c.server, c.hub, group, &params)
	return c.run(ctx, "CloseGroupConnections", req, err)
}
