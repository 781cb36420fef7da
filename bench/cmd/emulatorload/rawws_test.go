package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

const testProto = "json.webpubsub.azure.v1"

// wsServer accepts at /ws with testProto and runs script on the connection.
func wsServer(t *testing.T, script func(ctx context.Context, c *websocket.Conn) error) string {
	t.Helper()
	errc := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			http.NotFound(w, r)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{testProto}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		errc <- script(r.Context(), c)
	}))
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		default:
		}
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func TestRawConnMessagesPingAckClose(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 200<<10) // larger than the read buffer: several chunks
	url := wsServer(t, func(ctx context.Context, c *websocket.Conn) error {
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"message","n":1}`)); err != nil {
			return err
		}
		// A fragmented message: each Write of a Writer flushes a frame once
		// its buffer fills.
		w, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			return err
		}
		for i := 0; i < len(big); i += 50 << 10 {
			if _, err := w.Write(big[i : i+50<<10]); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		// The client's ack, then its pong, arrive at this reader.
		got := make(chan []byte, 1)
		go func() {
			_, b, _ := c.Read(ctx)
			got <- b
			for { // keep reading: the pong and the close answer arrive here
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := c.Ping(pctx); err != nil {
			return errors.New("no pong: " + err.Error())
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("after ping")); err != nil {
			return err
		}
		if b := <-got; string(b) != "ack" {
			return errors.New("the client's masked frame read as " + string(b))
		}
		return c.Close(websocket.StatusNormalClosure, "bye")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := dialRaw(ctx, url, testProto)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.closeNow()
	var msgs []string
	for {
		var m []byte
		err := rc.next(func(p []byte) { m = append(m, p...) })
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, string(m))
		if len(msgs) == 2 {
			if err := rc.write(opText, []byte("ack")); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{`{"type":"message","n":1}`, string(big), "after ping"}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestDialRawRefuses(t *testing.T) {
	url := wsServer(t, func(context.Context, *websocket.Conn) error { return nil })
	tests := []struct {
		name, url, proto, wantErr string
	}{
		{"not ws", "wss://127.0.0.1:1/ws", testProto, "ws:// only"},
		{"not found", strings.TrimSuffix(url, "/ws") + "/other", testProto, "not 101"},
		{"other subprotocol", url, "json.other", "subprotocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rc, err := dialRaw(ctx, tt.url, tt.proto)
			if err == nil {
				_ = rc.closeNow()
				t.Fatalf("dialRaw succeeded, want an error with %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want one with %q", err, tt.wantErr)
			}
		})
	}
}
