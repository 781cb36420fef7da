package wire

import (
	"encoding/json"
	"testing"
)

// Vectors computed independently (Python hmac) for the eventhandler's
// testdata keys.
const (
	vectorPrimary   = "test-primary-key-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	vectorSecondary = "test-secondary-key-abcdefghijklmnopqrstuvwxyz0123456789"
	vectorConn      = "0f9c97a2-f0bf-4706-afe8-7a14e0797b11"
	vectorPrimSig   = "sha256=b924e971f488324828e8c06f3e06c8e2f46a3759072436482f42873cdd75a7c7"
	vectorSecSig    = "sha256=8d40be923f7659718b510031faec9bd7692687584212ba259fd2bc30b280f075"
)

func TestSignCloudEvent(t *testing.T) {
	if got := SignCloudEvent(vectorPrimary, vectorConn); got != vectorPrimSig {
		t.Errorf("SignCloudEvent(primary) = %s, want %s", got, vectorPrimSig)
	}
	if got := SignCloudEvent(vectorSecondary, vectorConn); got != vectorSecSig {
		t.Errorf("SignCloudEvent(secondary) = %s, want %s", got, vectorSecSig)
	}
}

func TestCESignatureHeader(t *testing.T) {
	tests := []struct {
		keys []string
		want string
	}{
		{[]string{vectorPrimary, vectorSecondary}, vectorPrimSig + "," + vectorSecSig},
		{[]string{vectorPrimary, ""}, vectorPrimSig},
		{[]string{"", vectorSecondary}, vectorSecSig},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := CESignatureHeader(vectorConn, tt.keys...); got != tt.want {
			t.Errorf("CESignatureHeader(%d keys) = %q, want %q", len(tt.keys), got, tt.want)
		}
	}
}

func TestCENames(t *testing.T) {
	tests := []struct{ got, want string }{
		{CETypeConnect, "azure.webpubsub.sys.connect"},
		{CETypeConnected, "azure.webpubsub.sys.connected"},
		{CETypeDisconnected, "azure.webpubsub.sys.disconnected"},
		{CEUserType("message"), "azure.webpubsub.user.message"},
		{CESource("chat", "c1"), "/hubs/chat/client/c1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestCEDataType(t *testing.T) {
	tests := []struct {
		contentType string
		want        string
		ok          bool
	}{
		{"application/json", DataTypeJSON, true},
		{"application/json; charset=utf-8", DataTypeJSON, true},
		{"Text/Plain; charset=UTF-8", DataTypeText, true},
		{"text/plain", DataTypeText, true},
		{"application/octet-stream", DataTypeBinary, true},
		{"application/xml", "", false},
		{"", "", false},
		{"text/plain; charset", "", false},
	}
	for _, tt := range tests {
		got, ok := CEDataType(tt.contentType)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CEDataType(%q) = %q, %v; want %q, %v", tt.contentType, got, ok, tt.want, tt.ok)
		}
		if !ok {
			continue
		}
		ct, ok := CEContentType(got)
		if !ok {
			t.Errorf("CEContentType(%q) not ok", got)
		}
		if back, _ := CEDataType(ct); back != got {
			t.Errorf("round trip %q -> %q -> %q", got, ct, back)
		}
	}
	if ct, ok := CEContentType(DataTypeProtobuf); ok || ct != "" {
		t.Errorf("CEContentType(protobuf) = %q, %v; want no content type", ct, ok)
	}
}

func TestCEConnectBodies(t *testing.T) {
	var body CEConnectBody
	in := `{"claims":{"sub":"ana","role":["a","b"],"none":null},"query":{},"subprotocols":["json.webpubsub.azure.v1"],` +
		`"clientCertificates":[{"thumbprint":"AB"}]}`
	if err := json.Unmarshal([]byte(in), &body); err != nil {
		t.Fatal(err)
	}
	if got := body.Claims["sub"]; len(got) != 1 || got[0] != "ana" {
		t.Errorf("claims[sub] = %q, want [ana]", got)
	}
	if got := body.Claims["role"]; len(got) != 2 || got[1] != "b" {
		t.Errorf("claims[role] = %q, want [a b]", got)
	}
	if got, ok := body.Claims["none"]; !ok || got != nil {
		t.Errorf("claims[none] = %q, %v; want nil, present", got, ok)
	}
	if len(body.ClientCertificates) != 1 || body.ClientCertificates[0].Thumbprint != "AB" {
		t.Errorf("clientCertificates = %+v", body.ClientCertificates)
	}
	if err := json.Unmarshal([]byte(`{"claims":{"sub":1}}`), &body); err == nil {
		t.Error("a number claim: want an error")
	}
	out, err := json.Marshal(CEConnectResponse{UserID: "ana", Groups: []string{"g"}})
	if err != nil || string(out) != `{"userId":"ana","groups":["g"]}` {
		t.Errorf("CEConnectResponse = %s, %v", out, err)
	}
	out, err = json.Marshal(CEDisconnectedBody{Reason: "bye"})
	if err != nil || string(out) != `{"reason":"bye"}` {
		t.Errorf("CEDisconnectedBody = %s, %v", out, err)
	}
}
