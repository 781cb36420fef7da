package webpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/webpubsub-go/sdk/webpubsub"
)

func ExampleNewClientFromConnectionString() {
	svc := newExampleService()
	defer svc.Close()

	// The connection string is in the Azure portal under Keys.
	client, err := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("hub:", client.Hub())
	// Output: hub: chat
}

func ExampleNewClient() {
	svc := newExampleService()
	defer svc.Close()

	key, err := webpubsub.NewKeyCredential("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH")
	if err != nil {
		log.Fatal(err)
	}
	client, err := webpubsub.NewClient(svc.URL, "chat", key, webpubsub.WithUserAgent("myapp"))
	if err != nil {
		log.Fatal(err)
	}
	if err := client.SendToAll(context.Background(), webpubsub.Text("hello"), nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.last())
	fmt.Println(key) // never prints the key

	// The key can be rotated while the client is in use.
	if err := key.Update("the-regenerated-secondary-key"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// POST /api/hubs/chat/:send text/plain hello
	// webpubsub.KeyCredential([REDACTED])
}

// fakeEntraCredential stands in for an azidentity credential, such as
// azidentity.NewDefaultAzureCredential.
type fakeEntraCredential struct{}

func (fakeEntraCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	fmt.Println("token requested for", o.Scopes)
	return azcore.AccessToken{Token: "entra-access-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func ExampleNewClient_entra() {
	svc := newExampleService()
	defer svc.Close()

	client, err := webpubsub.NewClient(svc.URL, "chat", fakeEntraCredential{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// The token is fetched once and cached until shortly before it expires.
	for range 3 {
		if err := client.SendToAll(ctx, webpubsub.Text("hi"), nil); err != nil {
			log.Fatal(err)
		}
	}
	// Output: token requested for [https://webpubsub.azure.com/.default]
}

func ExampleClient_SendToAll() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")
	ctx := context.Background()

	type chatMessage struct {
		From string `json:"from"`
		Text string `json:"text"`
	}
	err := client.SendToAll(ctx, webpubsub.JSON(chatMessage{From: "system", Text: "welcome"}), &webpubsub.SendToAllOptions{
		Excluded: []string{"conn-2"},
		TTL:      30 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.last())
	// Output: POST /api/hubs/chat/:send application/json {"from":"system","text":"welcome"}
}

func ExampleClient_SendToUser() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")

	if err := client.SendToUser(context.Background(), "alice", webpubsub.Text("hi Alice"), nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.last())
	// Output: POST /api/hubs/chat/users/alice/:send text/plain hi Alice
}

func ExampleClient_SendToConnection() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")

	if err := client.SendToConnection(context.Background(), "conn-1", webpubsub.Binary([]byte("\x01\x02")), nil); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", svc.last())
	// Output: "POST /api/hubs/chat/connections/conn-1/:send application/octet-stream \x01\x02"
}

func ExampleClient_SendToGroup() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")

	// Only the group's connections that are not muted receive it.
	filter, err := webpubsub.Filter("not({} in groups)", "muted")
	if err != nil {
		log.Fatal(err)
	}
	err = client.SendToGroup(context.Background(), "room 1", webpubsub.RawJSON([]byte(`{"n":1}`)), &webpubsub.SendToGroupOptions{Filter: filter})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.last())
	// Output: POST /api/hubs/chat/groups/room%201/:send application/json {"n":1}
}

func ExampleStream() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")

	// A strings.Reader (like an *os.File) can seek, so a retried send
	// sends the same bytes again.
	large := strings.NewReader(`{"report":"…"}`)
	if err := client.SendToAll(context.Background(), webpubsub.Stream("application/json", large), nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.last())
	// Output: POST /api/hubs/chat/:send application/json {"report":"…"}
}

func ExampleClient_Group() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")
	ctx := context.Background()

	room := client.Group("room-1")
	for _, id := range []string{"conn-1", "conn-2"} {
		if err := room.AddConnection(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
	if err := room.Send(ctx, webpubsub.Text("hello room"), nil); err != nil {
		log.Fatal(err)
	}
	if err := room.RemoveConnection(ctx, "conn-2"); err != nil {
		log.Fatal(err)
	}
	for m, err := range room.ListConnections(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("member:", m.ConnectionID, m.UserID)
	}
	// Output: member: conn-1 alice
}

func ExampleClient_ConnectionExists() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")
	ctx := context.Background()

	for _, id := range []string{"conn-1", "conn-9"} {
		ok, err := client.ConnectionExists(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(id, ok)
	}
	ok, _ := client.UserExists(ctx, "bob")
	fmt.Println("bob", ok)
	ok, _ = client.GroupExists(ctx, "empty-group")
	fmt.Println("empty-group", ok)
	// Output:
	// conn-1 true
	// conn-9 false
	// bob true
	// empty-group false
}

func ExampleClient_ListConnectionsInGroup() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")
	ctx := context.Background()
	_ = client.AddConnectionToGroup(ctx, "news", "conn-2")

	// Pages are fetched as the loop needs them.
	for m, err := range client.ListConnectionsInGroup(ctx, "news", &webpubsub.ListConnectionsOptions{PageSize: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.ConnectionID, m.UserID)
	}
	// Output: conn-2 bob
}

