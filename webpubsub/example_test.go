package webpubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// The examples run against webpubsubtest, an in-process Web PubSub service.
// In an application, the connection string comes from the Azure portal
// (Keys) or from `webpubsub serve`, and the WebSocket clients are browsers
// or apps.

func ExampleNewClientFromConnectionString() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;
	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	if err := client.CheckHealth(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("hub:", client.Hub(), "api-version:", client.APIVersion())
	// Output: hub: chat api-version: 2024-12-01
}

func ExampleNewClient() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	listener, err := srv.Dial(ctx, "chat", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer listener.Close()

	key, err := webpubsub.NewKeyCredential(srv.AccessKey())
	if err != nil {
		log.Fatal(err)
	}
	client, err := webpubsub.NewClientWithKey(srv.URL(), "chat", key, webpubsub.WithUserAgent("myapp"))
	if err != nil {
		log.Fatal(err)
	}
	if err := client.SendToAll(ctx, webpubsub.Text("hello"), nil); err != nil {
		log.Fatal(err)
	}
	msg, err := listener.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.DataType, msg.Text())
	fmt.Println(key) // never prints the key

	// After the key is regenerated in the portal, rotate it in place; the
	// client signs its next request with the new key.
	if err := key.Update("the-regenerated-secondary-key"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// text hello
	// webpubsub.KeyCredential([REDACTED])
}

func ExampleNewClient_entra() {
	// srv stands in for a service with Microsoft Entra ID authentication,
	// and cred for an azidentity credential such as
	// azidentity.NewDefaultAzureCredential(nil). Outside tests the endpoint
	// is https://<name>.webpubsub.azure.com and needs no WithHTTPClient.
	srv, err := webpubsubtest.Start(webpubsubtest.WithEntraTokens())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cred := &webpubsubtest.EntraCredential{}

	client, err := webpubsub.NewClient(srv.URL(), "chat", cred, webpubsub.WithHTTPClient(srv.HTTPClient()))
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
	fmt.Println("token requests:", cred.Requests())
	// Output: token requests: [[https://webpubsub.azure.com/.default]]
}

func ExampleClient_SendToAll() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	alice, err := srv.Dial(ctx, "chat", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	bob, err := srv.Dial(ctx, "chat", "bob")
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	type chatMessage struct {
		From string `json:"from"`
		Text string `json:"text"`
	}
	err = client.SendToAll(ctx, webpubsub.JSON(chatMessage{From: "system", Text: "welcome"}), &webpubsub.SendToAllOptions{
		Excluded: []string{bob.ConnectionID()},
		TTL:      30 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}

	msg, err := alice.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var m chatMessage
	if err := msg.DecodeJSON(&m); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alice got %s %+v\n", msg.DataType, m)
	fmt.Println("bob got:", pending(bob))
	// Output:
	// alice got json {From:system Text:welcome}
	// bob got: nothing
}

func ExampleClient_SendToUser() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	phone, err := srv.Dial(ctx, "chat", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer phone.Close()
	laptop, err := srv.Dial(ctx, "chat", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer laptop.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	// Every connection of the user receives it.
	if err := client.SendToUser(ctx, "alice", webpubsub.Text("hi Alice"), nil); err != nil {
		log.Fatal(err)
	}
	for _, c := range []*webpubsubtest.Conn{phone, laptop} {
		msg, err := c.Receive(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(msg.Text())
	}
	// Output:
	// hi Alice
	// hi Alice
}

func ExampleClient_SendToConnection() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	device, err := srv.Dial(ctx, "chat", "sensor-7")
	if err != nil {
		log.Fatal(err)
	}
	defer device.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	// Connection ids come from the connected event (see package eventhandler).
	err = client.SendToConnection(ctx, device.ConnectionID(), webpubsub.Binary([]byte{0x01, 0x02}), nil)
	if err != nil {
		log.Fatal(err)
	}
	msg, err := device.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.DataType, msg.Data)
	// Output: binary [1 2]
}

func ExampleClient_SendToGroup() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	alice, err := srv.Dial(ctx, "chat", "alice", webpubsubtest.WithGroups("room 1"))
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	bob, err := srv.Dial(ctx, "chat", "bob", webpubsubtest.WithGroups("room 1", "muted"))
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	// Only the group's connections that are not muted receive it.
	filter, err := webpubsub.Filter("not({} in groups)", "muted")
	if err != nil {
		log.Fatal(err)
	}
	err = client.SendToGroup(ctx, "room 1", webpubsub.RawJSON([]byte(`{"n":1}`)), &webpubsub.SendToGroupOptions{Filter: filter})
	if err != nil {
		log.Fatal(err)
	}
	msg, err := alice.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alice got %s from %s %q\n", msg.Data, msg.From, msg.Group)
	fmt.Println("bob got:", pending(bob))
	// Output:
	// alice got {"n":1} from group "room 1"
	// bob got: nothing
}

func ExampleStream() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	listener, err := srv.Dial(ctx, "chat", "")
	if err != nil {
		log.Fatal(err)
	}
	defer listener.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	// A strings.Reader (like an *os.File) can seek, so a retried send
	// sends the same bytes again.
	report := strings.NewReader(`{"report":"…"}`)
	if err := client.SendToAll(ctx, webpubsub.Stream("application/json", report), nil); err != nil {
		log.Fatal(err)
	}
	msg, err := listener.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.DataType, msg.Text())
	// Output: json {"report":"…"}
}

