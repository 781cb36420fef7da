package contract

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/gen"

	"github.com/webpubsub-go/sdk/webpubsub"
)

const (
	apiVersion = webpubsub.APIVersion
	hub        = "hub1"
	// odd is an id with every character that needs escaping in a path
	// segment; oddEscaped is how it must appear on the wire.
	odd        = "a/b?c#d%e f ü"
	oddEscaped = "a%2Fb%3Fc%23d%25e%20f%20%C3%BC"
	// oddQuery is odd as a query value (form encoding: space is +).
	oddQuery = "a%2Fb%3Fc%23d%25e+f+%C3%BC"
	// oddHub uses every punctuation character a hub may hold.
	oddHub        = "Chat_`,.[]"
	oddHubEscaped = "Chat_%60%2C.%5B%5D"
	jsonMessage   = `{"greeting":"hi ü","n":1}`
	textMessage   = "hi there ü 🙂\n  two lines"
)

// binaryMessage holds bytes that are not valid UTF-8, so any re-encoding shows.
var binaryMessage = []byte{0x00, 0x01, 0xfe, 0xff, 'h', 'i'}

// jsonValue is jsonMessage as the typed JSON methods take it and as the
// strict server decodes it.
func jsonValue() any { return map[string]any{"greeting": "hi ü", "n": float64(1)} }

// result is what every generated ...WithResponse method returns.
type result interface{ StatusCode() int }

type contractCase struct {
	name string
	send func(ctx context.Context, c *gen.ClientWithResponses) (result, error)
	// want* are what the wire, the strict server and the client must see.
	wantWire   wire
	wantCall   call
	wantStatus int
	// check inspects the typed response, when it has more than a status.
	check func(t *testing.T, r result)
}

