package emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/webpubsub-go/sdk/internal/wire"
	"github.com/webpubsub-go/sdk/webpubsub/eventhandler"
)

// mqttApp is an eventhandler app that records the MQTT events it gets. A
// connect with user name "banned" is refused with RejectMQTT, one with
// "nobody" with Reject(401).
type mqttApp struct {
	mu        sync.Mutex
	connect   *eventhandler.ConnectRequest
	connected *eventhandler.ConnectedEvent
	disc      *eventhandler.DisconnectedEvent
}

func newMQTTDispatcher(t *testing.T) (*dispatcher, *mqttApp) {
	t.Helper()
	app := &mqttApp{}
	h, err := eventhandler.New("chat", eventhandler.Handlers{
		OnConnect: func(_ context.Context, req *eventhandler.ConnectRequest) (*eventhandler.ConnectResponse, error) {
			app.mu.Lock()
			app.connect = req
			app.mu.Unlock()
			switch req.MQTT.Username {
			case "banned":
				return nil, eventhandler.RejectMQTT(eventhandler.MQTT5Banned, "banned", eventhandler.MQTTUserProperty{Name: "until", Value: "noon"})
			case "nobody":
				return nil, eventhandler.Reject(http.StatusUnauthorized, "who?")
			}
			return &eventhandler.ConnectResponse{MQTTUserProperties: []eventhandler.MQTTUserProperty{{Name: "hello", Value: req.MQTT.Username}}}, nil
		},
		OnConnected: func(_ context.Context, ev *eventhandler.ConnectedEvent) {
			app.mu.Lock()
			app.connected = ev
			app.mu.Unlock()
		},
		OnDisconnected: func(_ context.Context, ev *eventhandler.DisconnectedEvent) {
			app.mu.Lock()
			app.disc = ev
			app.mu.Unlock()
		},
	}, eventhandler.WithAccessKeys(DefaultAccessKey), eventhandler.WithAllowedOrigins("*"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	all := []string{wire.CEEventConnect, wire.CEEventConnected, wire.CEEventDisconnected}
	return newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: srv.URL + "/{event}", SystemEvents: all}}), app
}

func mqttConnectRequest(version int, user string) ConnectRequest {
	return ConnectRequest{
		Hub: "chat", ConnectionID: "client-1", Subprotocols: []string{wire.SubprotocolMQTT},
		Headers: map[string][]string{"Host": {"emu.local"}},
		MQTT: &MQTTConnect{PhysicalConnectionID: "phys-1", ProtocolVersion: version, Username: &user, Password: []byte("pw"),
			UserProperties: []wire.CEMQTTUserProperty{{Name: "site", Value: "north"}}},
	}
}

