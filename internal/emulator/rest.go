package emulator

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webpubsub-go/sdk/gen"
	"github.com/webpubsub-go/sdk/internal/odata"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// restAPI implements the generated strict server on top of the engine.
type restAPI struct{ e *Emulator }

var _ gen.StrictServerInterface = (*restAPI)(nil)

type ctxKey int

const requestKey ctxKey = iota

// restRequest is what the HTTP layer hands to the strict handlers: the
// original request and its body bytes, read once and bounded.
type restRequest struct {
	r    *http.Request
	body []byte
}

func requestFrom(ctx context.Context) *restRequest {
	rr, _ := ctx.Value(requestKey).(*restRequest)
	if rr == nil { // only reachable if the strict server is mounted without the HTTP layer
		return &restRequest{r: &http.Request{URL: &url.URL{}, Header: http.Header{}}}
	}
	return rr
}

// Defaults and limits of ListConnectionsInGroup.
const (
	defaultPageSize = 200
	maxPageSize     = wire.MaxPageSize
)

// firstError returns the first non-nil error among checks: request checks,
// which are cheap and free of side effects, evaluated in order.
func firstError(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkHub(hub string) error {
	if err := validateHub(hub); err != nil {
		return badRequest("InvalidHub", "%v", err)
	}
	return nil
}

func checkGroup(group string) error {
	if err := validateGroup(group); err != nil {
		return badRequest("InvalidGroup", "%v", err)
	}
	return nil
}

func checkID(what, v string) error {
	if v == "" {
		return badRequest("InvalidParameter", "the %s is empty", what)
	}
	return nil
}

func checkTTL(ttl *int32) error {
	if ttl != nil && (*ttl < 0 || *ttl > wire.MaxMessageTTLSeconds) {
		return badRequest("InvalidMessageTtl", "messageTtlSeconds is %d: use 0 (no expiry) to %d", *ttl, wire.MaxMessageTTLSeconds)
	}
	return nil
}

func parseFilter(s *string) (*odata.Filter, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil, nil
	}
	f, err := odata.Parse(*s)
	if err != nil {
		return nil, badRequest("InvalidFilter", "invalid filter: %v", err)
	}
	return f, nil
}

// message builds a delivery from the request body and Content-Type.
func message(ctx context.Context, from, group string, ttl *int32) (*delivery, error) {
	rr := requestFrom(ctx)
	p, err := payloadFromContentType(rr.r.Header.Get(wire.HeaderContentType), rr.body)
	if err != nil {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "UnsupportedContentType", message: err.Error()}
	}
	d := &delivery{from: from, group: group, payload: p}
	if ttl != nil && *ttl > 0 {
		d.expires = time.Now().Add(time.Duration(*ttl) * time.Second)
	}
	return d, nil
}

// GetServiceStatus reports health.
func (a *restAPI) GetServiceStatus(context.Context, gen.GetServiceStatusRequestObject) (gen.GetServiceStatusResponseObject, error) {
	return gen.GetServiceStatus200Response{}, nil
}

// AddConnectionsToGroups adds every connection matching the filter to groups.
func (a *restAPI) AddConnectionsToGroups(_ context.Context, req gen.AddConnectionsToGroupsRequestObject) (gen.AddConnectionsToGroupsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, badRequest("InvalidRequestBody", "the body is missing: send {\"groups\":[...],\"filter\":\"...\"}")
	}
	groups, f, err := groupsAndFilter(req.Body.Groups, req.Body.Filter)
	if err != nil {
		return nil, err
	}
	a.e.addToGroups(req.Hub, scopeAll, "", newTarget(nil, f), groups)
	return gen.AddConnectionsToGroups200Response{}, nil
}

func groupsAndFilter(groups []string, filter *string) ([]string, *odata.Filter, error) {
	if len(groups) == 0 {
		return nil, nil, badRequest("InvalidRequestBody", "groups is empty: list at least one group")
	}
	for _, g := range groups {
		if err := checkGroup(g); err != nil {
			return nil, nil, err
		}
	}
	f, err := parseFilter(filter)
	return groups, f, err
}

