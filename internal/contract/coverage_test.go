package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/webpubsub-go/sdk/webpubsub"
)

// wrapperCall calls one operation through webpubsub.Client with every
// option set, so that every parameter the wrapper supports goes out.
type wrapperCall func(ctx context.Context, key, entra *webpubsub.Client) error

// wrapperCalls are keyed by operationId. The parameters each call must put
// on the wire are not listed here: they come from api/webpubsub.yaml.
var wrapperCalls = map[string]wrapperCall{
	"GetServiceStatus": func(ctx context.Context, c, _ *webpubsub.Client) error { return c.CheckHealth(ctx) },
	"AddConnectionsToGroups": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.AddConnectionsToGroups(ctx, []string{"g1", "g2"}, "userId eq 'u1'")
	},
	"RemoveConnectionsFromGroups": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.RemoveConnectionsFromGroups(ctx, []string{"g1"}, "userId eq 'u1'")
	},
	"CloseAllConnections": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.CloseAllConnections(ctx, &webpubsub.CloseConnectionsOptions{Reason: "bye", Excluded: []string{"c1"}})
	},
	"GenerateClientToken": func(ctx context.Context, _, e *webpubsub.Client) error {
		// Only a Microsoft Entra ID client asks the service for a token.
		_, err := e.ClientAccessToken(ctx, &webpubsub.TokenOptions{
			UserID: "u1", Roles: []string{"webpubsub.sendToGroup"}, Groups: []string{"g1"},
			Expiry: time.Hour, Protocol: webpubsub.ClientProtocolMQTT,
		})
		return err
	},
	"SendToAll": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.SendToAll(ctx, webpubsub.Text("hi"), &webpubsub.SendToAllOptions{
			Filter: "userId ne 'u2'", Excluded: []string{"c1"}, TTL: time.Minute,
		})
	},
	"CloseConnection": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.CloseConnection(ctx, "c1", &webpubsub.CloseConnectionOptions{Reason: "bye"})
	},
	"ConnectionExists": func(ctx context.Context, c, _ *webpubsub.Client) error {
		_, err := c.ConnectionExists(ctx, "c1")
		return err
	},
	"SendToConnection": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.SendToConnection(ctx, "c1", webpubsub.Text("hi"), &webpubsub.SendToConnectionOptions{TTL: time.Minute})
	},
	"RemoveConnectionFromAllGroups": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.RemoveConnectionFromAllGroups(ctx, "c1")
	},
	"GroupExists": func(ctx context.Context, c, _ *webpubsub.Client) error {
		_, err := c.GroupExists(ctx, "g1")
		return err
	},
	"CloseGroupConnections": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.CloseGroupConnections(ctx, "g1", &webpubsub.CloseConnectionsOptions{Reason: "bye", Excluded: []string{"c1"}})
	},
	"SendToGroup": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.Group("g1").Send(ctx, webpubsub.Text("hi"), &webpubsub.SendToGroupOptions{
			Filter: "userId ne 'u2'", Excluded: []string{"c1"}, TTL: time.Minute,
		})
	},
	"ListConnectionsInGroup": func(ctx context.Context, c, _ *webpubsub.Client) error {
		// Three members over pages of two: the second page carries the
		// continuation token of the first one's nextLink.
		n := 0
		for _, err := range c.ListConnectionsInGroup(ctx, "g1", &webpubsub.ListConnectionsOptions{PageSize: 2, Top: 3}) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 3 {
			return fmt.Errorf("listed %d members, want 3", n)
		}
		return nil
	},
	"RemoveConnectionFromGroup": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.RemoveConnectionFromGroup(ctx, "g1", "c1")
	},
	"AddConnectionToGroup": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.AddConnectionToGroup(ctx, "g1", "c1")
	},
	"RevokePermission": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.RevokePermission(ctx, webpubsub.PermissionSendToGroup, "c1", &webpubsub.PermissionOptions{TargetGroup: "g1"})
	},
	"CheckPermission": func(ctx context.Context, c, _ *webpubsub.Client) error {
		_, err := c.HasPermission(ctx, webpubsub.PermissionSendToGroup, "c1", &webpubsub.PermissionOptions{TargetGroup: "g1"})
		return err
	},
	"GrantPermission": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.GrantPermission(ctx, webpubsub.PermissionJoinLeaveGroup, "c1", &webpubsub.PermissionOptions{TargetGroup: "g1"})
	},
	"UserExists": func(ctx context.Context, c, _ *webpubsub.Client) error {
		_, err := c.UserExists(ctx, "u1")
		return err
	},
	"CloseUserConnections": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.CloseUserConnections(ctx, "u1", &webpubsub.CloseConnectionsOptions{Reason: "bye", Excluded: []string{"c1"}})
	},
	"SendToUser": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.SendToUser(ctx, "u1", webpubsub.Text("hi"), &webpubsub.SendToUserOptions{Filter: "userId ne 'u2'", TTL: time.Minute})
	},
	"RemoveUserFromAllGroups": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.RemoveUserFromAllGroups(ctx, "u1")
	},
	"RemoveUserFromGroup": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.Group("g1").RemoveUser(ctx, "u1")
	},
	"AddUserToGroup": func(ctx context.Context, c, _ *webpubsub.Client) error {
		return c.Group("g1").AddUser(ctx, "u1")
	},
}