func contractCases() []contractCase {
	q := "api-version=" + apiVersion
	excluded := []string{"c 1", "c,2", "c&3/4"}
	excludedQuery := "excluded=c+1&excluded=c%2C2&excluded=c%263%2F4"
	filter := "userId ne 'a b' and not('g/1' in groups)"
	filterQuery := "filter=userId+ne+%27a+b%27+and+not%28%27g%2F1%27+in+groups%29"
	ttl := int32(300)
	reason := "bye & see you"
	reasonQuery := "reason=bye+%26+see+you"

	cases := []contractCase{
		{
			name: "GetServiceStatus",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.GetServiceStatusWithResponse(ctx, &gen.GetServiceStatusParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/health", Query: q},
			wantCall:   call{Op: "GetServiceStatus", Request: gen.GetServiceStatusRequestObject{Params: gen.GetServiceStatusParams{APIVersion: apiVersion}}},
			wantStatus: 200,
		},
		{
			name: "AddConnectionsToGroups",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.AddConnectionsToGroupsWithResponse(ctx, hub, &gen.AddConnectionsToGroupsParams{APIVersion: apiVersion},
					gen.AddToGroupsRequest{Groups: []string{"g 1", "g/2"}, Filter: ptr("userId eq 'u1'")})
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/hub1/:addToGroups", Query: q, ContentType: "application/json",
				Body: `{"filter":"userId eq 'u1'","groups":["g 1","g/2"]}`},
			wantCall: call{Op: "AddConnectionsToGroups", Request: gen.AddConnectionsToGroupsRequestObject{
				Hub: hub, Params: gen.AddConnectionsToGroupsParams{APIVersion: apiVersion},
				Body: &gen.AddToGroupsRequest{Groups: []string{"g 1", "g/2"}, Filter: ptr("userId eq 'u1'")},
			}},
			wantStatus: 200,
		},
		{
			name: "CloseAllConnections",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CloseAllConnectionsWithResponse(ctx, hub, &gen.CloseAllConnectionsParams{APIVersion: apiVersion, Excluded: excluded, Reason: &reason})
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/hub1/:closeConnections", Query: excludedQuery + "&" + reasonQuery + "&" + q},
			wantCall: call{Op: "CloseAllConnections", Request: gen.CloseAllConnectionsRequestObject{
				Hub: hub, Params: gen.CloseAllConnectionsParams{APIVersion: apiVersion, Excluded: excluded, Reason: &reason},
			}},
			wantStatus: 204,
		},
		{
			name: "GenerateClientToken",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.GenerateClientTokenWithResponse(ctx, hub, &gen.GenerateClientTokenParams{
					APIVersion: apiVersion, UserID: ptr(odd), Role: []string{"webpubsub.joinLeaveGroup.g 1", "webpubsub.sendToGroup"},
					MinutesToExpire: ptr(int32(30)), Group: []string{"g 1", "g/2"}, ClientType: ptr("socketio"),
				})
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/hub1/:generateToken",
				Query: "userId=" + oddQuery + "&role=webpubsub.joinLeaveGroup.g+1&role=webpubsub.sendToGroup&minutesToExpire=30&" + q +
					"&group=g+1&group=g%2F2&clientType=socketio"},
			wantCall: call{Op: "GenerateClientToken", Request: gen.GenerateClientTokenRequestObject{
				Hub: hub, Params: gen.GenerateClientTokenParams{
					APIVersion: apiVersion, UserID: ptr(odd), Role: []string{"webpubsub.joinLeaveGroup.g 1", "webpubsub.sendToGroup"},
					MinutesToExpire: ptr(int32(30)), Group: []string{"g 1", "g/2"}, ClientType: ptr("socketio"),
				},
			}},
			wantStatus: 200,
			check: func(t *testing.T, r result) {
				got := r.(*gen.GenerateClientTokenResponse).JSON200
				if diff := cmp.Diff(&gen.ClientTokenResponse{Token: ptr("token-for-" + odd)}, got); diff != "" {
					t.Errorf("JSON200 (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "RemoveConnectionsFromGroups",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.RemoveConnectionsFromGroupsWithResponse(ctx, hub, &gen.RemoveConnectionsFromGroupsParams{APIVersion: apiVersion},
					gen.RemoveFromGroupsRequest{Groups: []string{"g"}})
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/hub1/:removeFromGroups", Query: q, ContentType: "application/json", Body: `{"groups":["g"]}`},
			wantCall: call{Op: "RemoveConnectionsFromGroups", Request: gen.RemoveConnectionsFromGroupsRequestObject{
				Hub: hub, Params: gen.RemoveConnectionsFromGroupsParams{APIVersion: apiVersion}, Body: &gen.RemoveFromGroupsRequest{Groups: []string{"g"}},
			}},
			wantStatus: 200,
		},
		{
			name: "CloseConnection",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CloseConnectionWithResponse(ctx, hub, odd, &gen.CloseConnectionParams{APIVersion: apiVersion, Reason: &reason})
			},
			wantWire: wire{Method: "DELETE", Path: "/api/hubs/hub1/connections/" + oddEscaped, Query: reasonQuery + "&" + q},
			wantCall: call{Op: "CloseConnection", Request: gen.CloseConnectionRequestObject{
				Hub: hub, ConnectionID: odd, Params: gen.CloseConnectionParams{APIVersion: apiVersion, Reason: &reason},
			}},
			wantStatus: 204,
		},
		{
			name: "ConnectionExists",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.ConnectionExistsWithResponse(ctx, hub, odd, &gen.ConnectionExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/hub1/connections/" + oddEscaped, Query: q},
			wantCall:   call{Op: "ConnectionExists", Request: gen.ConnectionExistsRequestObject{Hub: hub, ConnectionID: odd, Params: gen.ConnectionExistsParams{APIVersion: apiVersion}}},
			wantStatus: 200,
		},
		{
			name: "ConnectionExists/404",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.ConnectionExistsWithResponse(ctx, hub, missing, &gen.ConnectionExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/hub1/connections/missing", Query: q},
			wantCall:   call{Op: "ConnectionExists", Request: gen.ConnectionExistsRequestObject{Hub: hub, ConnectionID: missing, Params: gen.ConnectionExistsParams{APIVersion: apiVersion}}},
			wantStatus: 404,
		},
		{
			name: "ConnectionExists/error without body",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.ConnectionExistsWithResponse(ctx, failingHub, "c1", &gen.ConnectionExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/failing/connections/c1", Query: q},
			wantCall:   call{Op: "ConnectionExists", Request: gen.ConnectionExistsRequestObject{Hub: failingHub, ConnectionID: "c1", Params: gen.ConnectionExistsParams{APIVersion: apiVersion}}},
			wantStatus: 403,
			check: func(t *testing.T, r result) {
				if got := r.(*gen.ConnectionExistsResponse).HTTPResponse.Header.Get("x-ms-error-code"); got != errorCode {
					t.Errorf("x-ms-error-code = %q, want %q", got, errorCode)
				}
			},
		},
		{
			name: "RemoveConnectionFromAllGroups",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.RemoveConnectionFromAllGroupsWithResponse(ctx, hub, odd, &gen.RemoveConnectionFromAllGroupsParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "DELETE", Path: "/api/hubs/hub1/connections/" + oddEscaped + "/groups", Query: q},
			wantCall: call{Op: "RemoveConnectionFromAllGroups", Request: gen.RemoveConnectionFromAllGroupsRequestObject{
				Hub: hub, ConnectionID: odd, Params: gen.RemoveConnectionFromAllGroupsParams{APIVersion: apiVersion},
			}},
			wantStatus: 204,
		},
		{
			name: "GroupExists",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.GroupExistsWithResponse(ctx, hub, odd, &gen.GroupExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/hub1/groups/" + oddEscaped, Query: q},
			wantCall:   call{Op: "GroupExists", Request: gen.GroupExistsRequestObject{Hub: hub, Group: odd, Params: gen.GroupExistsParams{APIVersion: apiVersion}}},
			wantStatus: 200,
		},
		{
			name: "GroupExists/404",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.GroupExistsWithResponse(ctx, hub, missing, &gen.GroupExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/hub1/groups/missing", Query: q},
			wantCall:   call{Op: "GroupExists", Request: gen.GroupExistsRequestObject{Hub: hub, Group: missing, Params: gen.GroupExistsParams{APIVersion: apiVersion}}},
			wantStatus: 404,
		},
		{
			name: "CloseGroupConnections",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CloseGroupConnectionsWithResponse(ctx, hub, odd, &gen.CloseGroupConnectionsParams{APIVersion: apiVersion, Excluded: excluded, Reason: &reason})
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/hub1/groups/" + oddEscaped + "/:closeConnections", Query: excludedQuery + "&" + reasonQuery + "&" + q},
			wantCall: call{Op: "CloseGroupConnections", Request: gen.CloseGroupConnectionsRequestObject{
				Hub: hub, Group: odd, Params: gen.CloseGroupConnectionsParams{APIVersion: apiVersion, Excluded: excluded, Reason: &reason},
			}},
			wantStatus: 204,
		},
		{
			name: "ListConnectionsInGroup",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.ListConnectionsInGroupWithResponse(ctx, hub, odd, &gen.ListConnectionsInGroupParams{
					APIVersion: apiVersion, Maxpagesize: ptr(int32(2)), Top: ptr(int32(10)), ContinuationToken: ptr("next/1 ü"),
				})
			},
			wantWire: wire{Method: "GET", Path: "/api/hubs/hub1/groups/" + oddEscaped + "/connections",
				Query: "maxpagesize=2&top=10&continuationToken=next%2F1+%C3%BC&" + q},
			wantCall: call{Op: "ListConnectionsInGroup", Request: gen.ListConnectionsInGroupRequestObject{
				Hub: hub, Group: odd, Params: gen.ListConnectionsInGroupParams{
					APIVersion: apiVersion, Maxpagesize: ptr(int32(2)), Top: ptr(int32(10)), ContinuationToken: ptr("next/1 ü"),
				},
			}},
			wantStatus: 200,
			check: func(t *testing.T, r result) {
				want := &gen.GroupMemberPagedValues{
					Value:    []gen.GroupMember{{ConnectionID: "c1", UserID: ptr("u1")}, {ConnectionID: "c2"}},
					NextLink: ptr("https://example.webpubsub.azure.com/api/hubs/hub1/groups/g/connections?continuationToken=next"),
				}
				if diff := cmp.Diff(want, r.(*gen.ListConnectionsInGroupResponse).JSON200); diff != "" {
					t.Errorf("JSON200 (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "RemoveConnectionFromGroup",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.RemoveConnectionFromGroupWithResponse(ctx, hub, odd, "conn 2", &gen.RemoveConnectionFromGroupParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "DELETE", Path: "/api/hubs/hub1/groups/" + oddEscaped + "/connections/conn%202", Query: q},
			wantCall: call{Op: "RemoveConnectionFromGroup", Request: gen.RemoveConnectionFromGroupRequestObject{
				Hub: hub, Group: odd, ConnectionID: "conn 2", Params: gen.RemoveConnectionFromGroupParams{APIVersion: apiVersion},
			}},
			wantStatus: 204,
		},
		{
			name: "AddConnectionToGroup",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.AddConnectionToGroupWithResponse(ctx, hub, "g", odd, &gen.AddConnectionToGroupParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "PUT", Path: "/api/hubs/hub1/groups/g/connections/" + oddEscaped, Query: q},
			wantCall: call{Op: "AddConnectionToGroup", Request: gen.AddConnectionToGroupRequestObject{
				Hub: hub, Group: "g", ConnectionID: odd, Params: gen.AddConnectionToGroupParams{APIVersion: apiVersion},
			}},
			wantStatus: 200,
		},
		{
			name: "RevokePermission",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.RevokePermissionWithResponse(ctx, hub, gen.PermissionSendToGroup, odd, &gen.RevokePermissionParams{APIVersion: apiVersion, TargetName: ptr(odd)})
			},
			wantWire: wire{Method: "DELETE", Path: "/api/hubs/hub1/permissions/sendToGroup/connections/" + oddEscaped, Query: "targetName=" + oddQuery + "&" + q},
			wantCall: call{Op: "RevokePermission", Request: gen.RevokePermissionRequestObject{
				Hub: hub, Permission: gen.PermissionSendToGroup, ConnectionID: odd, Params: gen.RevokePermissionParams{APIVersion: apiVersion, TargetName: ptr(odd)},
			}},
			wantStatus: 204,
		},
		{
			name: "CheckPermission",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CheckPermissionWithResponse(ctx, hub, gen.PermissionJoinLeaveGroup, odd, &gen.CheckPermissionParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "HEAD", Path: "/api/hubs/hub1/permissions/joinLeaveGroup/connections/" + oddEscaped, Query: q},
			wantCall: call{Op: "CheckPermission", Request: gen.CheckPermissionRequestObject{
				Hub: hub, Permission: gen.PermissionJoinLeaveGroup, ConnectionID: odd, Params: gen.CheckPermissionParams{APIVersion: apiVersion},
			}},
			wantStatus: 200,
		},
		{
			name: "CheckPermission/404",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CheckPermissionWithResponse(ctx, hub, gen.PermissionSendToGroup, missing, &gen.CheckPermissionParams{APIVersion: apiVersion, TargetName: ptr("g")})
			},
			wantWire: wire{Method: "HEAD", Path: "/api/hubs/hub1/permissions/sendToGroup/connections/missing", Query: "targetName=g&" + q},
			wantCall: call{Op: "CheckPermission", Request: gen.CheckPermissionRequestObject{
				Hub: hub, Permission: gen.PermissionSendToGroup, ConnectionID: missing, Params: gen.CheckPermissionParams{APIVersion: apiVersion, TargetName: ptr("g")},
			}},
			wantStatus: 404,
		},
		{
			name: "GrantPermission",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.GrantPermissionWithResponse(ctx, hub, gen.PermissionJoinLeaveGroup, "c1", &gen.GrantPermissionParams{APIVersion: apiVersion, TargetName: ptr("g 1")})
			},
			wantWire: wire{Method: "PUT", Path: "/api/hubs/hub1/permissions/joinLeaveGroup/connections/c1", Query: "targetName=g+1&" + q},
			wantCall: call{Op: "GrantPermission", Request: gen.GrantPermissionRequestObject{
				Hub: hub, Permission: gen.PermissionJoinLeaveGroup, ConnectionID: "c1", Params: gen.GrantPermissionParams{APIVersion: apiVersion, TargetName: ptr("g 1")},
			}},
			wantStatus: 200,
		},
		{
			name: "UserExists",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.UserExistsWithResponse(ctx, oddHub, odd, &gen.UserExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/" + oddHubEscaped + "/users/" + oddEscaped, Query: q},
			wantCall:   call{Op: "UserExists", Request: gen.UserExistsRequestObject{Hub: oddHub, UserID: odd, Params: gen.UserExistsParams{APIVersion: apiVersion}}},
			wantStatus: 200,
		},
		{
			name: "UserExists/404",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.UserExistsWithResponse(ctx, hub, missing, &gen.UserExistsParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "HEAD", Path: "/api/hubs/hub1/users/missing", Query: q},
			wantCall:   call{Op: "UserExists", Request: gen.UserExistsRequestObject{Hub: hub, UserID: missing, Params: gen.UserExistsParams{APIVersion: apiVersion}}},
			wantStatus: 404,
		},
		{
			name: "CloseUserConnections",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CloseUserConnectionsWithResponse(ctx, hub, odd, &gen.CloseUserConnectionsParams{APIVersion: apiVersion, Excluded: excluded})
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/hub1/users/" + oddEscaped + "/:closeConnections", Query: excludedQuery + "&" + q},
			wantCall: call{Op: "CloseUserConnections", Request: gen.CloseUserConnectionsRequestObject{
				Hub: hub, UserID: odd, Params: gen.CloseUserConnectionsParams{APIVersion: apiVersion, Excluded: excluded},
			}},
			wantStatus: 204,
		},
		{
			name: "RemoveUserFromAllGroups",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.RemoveUserFromAllGroupsWithResponse(ctx, hub, odd, &gen.RemoveUserFromAllGroupsParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "DELETE", Path: "/api/hubs/hub1/users/" + oddEscaped + "/groups", Query: q},
			wantCall: call{Op: "RemoveUserFromAllGroups", Request: gen.RemoveUserFromAllGroupsRequestObject{
				Hub: hub, UserID: odd, Params: gen.RemoveUserFromAllGroupsParams{APIVersion: apiVersion},
			}},
			wantStatus: 204,
		},
		{
			name: "RemoveUserFromGroup",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.RemoveUserFromGroupWithResponse(ctx, hub, odd, "g/ü", &gen.RemoveUserFromGroupParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "DELETE", Path: "/api/hubs/hub1/users/" + oddEscaped + "/groups/g%2F%C3%BC", Query: q},
			wantCall: call{Op: "RemoveUserFromGroup", Request: gen.RemoveUserFromGroupRequestObject{
				Hub: hub, UserID: odd, Group: "g/ü", Params: gen.RemoveUserFromGroupParams{APIVersion: apiVersion},
			}},
			wantStatus: 204,
		},
		{
			name: "AddUserToGroup",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.AddUserToGroupWithResponse(ctx, hub, odd, odd, &gen.AddUserToGroupParams{APIVersion: apiVersion})
			},
			wantWire: wire{Method: "PUT", Path: "/api/hubs/hub1/users/" + oddEscaped + "/groups/" + oddEscaped, Query: q},
			wantCall: call{Op: "AddUserToGroup", Request: gen.AddUserToGroupRequestObject{
				Hub: hub, UserID: odd, Group: odd, Params: gen.AddUserToGroupParams{APIVersion: apiVersion},
			}},
			wantStatus: 200,
		},
	}

	// The four sends, each with its three content types.
	allParams := gen.SendToAllParams{APIVersion: apiVersion, Excluded: excluded, Filter: &filter, MessageTTLSeconds: &ttl}
	allQuery := excludedQuery + "&" + q + "&" + filterQuery + "&messageTtlSeconds=300"
	cases = append(cases, sendCases("SendToAll", 202, "/api/hubs/hub1/:send", allQuery,
		func(ctx context.Context, c *gen.ClientWithResponses, b any) (result, error) {
			return c.SendToAllWithResponse(ctx, hub, &allParams, b)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, s string) (result, error) {
			return c.SendToAllWithTextBodyWithResponse(ctx, hub, &allParams, s)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, ct string, b []byte) (result, error) {
			return c.SendToAllWithBodyWithResponse(ctx, hub, &allParams, ct, bytes.NewReader(b))
		},
		func(jsonBody *any, text *string) any {
			return gen.SendToAllRequestObject{Hub: hub, Params: allParams, JSONBody: jsonBody, TextBody: text}
		})...)

	connParams := gen.SendToConnectionParams{APIVersion: apiVersion, MessageTTLSeconds: ptr(int32(0))}
	cases = append(cases, sendCases("SendToConnection", 202, "/api/hubs/hub1/connections/"+oddEscaped+"/:send", q+"&messageTtlSeconds=0",
		func(ctx context.Context, c *gen.ClientWithResponses, b any) (result, error) {
			return c.SendToConnectionWithResponse(ctx, hub, odd, &connParams, b)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, s string) (result, error) {
			return c.SendToConnectionWithTextBodyWithResponse(ctx, hub, odd, &connParams, s)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, ct string, b []byte) (result, error) {
			return c.SendToConnectionWithBodyWithResponse(ctx, hub, odd, &connParams, ct, bytes.NewReader(b))
		},
		func(jsonBody *any, text *string) any {
			return gen.SendToConnectionRequestObject{Hub: hub, ConnectionID: odd, Params: connParams, JSONBody: jsonBody, TextBody: text}
		})...)

	groupParams := gen.SendToGroupParams{APIVersion: apiVersion, Excluded: excluded[:1], Filter: &filter}
	cases = append(cases, sendCases("SendToGroup", 202, "/api/hubs/hub1/groups/"+oddEscaped+"/:send", "excluded=c+1&"+q+"&"+filterQuery,
		func(ctx context.Context, c *gen.ClientWithResponses, b any) (result, error) {
			return c.SendToGroupWithResponse(ctx, hub, odd, &groupParams, b)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, s string) (result, error) {
			return c.SendToGroupWithTextBodyWithResponse(ctx, hub, odd, &groupParams, s)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, ct string, b []byte) (result, error) {
			return c.SendToGroupWithBodyWithResponse(ctx, hub, odd, &groupParams, ct, bytes.NewReader(b))
		},
		func(jsonBody *any, text *string) any {
			return gen.SendToGroupRequestObject{Hub: hub, Group: odd, Params: groupParams, JSONBody: jsonBody, TextBody: text}
		})...)

	userParams := gen.SendToUserParams{APIVersion: apiVersion, Filter: &filter, MessageTTLSeconds: ptr(int32(15))}
	cases = append(cases, sendCases("SendToUser", 202, "/api/hubs/hub1/users/"+oddEscaped+"/:send", q+"&"+filterQuery+"&messageTtlSeconds=15",
		func(ctx context.Context, c *gen.ClientWithResponses, b any) (result, error) {
			return c.SendToUserWithResponse(ctx, hub, odd, &userParams, b)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, s string) (result, error) {
			return c.SendToUserWithTextBodyWithResponse(ctx, hub, odd, &userParams, s)
		},
		func(ctx context.Context, c *gen.ClientWithResponses, ct string, b []byte) (result, error) {
			return c.SendToUserWithBodyWithResponse(ctx, hub, odd, &userParams, ct, bytes.NewReader(b))
		},
		func(jsonBody *any, text *string) any {
			return gen.SendToUserRequestObject{Hub: hub, UserID: odd, Params: userParams, JSONBody: jsonBody, TextBody: text}
		})...)

	// Error responses with a body, JSON and text, must match the document too.
	cases = append(cases,
		contractCase{
			name: "SendToAll/JSON error",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.SendToAllWithTextBodyWithResponse(ctx, failingHub, &gen.SendToAllParams{APIVersion: apiVersion}, "x")
			},
			wantWire: wire{Method: "POST", Path: "/api/hubs/failing/:send", Query: q, ContentType: "text/plain", Body: "x"},
			wantCall: call{Op: "SendToAll", Request: gen.SendToAllRequestObject{
				Hub: failingHub, Params: gen.SendToAllParams{APIVersion: apiVersion}, TextBody: ptr("x"),
			}},
			wantStatus: 403,
			check: func(t *testing.T, r result) {
				got := r.(*gen.SendToAllResponse)
				want := &gen.ErrorDetail{Code: ptr(errorCode), Message: ptr("sending is not allowed")}
				if diff := cmp.Diff(want, got.JSONDefault); diff != "" {
					t.Errorf("JSONDefault (-want +got):\n%s", diff)
				}
				if h := got.HTTPResponse.Header.Get("x-ms-error-code"); h != errorCode {
					t.Errorf("x-ms-error-code = %q, want %q", h, errorCode)
				}
			},
		},
		contractCase{
			name: "CloseConnection/text error",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.CloseConnectionWithResponse(ctx, textFailingHub, "c1", &gen.CloseConnectionParams{APIVersion: apiVersion})
			},
			wantWire:   wire{Method: "DELETE", Path: "/api/hubs/failingText/connections/c1", Query: q},
			wantCall:   call{Op: "CloseConnection", Request: gen.CloseConnectionRequestObject{Hub: textFailingHub, ConnectionID: "c1", Params: gen.CloseConnectionParams{APIVersion: apiVersion}}},
			wantStatus: 503,
			check: func(t *testing.T, r result) {
				if got := string(r.(*gen.CloseConnectionResponse).Body); got != "the service is busy" {
					t.Errorf("body = %q, want the text error", got)
				}
			},
		},
	)
	return cases
}

// sendCases builds the JSON, text and binary cases of one send operation,
// plus raw JSON through WithBody, which must keep its exact bytes.
func sendCases(op string, status int, path, query string,
	sendJSON func(context.Context, *gen.ClientWithResponses, any) (result, error),
	sendText func(context.Context, *gen.ClientWithResponses, string) (result, error),
	sendRaw func(context.Context, *gen.ClientWithResponses, string, []byte) (result, error),
	request func(jsonBody *any, text *string) any,
) []contractCase {
	rawJSON := "{ \"spaced\" : [1, 2],\n \"kept\": \"as sent\" }"
	return []contractCase{
		{
			name: op + "/application/json",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return sendJSON(ctx, c, jsonValue())
			},
			wantWire:   wire{Method: "POST", Path: path, Query: query, ContentType: "application/json", Body: jsonMessage},
			wantCall:   call{Op: op, Request: request(ptr(jsonValue()), nil)},
			wantStatus: status,
		},
		{
			name: op + "/application/json raw",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return sendRaw(ctx, c, "application/json", []byte(rawJSON))
			},
			wantWire:   wire{Method: "POST", Path: path, Query: query, ContentType: "application/json", Body: rawJSON},
			wantCall:   call{Op: op, Request: request(ptr[any](map[string]any{"spaced": []any{float64(1), float64(2)}, "kept": "as sent"}), nil)},
			wantStatus: status,
		},
		{
			name: op + "/text/plain",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return sendText(ctx, c, textMessage)
			},
			wantWire:   wire{Method: "POST", Path: path, Query: query, ContentType: "text/plain", Body: textMessage},
			wantCall:   call{Op: op, Request: request(nil, ptr(textMessage))},
			wantStatus: status,
		},
		{
			name: op + "/application/octet-stream",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return sendRaw(ctx, c, "application/octet-stream", binaryMessage)
			},
			wantWire:   wire{Method: "POST", Path: path, Query: query, ContentType: "application/octet-stream", Body: string(binaryMessage)},
			wantCall:   call{Op: op, Request: request(nil, nil), Binary: binaryMessage},
			wantStatus: status,
		},
	}
}

