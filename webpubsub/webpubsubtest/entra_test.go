package webpubsubtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

func TestWithEntraTokens(t *testing.T) {
	srv := webpubsubtest.NewServer(t, webpubsubtest.WithEntraTokens())
	cred := &webpubsubtest.EntraCredential{}
	client, err := webpubsub.NewClient(srv.URL(), "chat", cred, webpubsub.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	alice := srv.Connect(t, "chat", "alice", webpubsubtest.WithGroups("room"))
	for _, text := range []string{"one", "two"} {
		if err := client.SendToGroup(ctx(t), "room", webpubsub.Text(text), nil); err != nil {
			t.Fatalf("SendToGroup with an Entra token: %v", err)
		}
		if diff := cmp.Diff(webpubsubtest.Message{From: "group", Group: "room", DataType: "text", Data: []byte(text)}, alice.Next(t)); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
	}
	ok, err := client.UserExists(ctx(t), "alice")
	if err != nil || !ok {
		t.Errorf("UserExists(alice) = %v, %v; want true", ok, err)
	}

	// Without a key the client token comes from :generateToken, and the
	// server accepts it for a WebSocket connection.
	tok, err := client.ClientAccessToken(ctx(t), &webpubsub.TokenOptions{UserID: "bob", Groups: []string{"room"}})
	if err != nil {
		t.Fatalf("ClientAccessToken with an Entra token: %v", err)
	}
	if n := len(srv.RequestsFor("GenerateClientToken")); n != 1 {
		t.Errorf("%d GenerateClientToken requests, want 1", n)
	}
	u, err := url.Parse(tok.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "http"
	ws, resp, err := websocket.Dial(ctx(t), u.String(), nil)
	if err != nil {
		t.Fatalf("dial with the service-minted token: %v (%v)", err, resp)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// One token, fetched once, for the right scope.
	if diff := cmp.Diff([][]string{{"https://webpubsub.azure.com/.default"}}, cred.Requests()); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
}

func TestEntraTokensRefusedByDefault(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	client, err := webpubsub.NewClient(srv.URL(), "chat", &webpubsubtest.EntraCredential{}, webpubsub.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	err = client.SendToAll(ctx(t), webpubsub.Text("hi"), nil)
	var re *webpubsub.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SendToAll without WithEntraTokens: %v, want a 401 *ResponseError", err)
	}
}

func TestEntraCredentialError(t *testing.T) {
	srv := webpubsubtest.NewServer(t, webpubsubtest.WithEntraTokens())
	boom := errors.New("entra is down")
	client, err := webpubsub.NewClient(srv.URL(), "chat", &webpubsubtest.EntraCredential{Err: boom}, webpubsub.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SendToAll(ctx(t), webpubsub.Text("hi"), nil); !errors.Is(err, boom) {
		t.Fatalf("SendToAll with a failing credential: %v, want it to wrap %v", err, boom)
	}
	if n := len(srv.RequestsFor("SendToAll")); n != 0 {
		t.Errorf("%d SendToAll requests reached the server without a token", n)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&webpubsubtest.EntraCredential{}).GetToken(cancelled, policyOpts("https://webpubsub.azure.com/.default")); !errors.Is(err, context.Canceled) {
		t.Errorf("GetToken with a cancelled context: %v", err)
	}
	if _, err := (&webpubsubtest.EntraCredential{}).GetToken(context.Background(), policyOpts("a", "b")); err == nil || !strings.Contains(err.Error(), "one scope") {
		t.Errorf("GetToken with two scopes: %v, want an error about the scope", err)
	}
}

func policyOpts(scopes ...string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: scopes}
}