// The dispatcher's MQTT events reach an eventhandler app with every field
// typed, and its answers come back.
func TestDispatcherMQTTEvents(t *testing.T) {
	d, app := newMQTTDispatcher(t)
	ctx := context.Background()
	resp, err := d.HandleConnect(ctx, mqttConnectRequest(wire.MQTTProtocolVersion5, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]wire.CEMQTTUserProperty{{Name: "hello", Value: "dev"}}, resp.MQTTUserProperties); diff != "" {
		t.Errorf("CONNACK user properties (-want +got):\n%s", diff)
	}
	wantConnect := &eventhandler.MQTTConnectProperties{ProtocolVersion: 5, Username: "dev", Password: eventhandler.MQTTPassword("pw"),
		UserProperties: []eventhandler.MQTTUserProperty{{Name: "site", Value: "north"}}}
	if diff := cmp.Diff(wantConnect, app.connect.MQTT); diff != "" {
		t.Errorf("connect's MQTT properties (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&eventhandler.MQTTConnection{PhysicalConnectionID: "phys-1"}, app.connect.ConnectionContext.MQTT); diff != "" {
		t.Errorf("connect's MQTT connection (-want +got):\n%s", diff)
	}

	session := &MQTTSession{PhysicalConnectionID: "phys-1", SessionID: "sess-1"}
	info := ConnectionInfo{Hub: "chat", ConnectionID: "client-1", UserID: "dev", Subprotocol: wire.SubprotocolMQTT, MQTT: session}
	d.HandleConnected(ctx, info)
	if diff := cmp.Diff(&eventhandler.MQTTConnection{PhysicalConnectionID: "phys-1", SessionID: "sess-1"}, app.connected.ConnectionContext.MQTT); diff != "" {
		t.Errorf("connected's MQTT connection (-want +got):\n%s", diff)
	}
	session.Disconnect = &wire.CEMQTTDisconnectedProperties{InitiatedByClient: true, DisconnectPacket: &wire.CEMQTTDisconnectPacket{
		Code: 4, UserProperties: []wire.CEMQTTUserProperty{{Name: "why", Value: "done"}}}}
	d.HandleDisconnected(ctx, info, "bye")
	wantDisc := &eventhandler.MQTTDisconnect{InitiatedByClient: true, Packet: &eventhandler.MQTTDisconnectPacket{
		ReasonCode: 4, UserProperties: []eventhandler.MQTTUserProperty{{Name: "why", Value: "done"}}}}
	if diff := cmp.Diff(wantDisc, app.disc.MQTT); diff != "" || app.disc.Reason != "bye" {
		t.Errorf("disconnected's MQTT (-want +got):\n%s (reason %q)", diff, app.disc.Reason)
	}
}

func TestDispatcherMQTTRejections(t *testing.T) {
	d, _ := newMQTTDispatcher(t)
	tests := []struct {
		name    string
		version int
		user    string
		want    ConnectError
	}{
		{"RejectMQTT", wire.MQTTProtocolVersion5, "banned", ConnectError{StatusCode: http.StatusForbidden, MQTTCode: wire.MQTT5Banned,
			Message: "the event handler rejected the connection (403, MQTT code 0x8a): banned", MQTTUserProperties: []wire.CEMQTTUserProperty{{Name: "until", Value: "noon"}}}},
		{"Reject 401, MQTT 3.1.1", wire.MQTTProtocolVersion311, "nobody", ConnectError{StatusCode: http.StatusUnauthorized, MQTTCode: wire.MQTT311NotAuthorized,
			Message: "the event handler rejected the connection (401, MQTT code 0x05): who?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.HandleConnect(context.Background(), mqttConnectRequest(tt.version, tt.user))
			ce, ok := err.(*ConnectError)
			if !ok {
				t.Fatalf("HandleConnect: %v, want a *ConnectError", err)
			}
			if diff := cmp.Diff(tt.want, *ce); diff != "" {
				t.Errorf("rejection (-want +got):\n%s", diff)
			}
		})
	}
}

// A handler that answers an MQTT connect without an mqtt body still
// rejects with the CONNACK code its status maps to.
func TestDispatcherMQTTRejectionWithoutBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set(wire.HeaderWebHookAllowedOrigin, "*")
			return
		}
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	d := newTestDispatcher(t, []UpstreamSetting{{Hub: "chat", URLTemplate: srv.URL, SystemEvents: []string{wire.CEEventConnect}}})
	for version, want := range map[int]int{wire.MQTTProtocolVersion5: wire.MQTT5NotAuthorized, wire.MQTTProtocolVersion311: wire.MQTT311NotAuthorized} {
		_, err := d.HandleConnect(context.Background(), mqttConnectRequest(version, "dev"))
		if ce, ok := err.(*ConnectError); !ok || ce.MQTTCode != want || ce.StatusCode != http.StatusUnauthorized {
			t.Errorf("version %d: %v, want 401 with CONNACK code %#x", version, err, want)
		}
	}
	resp, err := newTestDispatcher(t, nil).HandleConnect(context.Background(), mqttConnectRequest(5, "dev"))
	if resp != nil || err != nil {
		t.Errorf("without a connect setting: %v, %v", resp, err)
	}
}
