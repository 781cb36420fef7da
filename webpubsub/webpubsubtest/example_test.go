package webpubsubtest_test

import (
	"context"
	"fmt"

	"github.com/webpubsub-go/sdk/webpubsub"
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
