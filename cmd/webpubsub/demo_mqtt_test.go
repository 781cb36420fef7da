package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/webpubsub-go/sdk/internal/emulator"
	"github.com/webpubsub-go/sdk/internal/mqtt"
	"github.com/webpubsub-go/sdk/internal/wire"
)

// TestDemoFailsOnMQTTLoss runs the demo against the emulator with the MQTT
// endpoint replaced by a broker that misbehaves: the demo exits 1 naming
// step 13 and what went wrong.
func TestDemoFailsOnMQTTLoss(t *testing.T) {
	tests := []struct {
		name    string
		connack byte // the CONNACK reason code the broker answers
		want    string
	}{
		{"a broker that never delivers", mqtt.ConnAccepted, `device: expected a PUBLISH on "demo" within 1s: no MQTT packet arrived before the step's deadline`},
		{"a broker that refuses the client", 0x87, "refused CONNECT with reason code 0x87"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := emulator.New()
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/", e.Handler())
			mux.HandleFunc("/clients/mqtt/", func(w http.ResponseWriter, r *http.Request) { fakeBroker(t, w, r, tt.connack) })
			srv := httptest.NewServer(mux)
			t.Cleanup(func() {
				_ = e.Close()
				srv.Close()
			})
			cs := "Endpoint=" + srv.URL + ";AccessKey=" + e.AccessKey() + ";Version=1.0;"
			r := runCLI(t, envMap(map[string]string{envConnectionString: cs}), "", "demo", "--step-timeout", "1s")
			if r.code != exitFailure || !strings.Contains(r.stderr, "demo step 13 failed") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, want exit %d naming step 13 and %q", r.code, r.stderr, exitFailure, tt.want)
			}
			if !strings.Contains(r.stdout, "12. Close a connection") || !strings.Contains(r.stdout, "FAILED") {
				t.Errorf("stdout lacks steps 1-12 or FAILED:\n%s", r.stdout)
			}
		})
	}
}

// fakeBroker answers CONNECT with the code connack, grants every
// subscription, and never delivers a message.
func fakeBroker(t *testing.T, w http.ResponseWriter, r *http.Request, connack byte) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.SubprotocolMQTT}})
	if err != nil {
		t.Errorf("fake broker: %v", err)
		return
	}
	defer ws.CloseNow()
	nc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	br := bufio.NewReader(nc)
	var version byte
	for {
		p, err := mqtt.ReadPacket(br, version, 1<<20)
		if err != nil {
			return // the demo closed the connection
		}
		var answer mqtt.Packet
		switch p := p.(type) {
		case *mqtt.Connect:
			version = p.Version
			answer = &mqtt.Connack{Code: connack}
		case *mqtt.Subscribe:
			answer = &mqtt.Suback{PacketID: p.PacketID, Codes: []byte{1}}
		default:
			continue
		}
		b, err := mqtt.Encode(answer, version)
		if err != nil {
			t.Errorf("fake broker: %v", err)
			return
		}
		if _, err := nc.Write(b); err != nil {
			return
		}
	}
}