// RemoveConnectionsFromGroups removes every connection matching the filter from groups.
func (a *restAPI) RemoveConnectionsFromGroups(_ context.Context, req gen.RemoveConnectionsFromGroupsRequestObject) (gen.RemoveConnectionsFromGroupsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, badRequest("InvalidRequestBody", "the body is missing: send {\"groups\":[...],\"filter\":\"...\"}")
	}
	groups, f, err := groupsAndFilter(req.Body.Groups, req.Body.Filter)
	if err != nil {
		return nil, err
	}
	a.e.removeFromGroups(req.Hub, scopeAll, "", newTarget(nil, f), groups)
	return gen.RemoveConnectionsFromGroups200Response{}, nil
}

// CloseAllConnections closes every connection of the hub.
func (a *restAPI) CloseAllConnections(_ context.Context, req gen.CloseAllConnectionsRequestObject) (gen.CloseAllConnectionsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	a.e.closeScope(req.Hub, scopeAll, "", newTarget(req.Params.Excluded, nil), deref(req.Params.Reason))
	return gen.CloseAllConnections204Response{}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// GenerateClientToken mints a client access token signed with the access key.
func (a *restAPI) GenerateClientToken(ctx context.Context, req gen.GenerateClientTokenRequestObject) (gen.GenerateClientTokenResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	p := req.Params
	minutes := int32(60)
	if p.MinutesToExpire != nil {
		minutes = *p.MinutesToExpire
		if minutes < 1 {
			return nil, badRequest("InvalidParameter", "minutesToExpire is %d: use at least 1", minutes)
		}
	}
	path := wire.ClientPathDefault
	switch strings.ToLower(deref(p.ClientType)) {
	case "", strings.ToLower(wire.ClientTypeDefault):
	case strings.ToLower(wire.ClientTypeMQTT):
		path = wire.ClientPathMQTT
	case strings.ToLower(wire.ClientTypeSocketIO):
		path = wire.ClientPathSocketIO
	default:
		return nil, badRequest("InvalidParameter", "unknown clientType %q: use Default, MQTT or SocketIO", deref(p.ClientType))
	}
	for _, g := range p.Group {
		if err := checkGroup(g); err != nil {
			return nil, err
		}
	}
	rr := requestFrom(ctx)
	now := time.Now()
	claims := jwt.MapClaims{
		wire.ClaimAudience:  baseURL(rr.r) + path + url.PathEscape(req.Hub),
		wire.ClaimIssuedAt:  now.Unix(),
		wire.ClaimNotBefore: now.Unix(),
		wire.ClaimExpiry:    now.Add(time.Duration(minutes) * time.Minute).Unix(),
	}
	if p.UserID != nil && *p.UserID != "" {
		claims[wire.ClaimSubject] = *p.UserID
	}
	if len(p.Role) > 0 {
		claims[wire.ClaimRole] = p.Role
	}
	if len(p.Group) > 0 {
		claims[wire.ClaimGroup] = p.Group
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(a.e.AccessKey()))
	if err != nil {
		return nil, fmt.Errorf("signing the client token: %w", err)
	}
	return gen.GenerateClientToken200JSONResponse{Token: &tok}, nil
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// SendToAll broadcasts to the hub.
func (a *restAPI) SendToAll(ctx context.Context, req gen.SendToAllRequestObject) (gen.SendToAllResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkTTL(req.Params.MessageTTLSeconds)); err != nil {
		return nil, err
	}
	f, err := parseFilter(req.Params.Filter)
	if err != nil {
		return nil, err
	}
	d, err := message(ctx, wire.FromServer, "", req.Params.MessageTTLSeconds)
	if err != nil {
		return nil, err
	}
	a.e.send(req.Hub, scopeAll, "", newTarget(req.Params.Excluded, f), d, "")
	return gen.SendToAll202Response{}, nil
}

// CloseConnection closes one connection.
func (a *restAPI) CloseConnection(_ context.Context, req gen.CloseConnectionRequestObject) (gen.CloseConnectionResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkID("connection id", req.ConnectionID)); err != nil {
		return nil, err
	}
	a.e.closeScope(req.Hub, scopeConnection, req.ConnectionID, target{}, deref(req.Params.Reason))
	return gen.CloseConnection204Response{}, nil
}

// ConnectionExists tells whether a connection is open.
func (a *restAPI) ConnectionExists(_ context.Context, req gen.ConnectionExistsRequestObject) (gen.ConnectionExistsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	if a.e.exists(req.Hub, scopeConnection, req.ConnectionID) {
		return gen.ConnectionExists200Response{}, nil
	}
	return gen.ConnectionExists404Response{}, nil
}

