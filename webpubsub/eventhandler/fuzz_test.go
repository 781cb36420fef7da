package eventhandler_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// FuzzParseRequest feeds arbitrary raw HTTP requests (seeded with every
// request under testdata/) to two handlers: one with signature checks, one
// without them and with every origin allowed, so that mutated bodies reach
// the event decoders. Neither may panic, answer outside the documented
// statuses, or call user code for a refused request.
func FuzzParseRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.http"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	var called bool
	handlers := eventhandler.Handlers{
		OnConnect: func(_ context.Context, r *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			called = true
			resp := &eventhandler.ConnectResponse{UserID: r.UserID}
			if err := resp.SetState("claims", r.Claims); err != nil {
				return nil, err
			}
			return resp, nil
		},
		OnEvent: func(_ context.Context, e *eventhandler.UserEvent) (*eventhandler.EventResponse, error) {
			called = true
			return &eventhandler.EventResponse{DataType: e.DataType, Data: e.Data}, nil
		},
		OnConnected:    func(context.Context, *eventhandler.ConnectedEvent) { called = true },
		OnDisconnected: func(context.Context, *eventhandler.DisconnectedEvent) { called = true },
	}
	strict := newHandler(f, handlers, eventhandler.WithMaxBodyBytes(64<<10))
	open, err := eventhandler.New("chat", handlers, eventhandler.WithoutSignatureValidation(),
		eventhandler.WithAllowedOrigins("*"), eventhandler.WithMaxBodyBytes(64<<10))
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[int]bool{
		http.StatusOK: true, http.StatusNoContent: true, http.StatusBadRequest: true, http.StatusUnauthorized: true,
		http.StatusForbidden: true, http.StatusMethodNotAllowed: true, http.StatusRequestEntityTooLarge: true,
		http.StatusUnsupportedMediaType: true,
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range []*eventhandler.Handler{strict, open} {
			req, err := readRawRequest(data)
			if err != nil {
				return
			}
			called = false
			got := serve(h, req)
			if !allowed[got.Status] {
				t.Fatalf("status %d (%q) is not one the handler documents", got.Status, got.Body)
			}
			if got.Status >= 400 && called {
				t.Fatalf("status %d but user code ran", got.Status)
			}
		}
	})
}