func ExampleClient_ClientAccessToken() {
	// With an access key the token is signed locally: no request is sent.
	client, err := webpubsub.NewClientFromConnectionString(
		"Endpoint=https://example.webpubsub.azure.com;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;", "chat")
	if err != nil {
		log.Fatal(err)
	}
	tok, err := client.ClientAccessToken(context.Background(), &webpubsub.TokenOptions{
		UserID: "alice",
		Roles:  []string{"webpubsub.joinLeaveGroup.room-1", "webpubsub.sendToGroup.room-1"},
		Groups: []string{"room-1"},
		Expiry: 30 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.BaseURL)
	fmt.Println(strings.HasPrefix(tok.URL, tok.BaseURL+"?access_token="))

	mqtt, _ := client.ClientAccessToken(context.Background(), &webpubsub.TokenOptions{Protocol: webpubsub.ClientProtocolMQTT})
	fmt.Println(mqtt.BaseURL)
	// Output:
	// wss://example.webpubsub.azure.com/client/hubs/chat
	// true
	// wss://example.webpubsub.azure.com/clients/mqtt/hubs/chat
}

func ExampleClient_ClientAccessToken_entra() {
	svc := newExampleService()
	defer svc.Close()
	// Without a key the service mints the token (POST :generateToken).
	client, _ := webpubsub.NewClient(svc.URL, "chat", fakeEntraCredential{})
	tok, err := client.ClientAccessToken(context.Background(), &webpubsub.TokenOptions{UserID: "bob"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Token)
	// Output:
	// token requested for [https://webpubsub.azure.com/.default]
	// service-minted-token
}

func ExampleResponseError() {
	svc := newExampleService()
	defer svc.Close()
	client, _ := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat")

	err := client.AddConnectionToGroup(context.Background(), "room-1", "no-such-connection")
	var re *webpubsub.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Operation, re.StatusCode, re.ErrorCode)
	}
	// Output: AddConnectionToGroup 404 ConnectionNotFound
}

func ExampleErrInvalidArgument() {
	client, _ := webpubsub.NewClientFromConnectionString("Endpoint=https://example.webpubsub.azure.com;AccessKey=key-key-key", "chat")

	// Bad input is refused before any request is sent.
	err := client.SendToUser(context.Background(), "", webpubsub.Text("hi"), nil)
	fmt.Println(errors.Is(err, webpubsub.ErrInvalidArgument))
	fmt.Println(err)

	_, err = webpubsub.NewClientFromConnectionString("Endpoint=https://example.webpubsub.azure.com;AccessKey=k", "my-hub")
	fmt.Println(err)
	// Output:
	// true
	// webpubsub: invalid argument: user id is empty
	// webpubsub: invalid argument: hub "my-hub" must start with a letter and have at most 128 letters, digits or _`,.[] (no hyphens)
}

func ExampleFilter() {
	// Values are quoted, so user input cannot change the filter's meaning.
	f, err := webpubsub.Filter("userId eq {} and {} in groups", "x' or '1' eq '1", "vip")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f)
	f, _ = webpubsub.Filter("userId in {}", []string{"alice", "bob"})
	fmt.Println(f)
	// Output:
	// userId eq 'x'' or ''1'' eq ''1' and 'vip' in groups
	// userId in ('alice','bob')
}

func ExampleParseConnectionString() {
	cs, err := webpubsub.ParseConnectionString("Endpoint=http://localhost;Port=8080;AccessKey=secret-key;Version=1.0;")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cs.Endpoint)
	fmt.Println(cs) // the key is never printed
	// Output:
	// http://localhost:8080
	// Endpoint=http://localhost:8080;AccessKey=[REDACTED];Version=1.0;
}

func ExampleWithRetry() {
	svc := newExampleService()
	defer svc.Close()
	client, err := webpubsub.NewClientFromConnectionString(svc.connectionString(), "chat",
		webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: 5, RetryDelay: 200 * time.Millisecond}),
		webpubsub.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.CheckHealth(context.Background()))
	// Output: <nil>
}