// SendToConnection sends to one connection.
func (a *restAPI) SendToConnection(ctx context.Context, req gen.SendToConnectionRequestObject) (gen.SendToConnectionResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkID("connection id", req.ConnectionID), checkTTL(req.Params.MessageTTLSeconds)); err != nil {
		return nil, err
	}
	d, err := message(ctx, wire.FromServer, "", req.Params.MessageTTLSeconds)
	if err != nil {
		return nil, err
	}
	a.e.send(req.Hub, scopeConnection, req.ConnectionID, target{}, d, "")
	return gen.SendToConnection202Response{}, nil
}

// RemoveConnectionFromAllGroups removes a connection from every group.
func (a *restAPI) RemoveConnectionFromAllGroups(_ context.Context, req gen.RemoveConnectionFromAllGroupsRequestObject) (gen.RemoveConnectionFromAllGroupsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	a.e.removeFromGroups(req.Hub, scopeConnection, req.ConnectionID, target{}, nil)
	return gen.RemoveConnectionFromAllGroups204Response{}, nil
}

// GroupExists tells whether a group has any connection.
func (a *restAPI) GroupExists(_ context.Context, req gen.GroupExistsRequestObject) (gen.GroupExistsResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group)); err != nil {
		return nil, err
	}
	if a.e.exists(req.Hub, scopeGroup, req.Group) {
		return gen.GroupExists200Response{}, nil
	}
	return gen.GroupExists404Response{}, nil
}

// CloseGroupConnections closes every connection in a group.
func (a *restAPI) CloseGroupConnections(_ context.Context, req gen.CloseGroupConnectionsRequestObject) (gen.CloseGroupConnectionsResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group)); err != nil {
		return nil, err
	}
	a.e.closeScope(req.Hub, scopeGroup, req.Group, newTarget(req.Params.Excluded, nil), deref(req.Params.Reason))
	return gen.CloseGroupConnections204Response{}, nil
}

// SendToGroup sends to every connection in a group.
func (a *restAPI) SendToGroup(ctx context.Context, req gen.SendToGroupRequestObject) (gen.SendToGroupResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group), checkTTL(req.Params.MessageTTLSeconds)); err != nil {
		return nil, err
	}
	f, err := parseFilter(req.Params.Filter)
	if err != nil {
		return nil, err
	}
	d, err := message(ctx, wire.FromGroup, req.Group, req.Params.MessageTTLSeconds)
	if err != nil {
		return nil, err
	}
	a.e.send(req.Hub, scopeGroup, req.Group, newTarget(req.Params.Excluded, f), d, "")
	return gen.SendToGroup202Response{}, nil
}

// ListConnectionsInGroup lists a group's connections a page at a time. The
// continuation token is opaque to clients: it encodes the last connection id
// of the previous page (connections are listed in id order), so a page
// never repeats or skips a connection that stays in the group.
func (a *restAPI) ListConnectionsInGroup(ctx context.Context, req gen.ListConnectionsInGroupRequestObject) (gen.ListConnectionsInGroupResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group)); err != nil {
		return nil, err
	}
	p := req.Params
	size := defaultPageSize
	if p.Maxpagesize != nil {
		if *p.Maxpagesize < 1 || *p.Maxpagesize > maxPageSize {
			return nil, badRequest("InvalidParameter", "maxpagesize is %d: use 1 to %d", *p.Maxpagesize, maxPageSize)
		}
		size = int(*p.Maxpagesize)
	}
	remaining := -1
	if p.Top != nil {
		if *p.Top < 1 {
			return nil, badRequest("InvalidParameter", "top is %d: use at least 1", *p.Top)
		}
		remaining = int(*p.Top)
	}
	after := ""
	if p.ContinuationToken != nil && *p.ContinuationToken != "" {
		var err error
		if after, err = decodeContinuation(*p.ContinuationToken); err != nil {
			return nil, err
		}
	}
	members := a.e.groupMembers(req.Hub, req.Group)
	out := gen.ListConnectionsInGroup200JSONResponse{Value: []gen.GroupMember{}}
	if remaining >= 0 && remaining < size {
		size = remaining
	}
	i := 0
	for i < len(members) && after != "" && members[i].id <= after {
		i++
	}
	for ; i < len(members) && len(out.Value) < size; i++ {
		m := gen.GroupMember{ConnectionID: members[i].id}
		if members[i].hasUser {
			u := members[i].userID
			m.UserID = &u
		}
		out.Value = append(out.Value, m)
	}
	left := remaining
	if left >= 0 {
		left -= len(out.Value)
	}
	if i < len(members) && left != 0 && len(out.Value) > 0 {
		rr := requestFrom(ctx)
		q := url.Values{}
		if v := rr.r.URL.Query().Get(wire.QueryAPIVersion); v != "" {
			q.Set(wire.QueryAPIVersion, v)
		}
		if p.Maxpagesize != nil {
			q.Set("maxpagesize", strconv.Itoa(int(*p.Maxpagesize)))
		}
		if left > 0 {
			q.Set("top", strconv.Itoa(left))
		}
		q.Set("continuationToken", encodeContinuation(out.Value[len(out.Value)-1].ConnectionID))
		next := baseURL(rr.r) + rr.r.URL.EscapedPath() + "?" + q.Encode()
		out.NextLink = &next
	}
	return out, nil
}

