package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub"
)

// TestServeReliableBufferLimit sends three messages to a reliable client
// that never acknowledges them: a limit of 2, from the flag or the file,
// ends its connection; the default (1,000) or the flag over the file keeps
// it.
func TestServeReliableBufferLimit(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.json")
	if err := os.WriteFile(two, []byte(`{"reliableBufferLimit": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantClosed bool
	}{
		{"default", nil, false},
		{"flag", []string{"--reliable-buffer-limit", "2"}, true},
		{"config file", []string{"--config", two}, true},
		{"flag over the file", []string{"--config", two, "--reliable-buffer-limit", "5"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, connStr := startServe(t, tt.args...)
			defer func() {
				b.cancel()
				if r := b.wait(t); r.code != exitOK {
					t.Errorf("serve: %+v", r)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client, err := webpubsub.NewClientFromConnectionString(connStr, testHub)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := client.ClientAccessToken(ctx, &webpubsub.TokenOptions{UserID: "r"})
			if err != nil {
				t.Fatal(err)
			}
			ws, _, err := websocket.Dial(ctx, tok.URL, &websocket.DialOptions{Subprotocols: []string{wire.SubprotocolJSONReliable}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			for i := range 3 {
				if err := client.SendToUser(ctx, "r", webpubsub.Text(strconv.Itoa(i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			var events []string
			for range 4 { // connected, then the messages, or a disconnected before the third
				_, raw, err := ws.Read(ctx)
				if err != nil {
					t.Fatalf("after %v: %v", events, err)
				}
				var m struct{ Type, Event, Data string }
				if err := json.Unmarshal(raw, &m); err != nil {
					t.Fatal(err)
				}
				events = append(events, m.Type+":"+m.Event+m.Data)
				if m.Event == wire.SystemEventDisconnected {
					break
				}
			}
			want := "system:connected message:0 message:1 message:2"
			if tt.wantClosed {
				want = "system:connected message:0 message:1 system:disconnected"
			}
			if got := strings.Join(events, " "); got != want {
				t.Errorf("client got %q, want %q", got, want)
			}
		})
	}
}

func TestServeReliableBufferLimitRefusesNonPositive(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "zero.json")
	if err := os.WriteFile(cfg, []byte(`{"reliableBufferLimit": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--reliable-buffer-limit", "0"}, {"--reliable-buffer-limit=-3"}, {"--config", cfg}} {
		r := runCLI(t, envMap(nil), "", append([]string{"serve", "--port", "0"}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "give at least 1 message") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}
