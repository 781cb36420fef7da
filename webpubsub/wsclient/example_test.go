package wsclient_test

import (
	"context"
	"fmt"
	"time"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
	"github.com/webpubsub-go/sdk/webpubsub/wsclient"
)

// A client connects with a client access URL from the app's server side,
// joins a group, and receives what is published to it.
func Example() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The server side hands out the URL (usually from a negotiate endpoint).
	service, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		panic(err)
	}
	tok, err := service.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "alice", Roles: []string{"webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"}})
	if err != nil {
		panic(err)
	}

	c, err := wsclient.New(tok.URL, nil) // the reliable protocol by default
	if err != nil {
		panic(err)
	}
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	defer c.Stop()
	if err := c.JoinGroup(ctx, "room"); err != nil {
		panic(err)
	}
	if err := c.SendToGroup(ctx, "room", wsclient.JSON(map[string]string{"text": "hi"}), nil); err != nil {
		panic(err)
	}
	if err := service.SendToGroup(ctx, "room", webpubsub.Text("hello from the server"), nil); err != nil {
		panic(err)
	}
	for m := range c.Messages(ctx) {
		fmt.Printf("%s %s from %q: %s %s\n", m.From, m.Group, m.FromUserID, m.DataType, m.Bytes())
		if m.DataType == wsclient.DataTypeText {
			break
		}
	}
	// Output:
	// group room from "alice": json {"text":"hi"}
	// group room from "": text hello from the server
}

// NewWithURLFunc fetches a fresh URL for every new connection, and the
// callbacks report the life cycle.
func ExampleNewWithURLFunc() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	service, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		panic(err)
	}
	negotiate := func(ctx context.Context) (string, error) {
		tok, err := service.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "bob"})
		if err != nil {
			return "", err
		}
		return tok.URL, nil
	}
	received := make(chan struct{})
	c, err := wsclient.NewWithURLFunc(negotiate, &wsclient.Options{
		OnConnected: func(ev wsclient.ConnectedEvent) { fmt.Println("connected as", ev.UserID) },
		OnMessage: func(m wsclient.Message) {
			fmt.Println("received", m.Data)
			close(received)
		},
		OnStopped: func(ev wsclient.StoppedEvent) { fmt.Println("stopped", ev.Err) },
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		panic(err)
	}
	if err := service.SendToUser(ctx, "bob", webpubsub.Text("welcome"), nil); err != nil {
		panic(err)
	}
	select {
	case <-received:
	case <-ctx.Done():
		panic("no message")
	}
	c.Stop()
	// Output:
	// connected as bob
	// received welcome
	// stopped <nil>
}