const continuationPrefix = "v1:"

func encodeContinuation(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(continuationPrefix + lastID))
}

func decodeContinuation(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), continuationPrefix) || len(b) == len(continuationPrefix) {
		return "", badRequest("InvalidContinuationToken", "the continuationToken is not one this service issued: follow nextLink as returned")
	}
	return string(b[len(continuationPrefix):]), nil
}

// RemoveConnectionFromGroup removes one connection from a group.
func (a *restAPI) RemoveConnectionFromGroup(_ context.Context, req gen.RemoveConnectionFromGroupRequestObject) (gen.RemoveConnectionFromGroupResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group), checkID("connection id", req.ConnectionID)); err != nil {
		return nil, err
	}
	a.e.removeFromGroups(req.Hub, scopeConnection, req.ConnectionID, target{}, []string{req.Group})
	return gen.RemoveConnectionFromGroup204Response{}, nil
}

// AddConnectionToGroup adds one connection to a group; 404 if it is not open.
func (a *restAPI) AddConnectionToGroup(_ context.Context, req gen.AddConnectionToGroupRequestObject) (gen.AddConnectionToGroupResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group), checkID("connection id", req.ConnectionID)); err != nil {
		return nil, err
	}
	if !a.e.exists(req.Hub, scopeConnection, req.ConnectionID) {
		return nil, connectionNotFound(req.ConnectionID)
	}
	a.e.addToGroups(req.Hub, scopeConnection, req.ConnectionID, target{}, []string{req.Group})
	return gen.AddConnectionToGroup200Response{}, nil
}

func connectionNotFound(id string) error {
	return &apiError{status: http.StatusNotFound, code: "ConnectionNotFound", message: fmt.Sprintf("connection %q is not open in this hub", id)}
}

func checkPermission(perm gen.Permission, targetName *string) (permission, error) {
	kind, ok := permissionRoles[string(perm)]
	if !ok {
		return permission{}, badRequest("InvalidPermission", "unknown permission %q: use sendToGroup or joinLeaveGroup", perm)
	}
	p := permission{kind: kind}
	if targetName != nil {
		if err := checkGroup(*targetName); err != nil {
			return permission{}, err
		}
		p.target = *targetName
	}
	return p, nil
}

// RevokePermission takes a permission away from a connection.
func (a *restAPI) RevokePermission(_ context.Context, req gen.RevokePermissionRequestObject) (gen.RevokePermissionResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	p, err := checkPermission(req.Permission, req.Params.TargetName)
	if err != nil {
		return nil, err
	}
	a.e.revoke(req.Hub, req.ConnectionID, p)
	return gen.RevokePermission204Response{}, nil
}

// CheckPermission tells whether a connection holds a permission.
func (a *restAPI) CheckPermission(_ context.Context, req gen.CheckPermissionRequestObject) (gen.CheckPermissionResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	p, err := checkPermission(req.Permission, req.Params.TargetName)
	if err != nil {
		return nil, err
	}
	if a.e.check(req.Hub, req.ConnectionID, p) {
		return gen.CheckPermission200Response{}, nil
	}
	return gen.CheckPermission404Response{}, nil
}

