package webpubsubtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// A test starts a server, points the code under test at it, and asserts
// what a connected client received. In a test, use NewServer(t) and
// Connect(t, ...), which clean up by themselves.
func Example() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// A client of the hub "chat", in the group "room".
	conn, err := srv.Dial(ctx, "chat", "alice", webpubsubtest.WithGroups("room"))
	if err != nil {
		panic(err)
	}
	defer conn.Close()

	// The code under test sends with the SDK.
	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		panic(err)
	}
	if err := client.SendToGroup(ctx, "room", webpubsub.Text("hello"), nil); err != nil {
		panic(err)
	}

	msg, err := conn.Receive(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(msg.From, msg.Group, msg.DataType, msg.Text())
	for _, r := range srv.RequestsFor("SendToGroup") {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// group room text hello
	// POST /api/hubs/chat/groups/room/:send 202
}

// Faults make the next requests fail, to test retries and error handling.
func ExampleServer_InjectFault() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Status: 503, ErrorCode: "ServiceBusy"})

	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat",
		webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries: -1}))
	if err != nil {
		panic(err)
	}
	err = client.SendToAll(context.Background(), webpubsub.Text("hi"), nil)
	fmt.Println(err != nil)
	for _, r := range srv.Requests() {
		fmt.Println(r.Operation, r.Status, r.Fault)
	}
	// Output:
	// true
	// SendToAll 503 true
}

// A contract test of a whole app: the app's event handler (accepting known
// users and replying to "ping") gets the server's events in-process, and
// its server code sends to a group. A client connects, joins, sends an
// event, gets the reply and the group message, and disconnects; an unknown
// user is refused with the handler's reason.
func ExampleServer_SetEventHandler() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()

	// The app, configured from the connection string as in production.
	handler, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnect: func(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			if req.UserID != "alice" {
				return nil, eventhandler.Reject(http.StatusUnauthorized, "unknown user "+req.UserID)
			}
			return &eventhandler.ConnectResponse{Roles: []string{"webpubsub.joinLeaveGroup.room"}}, nil
		},
		OnEvent: func(_ context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			return eventhandler.TextReply("pong " + ev.Text()), nil
		},
	}, eventhandler.WithConnectionString(srv.ConnectionString()))
	if err != nil {
		panic(err)
	}
	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		panic(err)
	}
	if err := srv.SetEventHandler("chat", handler); err != nil {
		panic(err)
	}

	conn, err := srv.Dial(ctx, "chat", "alice")
	if err != nil {
		panic(err)
	}
	// The connected event does not delay the client: wait for it to keep
	// the recorded events in a fixed order.
	if _, err := srv.WaitForEvent(ctx, func(e webpubsubtest.Event) bool { return e.Name == "connected" }); err != nil {
		panic(err)
	}
	if err := conn.Join(ctx, "room"); err != nil {
		panic(err)
	}
	if err := conn.SendEvent(ctx, "ping", webpubsubtest.Text("1")); err != nil {
		panic(err)
	}
	reply, _ := conn.Receive(ctx)
	fmt.Println(reply.From, reply.Text())
	if err := client.SendToGroup(ctx, "room", webpubsub.Text("hello room"), nil); err != nil {
		panic(err)
	}
	msg, _ := conn.Receive(ctx)
	fmt.Println(msg.From, msg.Group, msg.Text())
	_ = conn.Close()
	if _, err := srv.WaitForEvent(ctx, func(e webpubsubtest.Event) bool { return e.Name == "disconnected" }); err != nil {
		panic(err)
	}

	// Dial's error carries the status and the handler's reason.
	_, err = srv.Dial(ctx, "chat", "mallory")
	fmt.Println("mallory refused:", strings.Contains(fmt.Sprint(err), "unknown user mallory"))
	for _, e := range srv.Events() {
		fmt.Println(e.Name, e.UserID, e.Status)
	}
	// Output:
	// server pong 1
	// group room hello room
	// mallory refused: true
	// connect alice 200
	// connected alice 200
	// ping alice 200
	// disconnected alice 200
	// connect mallory 401
}
