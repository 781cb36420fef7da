package webpubsub_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/webpubsub-go/sdk/webpubsub"
	"github.com/webpubsub-go/sdk/webpubsub/webpubsubtest"
)

// idCapture records the x-ms-client-request-id of every try.
type idCapture struct {
	mu  sync.Mutex
	ids []string
}

func (c *idCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.ids = append(c.ids, r.Header.Get("x-ms-client-request-id"))
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *idCapture) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.ids
	c.ids = nil
	return ids
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestClientRequestID checks issue 11 item 4 with fault injection: the
// tries of one send carry one x-ms-client-request-id, two operations
// carry different ones, the id is in the error and in every log line,
// and a caller's id from WithClientRequestID replaces the generated one.
func TestClientRequestID(t *testing.T) {
	srv := webpubsubtest.NewServer(t)
	capture := &idCapture{}
	var logs bytes.Buffer
	var logMu sync.Mutex
	w := writer(func(b []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(b) })
	c, err := webpubsub.NewClientFromConnectionString(srv.ConnectionString(), "hub", webpubsub.WithRetry(fastRetry),
		webpubsub.WithHTTPClient(&http.Client{Transport: capture}), webpubsub.WithLogger(slog.New(slog.NewTextHandler(w, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Three tries of one send: two 429s, then success.
	srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Status: http.StatusTooManyRequests, Count: 2})
	if err := c.SendToAll(ctx, webpubsub.Text("x"), nil); err != nil {
		t.Fatal(err)
	}
	ids := capture.take()
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] || !uuidPattern.MatchString(ids[0]) {
		t.Fatalf("three tries of one send carried %q, want one UUID three times", ids)
	}
	logMu.Lock()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	logs.Reset()
	logMu.Unlock()
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.Contains(l, "client_request_id="+ids[0]) {
			t.Errorf("log line without the request id: %s", l)
		}
	}

	// A second operation gets another id; its error carries it.
	srv.InjectFault(webpubsubtest.Fault{Operation: "AddUserToGroup", Status: http.StatusBadRequest})
	err = c.AddUserToGroup(ctx, "g", "u")
	second := capture.take()
	var re *webpubsub.ResponseError
	if !errors.As(err, &re) || len(second) != 1 || second[0] == ids[0] || re.RequestID != second[0] || !strings.Contains(err.Error(), second[0]) {
		t.Fatalf("second operation: ids %q (first %q), error %v", second, ids[0], err)
	}

	// Transport errors carry it too.
	srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Drop: true, Count: 10})
	err = c.SendToAll(ctx, webpubsub.Text("x"), nil)
	third := capture.take()
	if err == nil || len(third) == 0 || !strings.Contains(err.Error(), third[0]) {
		t.Fatalf("dropped send: ids %q, error %v", third, err)
	}
	srv.ClearFaults()

	// The caller's own id, on every try and every operation made with the
	// context.
	own := webpubsub.WithClientRequestID(ctx, "support-case-42")
	srv.InjectFault(webpubsubtest.Fault{Operation: "SendToAll", Status: http.StatusTooManyRequests, Count: 1})
	if err := c.SendToAll(own, webpubsub.Text("x"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserExists(own, "u"); err != nil {
		t.Fatal(err)
	}
	if got := capture.take(); len(got) != 3 || got[0] != "support-case-42" || got[1] != got[0] || got[2] != got[0] {
		t.Fatalf("caller's id: sent %q", got)
	}
	for _, bad := range []string{"", strings.Repeat("x", 257), "new\nline"} {
		err := c.SendToAll(webpubsub.WithClientRequestID(ctx, bad), webpubsub.Text("x"), nil)
		if !errors.Is(err, webpubsub.ErrInvalidArgument) {
			t.Errorf("id %q: %v, want ErrInvalidArgument", bad, err)
		}
	}
	if got := capture.take(); len(got) != 0 {
		t.Errorf("bad ids sent %d requests", len(got))
	}
}