// GrantPermission gives a connection a permission; 404 if it is not open.
func (a *restAPI) GrantPermission(_ context.Context, req gen.GrantPermissionRequestObject) (gen.GrantPermissionResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	p, err := checkPermission(req.Permission, req.Params.TargetName)
	if err != nil {
		return nil, err
	}
	if !a.e.grant(req.Hub, req.ConnectionID, p) {
		return nil, connectionNotFound(req.ConnectionID)
	}
	return gen.GrantPermission200Response{}, nil
}

// UserExists tells whether a user has an open connection.
func (a *restAPI) UserExists(_ context.Context, req gen.UserExistsRequestObject) (gen.UserExistsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	if a.e.exists(req.Hub, scopeUser, req.UserID) {
		return gen.UserExists200Response{}, nil
	}
	return gen.UserExists404Response{}, nil
}

// CloseUserConnections closes a user's connections.
func (a *restAPI) CloseUserConnections(_ context.Context, req gen.CloseUserConnectionsRequestObject) (gen.CloseUserConnectionsResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkID("user id", req.UserID)); err != nil {
		return nil, err
	}
	a.e.closeScope(req.Hub, scopeUser, req.UserID, newTarget(req.Params.Excluded, nil), deref(req.Params.Reason))
	return gen.CloseUserConnections204Response{}, nil
}

// SendToUser sends to a user's connections.
func (a *restAPI) SendToUser(ctx context.Context, req gen.SendToUserRequestObject) (gen.SendToUserResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkID("user id", req.UserID), checkTTL(req.Params.MessageTTLSeconds)); err != nil {
		return nil, err
	}
	f, err := parseFilter(req.Params.Filter)
	if err != nil {
		return nil, err
	}
	d, err := message(ctx, wire.FromServer, "", req.Params.MessageTTLSeconds)
	if err != nil {
		return nil, err
	}
	a.e.send(req.Hub, scopeUser, req.UserID, newTarget(nil, f), d, "")
	return gen.SendToUser202Response{}, nil
}

// RemoveUserFromAllGroups removes a user's connections from every group.
func (a *restAPI) RemoveUserFromAllGroups(_ context.Context, req gen.RemoveUserFromAllGroupsRequestObject) (gen.RemoveUserFromAllGroupsResponseObject, error) {
	if err := checkHub(req.Hub); err != nil {
		return nil, err
	}
	a.e.removeFromGroups(req.Hub, scopeUser, req.UserID, target{}, nil)
	return gen.RemoveUserFromAllGroups204Response{}, nil
}

// RemoveUserFromGroup removes a user's connections from a group.
func (a *restAPI) RemoveUserFromGroup(_ context.Context, req gen.RemoveUserFromGroupRequestObject) (gen.RemoveUserFromGroupResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group)); err != nil {
		return nil, err
	}
	a.e.removeFromGroups(req.Hub, scopeUser, req.UserID, target{}, []string{req.Group})
	return gen.RemoveUserFromGroup204Response{}, nil
}

// AddUserToGroup adds a user's open connections to a group. Like the
// service, it answers 404 Warning.User.NotExisted when the user has no open
// connection: nothing is remembered for connections opened later.
func (a *restAPI) AddUserToGroup(_ context.Context, req gen.AddUserToGroupRequestObject) (gen.AddUserToGroupResponseObject, error) {
	if err := firstError(checkHub(req.Hub), checkGroup(req.Group), checkID("user id", req.UserID)); err != nil {
		return nil, err
	}
	if !a.e.exists(req.Hub, scopeUser, req.UserID) {
		return nil, userNotFound(req.UserID)
	}
	a.e.addToGroups(req.Hub, scopeUser, req.UserID, target{}, []string{req.Group})
	return gen.AddUserToGroup200Response{}, nil
}

// userNotFound is the service's answer to AddUserToGroup for a user without
// an open connection (x-ms-error-code Warning.User.NotExisted).
func userNotFound(id string) error {
	return &apiError{status: http.StatusNotFound, code: "Warning.User.NotExisted",
		message: fmt.Sprintf("user %q has no open connection in this hub: add users to groups once they are connected (for example in the connected event), or give the group in the client's token", id)}
}
