package contract

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/webpubsub-go/sdk/gen"
)

// Names the fake treats specially, so a test can ask for a 404 or an error.
const (
	missing        = "missing"     // an id or group the exists checks report as absent (404)
	failingHub     = "failing"     // a hub on which operations answer with an error
	textFailingHub = "failingText" // a hub on which operations answer with a text/plain error
	errorCode      = "Forbidden.Test"
)

// call is what the strict server handed the fake for one request.
type call struct {
	Op string
	// Request is the generated request object. For sends with a binary body
	// the io.Reader is read into Binary and Request.Body is set to nil.
	Request any
	Binary  []byte
}

// fakeService implements gen.StrictServerInterface and records every call.
type fakeService struct {
	mu    sync.Mutex
	calls []call
}

var _ gen.StrictServerInterface = (*fakeService)(nil)

func (f *fakeService) record(op string, req any, binary []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{Op: op, Request: req, Binary: binary})
}

// recorded returns the calls so far.
func (f *fakeService) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// readBinary drains a binary body; a strict-server send has one only for
// application/octet-stream.
func readBinary(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read binary body: %w", err)
	}
	return b, nil
}

func ptr[T any](v T) *T { return &v }

func jsonError(status int, msg string) (gen.ErrorDetail, gen.ErrorResponseHeaders, int) {
	return gen.ErrorDetail{Code: ptr(errorCode), Message: ptr(msg)}, gen.ErrorResponseHeaders{XMsErrorCode: ptr(errorCode)}, status
}

func (f *fakeService) GetServiceStatus(_ context.Context, r gen.GetServiceStatusRequestObject) (gen.GetServiceStatusResponseObject, error) {
	f.record("GetServiceStatus", r, nil)
	return gen.GetServiceStatus200Response{}, nil
}

func (f *fakeService) AddConnectionsToGroups(_ context.Context, r gen.AddConnectionsToGroupsRequestObject) (gen.AddConnectionsToGroupsResponseObject, error) {
	f.record("AddConnectionsToGroups", r, nil)
	return gen.AddConnectionsToGroups200Response{}, nil
}

func (f *fakeService) CloseAllConnections(_ context.Context, r gen.CloseAllConnectionsRequestObject) (gen.CloseAllConnectionsResponseObject, error) {
	f.record("CloseAllConnections", r, nil)
	return gen.CloseAllConnections204Response{}, nil
}

func (f *fakeService) GenerateClientToken(_ context.Context, r gen.GenerateClientTokenRequestObject) (gen.GenerateClientTokenResponseObject, error) {
	f.record("GenerateClientToken", r, nil)
	user := ""
	if r.Params.UserID != nil {
		user = *r.Params.UserID
	}
	return gen.GenerateClientToken200JSONResponse{Token: ptr("token-for-" + user)}, nil
}

func (f *fakeService) RemoveConnectionsFromGroups(_ context.Context, r gen.RemoveConnectionsFromGroupsRequestObject) (gen.RemoveConnectionsFromGroupsResponseObject, error) {
	f.record("RemoveConnectionsFromGroups", r, nil)
	return gen.RemoveConnectionsFromGroups200Response{}, nil
}