func ExampleClient_Group() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	alice, err := srv.Dial(ctx, "chat", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	bob, err := srv.Dial(ctx, "chat", "bob")
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	room := client.Group("room-1")
	for _, id := range []string{alice.ConnectionID(), bob.ConnectionID()} {
		if err := room.AddConnection(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
	if err := room.Send(ctx, webpubsub.Text("hello room"), nil); err != nil {
		log.Fatal(err)
	}
	for _, c := range []*webpubsubtest.Conn{alice, bob} {
		msg, err := c.Receive(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(c.UserID(), "got", msg.Text())
	}

	if err := room.RemoveConnection(ctx, bob.ConnectionID()); err != nil {
		log.Fatal(err)
	}
	for m, err := range room.ListConnections(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("member:", m.UserID)
	}
	// Output:
	// alice got hello room
	// bob got hello room
	// member: alice
}

func ExampleClient_ConnectionExists() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	bob, err := srv.Dial(ctx, "chat", "bob")
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	// A 404 from the service is an answer (false), not an error.
	for _, id := range []string{bob.ConnectionID(), "no-such-connection"} {
		ok, err := client.ConnectionExists(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("connection open:", ok)
	}
	ok, err := client.UserExists(ctx, "bob")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob online:", ok)
	ok, err = client.GroupExists(ctx, "empty-group")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("empty-group has connections:", ok)
	// Output:
	// connection open: true
	// connection open: false
	// bob online: true
	// empty-group has connections: false
}

func ExampleClient_ListConnectionsInGroup() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	for _, user := range []string{"carol", "alice", "bob"} {
		c, err := srv.Dial(ctx, "chat", user, webpubsubtest.WithGroups("news"))
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
	}

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	// Pages (here of 2) are fetched as the loop needs them.
	var users []string
	for m, err := range client.ListConnectionsInGroup(ctx, "news", &webpubsub.ListConnectionsOptions{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		users = append(users, m.UserID)
	}
	slices.Sort(users) // the service returns members in no particular order
	fmt.Println(users)
	// Output: [alice bob carol]
}

func ExampleClient_ClientAccessToken() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// With an access key the token is signed locally: no request is sent.
	// Hand tok.URL to the browser or app that connects.
	tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{
		UserID: "alice",
		Roles:  []string{"webpubsub.joinLeaveGroup.room-1", "webpubsub.sendToGroup.room-1"},
		Groups: []string{"room-1"},
		Expiry: 30 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctx, tok.URL, &websocket.DialOptions{Subprotocols: []string{webpubsubtest.SubprotocolJSON}})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.CloseNow()
	_, data, err := ws.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var connected struct{ Event, UserID string }
	if err := json.Unmarshal(data, &connected); err != nil {
		log.Fatal(err)
	}
	fmt.Println(connected.Event, "as", connected.UserID)

	// MQTT and Socket.IO clients have endpoints of their own.
	mqtt, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{Protocol: webpubsub.ClientProtocolMQTT})
	if err != nil {
		log.Fatal(err)
	}
	u, err := url.Parse(mqtt.BaseURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Path)
	// Output:
	// connected as alice
	// /clients/mqtt/hubs/chat
}

func ExampleClient_ClientAccessToken_entra() {
	// srv stands in for a service with Microsoft Entra ID authentication,
	// and cred for an azidentity credential.
	srv, err := webpubsubtest.Start(webpubsubtest.WithEntraTokens())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cred := &webpubsubtest.EntraCredential{}

	// Without a key the service mints the token (POST :generateToken).
	client, err := webpubsub.NewClient(srv.URL(), "chat", cred, webpubsub.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := client.ClientAccessToken(context.Background(), &webpubsub.TokenOptions{UserID: "bob"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(srv.RequestsFor("GenerateClientToken")), "GenerateClientToken request")

	// The token connects a WebSocket client as bob.
	ws, _, err := websocket.Dial(context.Background(), tok.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.CloseNow()
	fmt.Println("connected with a service-minted token")
	// Output:
	// 1 GenerateClientToken request
	// connected with a service-minted token
}

func ExampleResponseError() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}

	err = client.AddConnectionToGroup(context.Background(), "room-1", "no-such-connection")
	var re *webpubsub.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Operation, re.StatusCode, re.ErrorCode)
	}
	// Output: AddConnectionToGroup 404 ConnectionNotFound
}

func ExampleErrInvalidArgument() {
	client, err := webpubsub.NewClientFromConnectionString("Endpoint=https://example.webpubsub.azure.com;AccessKey=key-key-key", "chat")
	if err != nil {
		log.Fatal(err)
	}

	// Bad input is refused before any request is sent.
	err = client.SendToUser(context.Background(), "", webpubsub.Text("hi"), nil)
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
	f, err = webpubsub.Filter("userId in {}", []string{"alice", "bob"})
	if err != nil {
		log.Fatal(err)
	}
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
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	// The service is briefly unavailable: the first two tries get 503.
	srv.InjectFault(webpubsubtest.Fault{Operation: "GetServiceStatus", Status: http.StatusServiceUnavailable, Count: 2})

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat",
		webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: 5, RetryDelay: 50 * time.Millisecond}),
		webpubsub.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := client.CheckHealth(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("healthy after", len(srv.RequestsFor("GetServiceStatus")), "tries")
	// Output: healthy after 3 tries
}
