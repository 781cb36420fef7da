package webpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// Error handling written for the other Azure SDKs sees the status and the
// error code, and the client request id correlates the failure with the
// service's logs.
func ExampleWithClientRequestID() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "chat")
	if err != nil {
		log.Fatal(err)
	}

	ctx := webpubsub.WithClientRequestID(context.Background(), "order-7731")
	err = client.AddConnectionToGroup(ctx, "room-1", "no-such-connection")
	var azErr *azcore.ResponseError
	if errors.As(err, &azErr) {
		fmt.Println(azErr.StatusCode, azErr.ErrorCode)
	}
	var re *webpubsub.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.RequestID)
	}
	// Output:
	// 404 ConnectionNotFound
	// order-7731
}

// A listing resumed from the continuation token of its first page yields
// exactly the members after that page.
func ExampleClient_ListConnectionsInGroupPages() {
	srv, err := webpubsubtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	for _, user := range []string{"ann", "ben", "cat", "dan", "eve"} {
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

	opts := &webpubsub.ListConnectionsOptions{PageSize: 2}
	var saved string
	seen := 0
	for page, err := range client.ListConnectionsInGroupPages(ctx, "news", opts) {
		if err != nil {
			log.Fatal(err)
		}
		seen += len(page.Members)
		saved = page.ContinuationToken // persist it, to resume after a crash
		if seen >= 2 {
			break // stop here, as a crash would
		}
	}
	opts.ContinuationToken = saved
	rest := 0
	for page, err := range client.ListConnectionsInGroupPages(ctx, "news", opts) {
		if err != nil {
			log.Fatal(err)
		}
		rest += len(page.Members)
	}
	fmt.Println(seen, "then", rest)
	// Output: 2 then 3
}