// documentParam is one input of an operation as api/webpubsub.yaml declares
// it: a path or query parameter, or a property of a JSON request body.
type documentParam struct{ In, Name string }

func (p documentParam) String() string { return p.In + " parameter " + p.Name }

// documentInputs lists every operation's inputs, keyed by operationId.
func documentInputs(t *testing.T) map[string][]documentParam {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(documentPath)
	if err != nil {
		t.Fatalf("load %s: %v", documentPath, err)
	}
	out := map[string][]documentParam{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			var inputs []documentParam
			for _, ref := range slices.Concat(item.Parameters, op.Parameters) {
				inputs = append(inputs, documentParam{In: ref.Value.In, Name: ref.Value.Name})
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					for name := range mt.Schema.Value.Properties {
						inputs = append(inputs, documentParam{In: "body", Name: name})
					}
				}
			}
			sort.Slice(inputs, func(i, j int) bool { return inputs[i].String() < inputs[j].String() })
			out[op.OperationID] = inputs
		}
	}
	return out
}

// fakeToken is a Microsoft Entra ID credential for the loopback harness.
type fakeToken struct{}

func (fakeToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "entra-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestEveryDocumentParameterReachesTheWire calls every operation of
// api/webpubsub.yaml through webpubsub.Client with every option set and
// checks that each parameter the document declares for it (path, query and
// JSON body properties) is on the wire. A parameter added to the document
// and regenerated, but not exposed by the wrapper, fails here by name.
func TestEveryDocumentParameterReachesTheWire(t *testing.T) {
	router, err := loadRouter()
	if err != nil {
		t.Fatalf("load %s: %v", documentPath, err)
	}
	inputs := documentInputs(t)
	var missingCalls []string
	for op := range inputs {
		if wrapperCalls[op] == nil {
			missingCalls = append(missingCalls, op)
		}
	}
	slices.Sort(missingCalls)
	if len(missingCalls) > 0 {
		t.Errorf("operations of %s with no wrapperCalls entry (call them through webpubsub.Client with every option set): %s",
			documentPath, strings.Join(missingCalls, ", "))
	}
	for op := range wrapperCalls {
		if inputs[op] == nil {
			t.Errorf("wrapperCalls has %s, which %s does not define", op, documentPath)
		}
	}

	for _, op := range slices.Sorted(maps.Keys(wrapperCalls)) {
		want, ok := inputs[op]
		if !ok {
			continue
		}
		t.Run(op, func(t *testing.T) {
			h := newHarness(t)
			srv := h.url
			key, err := webpubsub.NewKeyCredential("contract-key-0123456789abcdefghijklmnopqrstuvwxyz")
			if err != nil {
				t.Fatal(err)
			}
			kc, err := webpubsub.NewClientWithKey(srv, hub, key)
			if err != nil {
				t.Fatal(err)
			}
			ec, err := webpubsub.NewClient(srv, hub, fakeToken{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := wrapperCalls[op](ctx, kc, ec); err != nil {
				t.Fatalf("the call failed: %v", err)
			}
			if reqErr, _ := h.errs(); reqErr != nil {
				t.Fatalf("the document rejects the wrapper's request: %v", reqErr)
			}
			seen := map[documentParam]bool{}
			for _, w := range h.recordedWires() {
				r, err := http.NewRequest(w.Method, srv+w.Path+"?"+w.Query, nil)
				if err != nil {
					t.Fatal(err)
				}
				route, pathParams, err := router.FindRoute(r)
				if err != nil || route.Operation.OperationID != op {
					continue
				}
				for name := range pathParams {
					seen[documentParam{In: "path", Name: name}] = true
				}
				q, err := url.ParseQuery(w.Query)
				if err != nil {
					t.Fatal(err)
				}
				for name := range q {
					seen[documentParam{In: "query", Name: name}] = true
				}
				var body map[string]json.RawMessage
				if w.ContentType == "application/json" && json.Unmarshal([]byte(w.Body), &body) == nil {
					for name := range body {
						seen[documentParam{In: "body", Name: name}] = true
					}
				}
			}
			for _, p := range want {
				if !seen[p] {
					t.Errorf("%s of api/webpubsub.yaml never reaches the wire through webpubsub.Client: "+
						"expose it in the wrapper (an option of the %s call) and set it in wrapperCalls", p, op)
				}
			}
		})
	}
}
