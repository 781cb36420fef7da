package wire

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The recorded shapes follow the service's TypeSpec of MQTT CloudEvents
// (Azure/azure-webpubsub protocols/server/cloud-events/main.tsp).
func TestMQTTConnectBodyShape(t *testing.T) {
	const recorded = `{"claims":{"sub":["dev-1"]},"query":{},"headers":{"Host":["x.webpubsub.azure.com"]},` +
		`"subprotocols":["mqtt"],"clientCertificates":[],` +
		`"mqtt":{"protocolVersion":5,"username":"dev","password":"c2VjcmV0","userProperties":[{"name":"site","value":"north"}]}}`
	var b CEMQTTConnectBody
	if err := json.Unmarshal([]byte(recorded), &b); err != nil {
		t.Fatal(err)
	}
	user, pass := "dev", "c2VjcmV0"
	want := CEMQTTConnectBody{
		CEConnectBody: CEConnectBody{
			Claims: map[string]CEStrings{"sub": {"dev-1"}}, Query: map[string]CEStrings{},
			Headers: map[string]CEStrings{"Host": {"x.webpubsub.azure.com"}}, Subprotocols: []string{"mqtt"},
			ClientCertificates: []CEClientCertificate{},
		},
		MQTT: &CEMQTTConnectProperties{ProtocolVersion: MQTTProtocolVersion5, Username: &user, Password: &pass,
			UserProperties: []CEMQTTUserProperty{{Name: "site", Value: "north"}}},
	}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("decoded body (-want +got):\n%s", diff)
	}
	again, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != recorded {
		t.Errorf("re-encoded body\n got %s\nwant %s", again, recorded)
	}
}

func TestMQTTAnswerShapes(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"accept", CEMQTTConnectResponse{CEConnectResponse: CEConnectResponse{UserID: "u"},
			MQTT: &CEMQTTConnectResponseProperties{UserProperties: []CEMQTTUserProperty{{Name: "a", Value: "b"}}}},
			`{"userId":"u","mqtt":{"userProperties":[{"name":"a","value":"b"}]}}`},
		{"accept without mqtt", CEMQTTConnectResponse{CEConnectResponse: CEConnectResponse{Roles: []string{"r"}}}, `{"roles":["r"]}`},
		{"reject", CEMQTTConnectFailure{MQTT: CEMQTTConnectFailureProperties{Code: MQTT5Banned, Reason: "go away"}},
			`{"mqtt":{"code":138,"reason":"go away"}}`},
		{"disconnected", CEMQTTDisconnectedBody{CEDisconnectedBody: CEDisconnectedBody{Reason: "bye"}, MQTT: &CEMQTTDisconnectedProperties{InitiatedByClient: true,
			DisconnectPacket: &CEMQTTDisconnectPacket{Code: 4, UserProperties: []CEMQTTUserProperty{{Name: "k", Value: "v"}}}}},
			`{"reason":"bye","mqtt":{"initiatedByClient":true,"disconnectPacket":{"code":4,"userProperties":[{"name":"k","value":"v"}]}}}`},
		{"disconnected by the service", CEMQTTDisconnectedBody{MQTT: &CEMQTTDisconnectedProperties{}},
			`{"mqtt":{"initiatedByClient":false}}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestMQTTConnectCodeForStatus(t *testing.T) {
	tests := []struct{ status, version, want int }{
		{http.StatusBadRequest, MQTTProtocolVersion311, MQTT311BadUsernameOrPassword},
		{http.StatusUnauthorized, MQTTProtocolVersion311, MQTT311NotAuthorized},
		{http.StatusForbidden, MQTTProtocolVersion311, MQTT311NotAuthorized},
		{http.StatusInternalServerError, MQTTProtocolVersion311, MQTT311ServerUnavailable},
		{http.StatusBadRequest, MQTTProtocolVersion5, MQTT5BadUserNameOrPassword},
		{http.StatusUnauthorized, MQTTProtocolVersion5, MQTT5NotAuthorized},
		{http.StatusForbidden, MQTTProtocolVersion5, MQTT5NotAuthorized},
		{http.StatusBadGateway, MQTTProtocolVersion5, MQTT5UnspecifiedError},
		{http.StatusUnauthorized, 3, MQTT311UnacceptableProtocolVersion},
	}
	for _, tt := range tests {
		if got := MQTTConnectCodeForStatus(tt.status, tt.version); got != tt.want {
			t.Errorf("MQTTConnectCodeForStatus(%d, %d) = %#x, want %#x", tt.status, tt.version, got, tt.want)
		}
	}
}

func TestMQTTStatusForConnectCode(t *testing.T) {
	tests := []struct{ code, want int }{
		{MQTT311NotAuthorized, http.StatusUnauthorized},
		{MQTT311BadUsernameOrPassword, http.StatusUnauthorized},
		{MQTT311IdentifierRejected, http.StatusBadRequest},
		{MQTT311ServerUnavailable, http.StatusServiceUnavailable},
		{MQTT5NotAuthorized, http.StatusUnauthorized},
		{MQTT5BadUserNameOrPassword, http.StatusUnauthorized},
		{MQTT5ClientIdentifierNotValid, http.StatusBadRequest},
		{MQTT5Banned, http.StatusForbidden},
		{MQTT5QuotaExceeded, http.StatusTooManyRequests},
		{MQTT5ConnectionRateExceeded, http.StatusTooManyRequests},
		{MQTT5ServerBusy, http.StatusInternalServerError},
		{0, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		if got := MQTTStatusForConnectCode(tt.code); got != tt.want {
			t.Errorf("MQTTStatusForConnectCode(%#x) = %d, want %d", tt.code, got, tt.want)
		}
	}
}