// TestContract drives every generated client operation against the generated
// strict server through request and response validation.
func TestContract(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range contractCases() {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			res, err := tc.send(t.Context(), h.client)
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			reqErr, respErr := h.errs()
			if reqErr != nil {
				t.Errorf("request does not match the document: %v", reqErr)
			}
			if respErr != nil {
				t.Errorf("response does not match the document: %v", respErr)
			}
			if got := res.StatusCode(); got != tc.wantStatus {
				t.Errorf("status = %d, want %d", got, tc.wantStatus)
			}
			if diff := cmp.Diff([]wire{tc.wantWire}, h.recordedWires()); diff != "" {
				t.Errorf("wire (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]call{tc.wantCall}, h.fake.recorded()); diff != "" {
				t.Errorf("server received (-want +got):\n%s", diff)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
		seen[tc.wantCall.Op] = true
	}

	// Every operation of the strict server interface must have a case.
	iface := reflect.TypeFor[gen.StrictServerInterface]()
	var untested []string
	for i := range iface.NumMethod() {
		if name := iface.Method(i).Name; !seen[name] {
			untested = append(untested, name)
		}
	}
	if iface.NumMethod() != 25 {
		t.Errorf("gen.StrictServerInterface has %d operations, want the 25 of the REST API", iface.NumMethod())
	}
	if len(untested) > 0 {
		t.Errorf("operations without a contract case: %s", strings.Join(untested, ", "))
	}
	if got := len(seen); got != iface.NumMethod() {
		t.Errorf("cases cover %d operations, interface has %d", got, iface.NumMethod())
	}
}

// TestValidatorRejects shows that request validation is live: requests that
// break the document are stopped before they reach the server.
func TestValidatorRejects(t *testing.T) {
	tests := []struct {
		name    string
		send    func(ctx context.Context, c *gen.ClientWithResponses) (result, error)
		wantErr []string
	}{
		{
			name: "missing api-version",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.ConnectionExistsWithResponse(ctx, hub, "c1", nil) // nil params skip every query parameter
			},
			wantErr: []string{`parameter "api-version" in query has an error`, "value is required but missing"},
		},
		{
			name: "hub that breaks the pattern",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.UserExistsWithResponse(ctx, "9-bad", "u1", &gen.UserExistsParams{APIVersion: apiVersion})
			},
			wantErr: []string{`parameter "hub" in path has an error`, "regular expression"},
		},
		{
			name: "white-space-only group",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.GroupExistsWithResponse(ctx, hub, "   ", &gen.GroupExistsParams{APIVersion: apiVersion})
			},
			wantErr: []string{`parameter "group" in path has an error`},
		},
		{
			name: "message TTL above 300",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.SendToAllWithTextBodyWithResponse(ctx, hub, &gen.SendToAllParams{APIVersion: apiVersion, MessageTTLSeconds: ptr(int32(301))}, "x")
			},
			wantErr: []string{`parameter "messageTtlSeconds" in query has an error`},
		},
		{
			name: "undeclared content type",
			send: func(ctx context.Context, c *gen.ClientWithResponses) (result, error) {
				return c.SendToAllWithBodyWithResponse(ctx, hub, &gen.SendToAllParams{APIVersion: apiVersion}, "application/xml", strings.NewReader("<x/>"))
			},
			wantErr: []string{"application/xml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			res, err := tt.send(t.Context(), h.client)
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			if res.StatusCode() != 400 {
				t.Errorf("status = %d, want 400 from the validator", res.StatusCode())
			}
			reqErr, _ := h.errs()
			if reqErr == nil {
				t.Fatal("the validator accepted the request")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(reqErr.Error(), w) {
					t.Errorf("validation error lacks %q: %v", w, reqErr)
				}
			}
			if calls := h.fake.recorded(); len(calls) != 0 {
				t.Errorf("a rejected request reached the server: %v", calls)
			}
		})
	}
}

// TestCaseNamesAreUnique keeps subtest names distinct, so a failure names one case.
func TestCaseNamesAreUnique(t *testing.T) {
	var names []string
	for _, tc := range contractCases() {
		names = append(names, tc.name)
	}
	slices.Sort(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("duplicate case name %q", names[i])
		}
	}
}
