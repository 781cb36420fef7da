package eventhandler_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// The connection string of the service in these examples. Real apps read it
// from their configuration.
const (
	exampleKey              = "ZXhhbXBsZS1hY2Nlc3Mta2V5LW5vdC1hLXJlYWwtb25l"
	exampleConnectionString = "Endpoint=https://demo.webpubsub.azure.com;AccessKey=" + exampleKey + ";Version=1.0;"
)

// postEvent plays the service: it POSTs a signed CloudEvent to url.
func postEvent(url, ceType, connectionID, contentType, body string) *http.Response {
	mac := hmac.New(sha256.New, []byte(exampleKey))
	mac.Write([]byte(connectionID))
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	for k, v := range map[string]string{
		"Content-Type":           contentType,
		"WebHook-Request-Origin": "demo.webpubsub.azure.com",
		"ce-specversion":         "1.0",
		"ce-awpsversion":         "1.0",
		"ce-type":                ceType,
		"ce-source":              "/hubs/chat/client/" + connectionID,
		"ce-id":                  "1",
		"ce-time":                "2026-01-01T00:00:00Z",
		"ce-hub":                 "chat",
		"ce-connectionId":        connectionID,
		"ce-signature":           "sha256=" + hex.EncodeToString(mac.Sum(nil)),
	} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	return resp
}

func printResponse(resp *http.Response) {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	fmt.Println(string(body))
}

// Mount the handler on a mux at the path configured as the hub's event
// handler URL. The service first validates the URL with an OPTIONS request
// from its host; the handler allows the host of the connection string.
func Example() {
	h, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnected: func(_ context.Context, ev *eventhandler.ConnectedEvent) {
			fmt.Println("connected:", ev.ConnectionID)
		},
	}, eventhandler.WithConnectionString(exampleConnectionString))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/eventhandler", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The abuse-protection handshake.
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/eventhandler", nil)
	req.Header.Set("WebHook-Request-Origin", "demo.webpubsub.azure.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("validation:", resp.StatusCode, resp.Header.Get("WebHook-Allowed-Origin"))

	// A signed event.
	resp = postEvent(srv.URL+"/eventhandler", "azure.webpubsub.sys.connected", "conn-1", "application/json", "{}")
	resp.Body.Close()
	fmt.Println("status:", resp.StatusCode)
	// Output:
	// validation: 200 demo.webpubsub.azure.com
	// connected: conn-1
	// status: 200
}

// Accept a connection, naming its user and the groups it joins, or reject it
// with a status the client sees.
func Example_acceptConnect() {
	h, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnect: func(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			user := req.Query["user"]
			if len(user) == 0 {
				return nil, eventhandler.Reject(http.StatusUnauthorized, "who are you?")
			}
			return &eventhandler.ConnectResponse{UserID: user[0], Groups: []string{"lobby"}}, nil
		},
	}, eventhandler.WithConnectionString(exampleConnectionString))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	printResponse(postEvent(srv.URL, "azure.webpubsub.sys.connect", "conn-1", "application/json",
		`{"claims":{},"query":{"user":["ana"]},"headers":{},"subprotocols":[]}`))
	printResponse(postEvent(srv.URL, "azure.webpubsub.sys.connect", "conn-2", "application/json",
		`{"claims":{},"query":{},"headers":{},"subprotocols":[]}`))
	// Output:
	// 200 application/json; charset=utf-8
	// {"userId":"ana","groups":["lobby"]}
	// 401 text/plain; charset=utf-8
	// who are you?
}

// Answer a user event with data that the service delivers back to the
// client: here the message itself, with the same data type.
func Example_echo() {
	h, err := eventhandler.New("chat", eventhandler.Handlers{
		OnEvent: func(_ context.Context, ev *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			return &eventhandler.EventResponse{DataType: ev.DataType, Data: ev.Data}, nil
		},
	}, eventhandler.WithConnectionString(exampleConnectionString))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	printResponse(postEvent(srv.URL, "azure.webpubsub.user.message", "conn-1", "text/plain", "hello"))
	printResponse(postEvent(srv.URL, "azure.webpubsub.user.chat", "conn-1", "application/json", `{"text":"hi"}`))
	// Output:
	// 200 text/plain; charset=utf-8
	// hello
	// 200 application/json; charset=utf-8
	// {"text":"hi"}
}

// Keep per-connection data in the connection state: set on connect, read
// on every later event.
func ExampleStateUpdate_SetState() {
	h, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnect: func(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			resp := &eventhandler.ConnectResponse{}
			if err := resp.SetState("room", "lobby"); err != nil {
				return nil, err
			}
			return resp, nil
		},
	}, eventhandler.WithConnectionString(exampleConnectionString))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp := postEvent(srv.URL, "azure.webpubsub.sys.connect", "conn-1", "application/json", `{}`)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("ce-connectionState"))
	// Output:
	// 204 eyJyb29tIjoibG9iYnkifQ==
}
