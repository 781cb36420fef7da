package eventhandler_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// The keys that signed the requests under testdata/.
const (
	primaryKey   = "test-primary-key-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	secondaryKey = "test-secondary-key-abcdefghijklmnopqrstuvwxyz0123456789"
	serviceHost  = "demo.webpubsub.azure.com"
	// testConnectionString names the service whose host signs testdata.
	testConnectionString = "Endpoint=https://" + serviceHost + ";AccessKey=" + primaryKey + ";Version=1.0;"
)

// readRawRequest parses an HTTP/1.1 request written as text: request line,
// headers, a blank line and the body. Content-Length comes from the body,
// so files can be edited by hand; one final newline is not part of the body.
func readRawRequest(data []byte) (*http.Request, error) {
	head, body, found := bytes.Cut(data, []byte("\n\n"))
	if !found {
		head, body = data, nil
	}
	req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\n\n"))))
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSuffix(body, []byte("\n"))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.RequestURI = ""
	return req, nil
}

// loadRequest reads testdata/name.
func loadRequest(t testing.TB, name string) *http.Request {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	req, err := readRawRequest(data)
	if err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return req
}

// newHandler builds a handler for hub "chat" configured like the service in
// testdata: both keys, origin from the connection string.
func newHandler(t testing.TB, h eventhandler.Handlers, opts ...eventhandler.Option) *eventhandler.Handler {
	t.Helper()
	all := append([]eventhandler.Option{
		eventhandler.WithConnectionString(testConnectionString),
		eventhandler.WithAccessKeys(secondaryKey),
	}, opts...)
	handler, err := eventhandler.New("chat", h, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return handler
}

// result is the part of an HTTP response the tests compare.
type result struct {
	Status          int
	ContentType     string
	ConnectionState string
	AllowedOrigin   string
	Allow           string
	Body            string
}

func serve(h http.Handler, req *http.Request) result {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{
		Status:          rec.Code,
		ContentType:     rec.Header().Get("Content-Type"),
		ConnectionState: rec.Header().Get("ce-connectionState"),
		AllowedOrigin:   rec.Header().Get("WebHook-Allowed-Origin"),
		Allow:           rec.Header().Get("Allow"),
		Body:            rec.Body.String(),
	}
}

// sign computes one ce-signature value the way the service does.
func sign(key, connectionID string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(connectionID))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// calls counts callback invocations and records the last event seen.
type calls struct {
	n       int
	connect *eventhandler.ConnectRequest
	event   *eventhandler.UserEvent
	conn    *eventhandler.ConnectedEvent
	disc    *eventhandler.DisconnectedEvent
}

// handlers returns callbacks that record into c and answer with the given
// responses.
func (c *calls) handlers(connect *eventhandler.ConnectResponse, reply *eventhandler.EventResponse, err error) eventhandler.Handlers {
	return eventhandler.Handlers{
		OnConnect: func(_ context.Context, r *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			c.n++
			c.connect = r
			return connect, err
		},
		OnEvent: func(_ context.Context, e *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			c.n++
			c.event = e
			return reply, err
		},
		OnConnected: func(_ context.Context, e *eventhandler.ConnectedEvent) {
			c.n++
			c.conn = e
		},
		OnDisconnected: func(_ context.Context, e *eventhandler.DisconnectedEvent) {
			c.n++
			c.disc = e
		},
	}
}

var errBoom = errors.New("database unavailable at 10.0.0.7")