func (f *fakeService) SendToAll(_ context.Context, r gen.SendToAllRequestObject) (gen.SendToAllResponseObject, error) {
	b, err := readBinary(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = nil
	f.record("SendToAll", r, b)
	if r.Hub == failingHub {
		body, headers, status := jsonError(403, "sending is not allowed")
		return gen.SendToAlldefaultJSONResponse{Body: body, Headers: headers, StatusCode: status}, nil
	}
	return gen.SendToAll202Response{}, nil
}

func (f *fakeService) CloseConnection(_ context.Context, r gen.CloseConnectionRequestObject) (gen.CloseConnectionResponseObject, error) {
	f.record("CloseConnection", r, nil)
	if r.Hub == textFailingHub {
		return gen.CloseConnectiondefaultTextResponse{Body: "the service is busy", Headers: gen.ErrorResponseHeaders{XMsErrorCode: ptr(errorCode)}, StatusCode: 503}, nil
	}
	return gen.CloseConnection204Response{}, nil
}

func (f *fakeService) ConnectionExists(_ context.Context, r gen.ConnectionExistsRequestObject) (gen.ConnectionExistsResponseObject, error) {
	f.record("ConnectionExists", r, nil)
	switch {
	case r.Hub == failingHub:
		return gen.ConnectionExistsdefaultResponse{Headers: gen.ErrorWithoutBodyResponseHeaders{XMsErrorCode: ptr(errorCode)}, StatusCode: 403}, nil
	case r.ConnectionID == missing:
		return gen.ConnectionExists404Response{}, nil
	}
	return gen.ConnectionExists200Response{}, nil
}

func (f *fakeService) SendToConnection(_ context.Context, r gen.SendToConnectionRequestObject) (gen.SendToConnectionResponseObject, error) {
	b, err := readBinary(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = nil
	f.record("SendToConnection", r, b)
	return gen.SendToConnection202Response{}, nil
}

func (f *fakeService) RemoveConnectionFromAllGroups(_ context.Context, r gen.RemoveConnectionFromAllGroupsRequestObject) (gen.RemoveConnectionFromAllGroupsResponseObject, error) {
	f.record("RemoveConnectionFromAllGroups", r, nil)
	return gen.RemoveConnectionFromAllGroups204Response{}, nil
}

func (f *fakeService) GroupExists(_ context.Context, r gen.GroupExistsRequestObject) (gen.GroupExistsResponseObject, error) {
	f.record("GroupExists", r, nil)
	if r.Group == missing {
		return gen.GroupExists404Response{}, nil
	}
	return gen.GroupExists200Response{}, nil
}

func (f *fakeService) CloseGroupConnections(_ context.Context, r gen.CloseGroupConnectionsRequestObject) (gen.CloseGroupConnectionsResponseObject, error) {
	f.record("CloseGroupConnections", r, nil)
	return gen.CloseGroupConnections204Response{}, nil
}

func (f *fakeService) SendToGroup(_ context.Context, r gen.SendToGroupRequestObject) (gen.SendToGroupResponseObject, error) {
	b, err := readBinary(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = nil
	f.record("SendToGroup", r, b)
	return gen.SendToGroup202Response{}, nil
}

func (f *fakeService) ListConnectionsInGroup(_ context.Context, r gen.ListConnectionsInGroupRequestObject) (gen.ListConnectionsInGroupResponseObject, error) {
	f.record("ListConnectionsInGroup", r, nil)
	return gen.ListConnectionsInGroup200JSONResponse{
		Value:    []gen.GroupMember{{ConnectionID: "c1", UserID: ptr("u1")}, {ConnectionID: "c2"}},
		NextLink: ptr("https://example.webpubsub.azure.com/api/hubs/hub1/groups/g/connections?continuationToken=next"),
	}, nil
}

func (f *fakeService) RemoveConnectionFromGroup(_ context.Context, r gen.RemoveConnectionFromGroupRequestObject) (gen.RemoveConnectionFromGroupResponseObject, error) {
	f.record("RemoveConnectionFromGroup", r, nil)
	return gen.RemoveConnectionFromGroup204Response{}, nil
}

func (f *fakeService) AddConnectionToGroup(_ context.Context, r gen.AddConnectionToGroupRequestObject) (gen.AddConnectionToGroupResponseObject, error) {
	f.record("AddConnectionToGroup", r, nil)
	return gen.AddConnectionToGroup200Response{}, nil
}

func (f *fakeService) RevokePermission(_ context.Context, r gen.RevokePermissionRequestObject) (gen.RevokePermissionResponseObject, error) {
	f.record("RevokePermission", r, nil)
	return gen.RevokePermission204Response{}, nil
}

func (f *fakeService) CheckPermission(_ context.Context, r gen.CheckPermissionRequestObject) (gen.CheckPermissionResponseObject, error) {
	f.record("CheckPermission", r, nil)
	if r.ConnectionID == missing {
		return gen.CheckPermission404Response{}, nil
	}
	return gen.CheckPermission200Response{}, nil
}

func (f *fakeService) GrantPermission(_ context.Context, r gen.GrantPermissionRequestObject) (gen.GrantPermissionResponseObject, error) {
	f.record("GrantPermission", r, nil)
	return gen.GrantPermission200Response{}, nil
}

func (f *fakeService) UserExists(_ context.Context, r gen.UserExistsRequestObject) (gen.UserExistsResponseObject, error) {
	f.record("UserExists", r, nil)
	if r.UserID == missing {
		return gen.UserExists404Response{}, nil
	}
	return gen.UserExists200Response{}, nil
}

func (f *fakeService) CloseUserConnections(_ context.Context, r gen.CloseUserConnectionsRequestObject) (gen.CloseUserConnectionsResponseObject, error) {
	f.record("CloseUserConnections", r, nil)
	return gen.CloseUserConnections204Response{}, nil
}

func (f *fakeService) SendToUser(_ context.Context, r gen.SendToUserRequestObject) (gen.SendToUserResponseObject, error) {
	b, err := readBinary(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = nil
	f.record("SendToUser", r, b)
	return gen.SendToUser202Response{}, nil
}

func (f *fakeService) RemoveUserFromAllGroups(_ context.Context, r gen.RemoveUserFromAllGroupsRequestObject) (gen.RemoveUserFromAllGroupsResponseObject, error) {
	f.record("RemoveUserFromAllGroups", r, nil)
	return gen.RemoveUserFromAllGroups204Response{}, nil
}

func (f *fakeService) RemoveUserFromGroup(_ context.Context, r gen.RemoveUserFromGroupRequestObject) (gen.RemoveUserFromGroupResponseObject, error) {
	f.record("RemoveUserFromGroup", r, nil)
	return gen.RemoveUserFromGroup204Response{}, nil
}

func (f *fakeService) AddUserToGroup(_ context.Context, r gen.AddUserToGroupRequestObject) (gen.AddUserToGroupResponseObject, error) {
	f.record("AddUserToGroup", r, nil)
	return gen.AddUserToGroup200Response{}, nil
}
