package eventhandler

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/webpubsub-go/sdk/internal/wire"
)

// MQTT protocol versions of MQTTConnectProperties.ProtocolVersion.
const (
	MQTTVersion311 = 4 // MQTT 3.1.1
	MQTTVersion5   = 5 // MQTT 5.0
)

// MQTTConnectCode is the code a rejected MQTT client receives in its CONNACK
// packet: a return code for MQTT 3.1.1 clients, a reason code for MQTT 5.0
// clients. Pick one of the client's protocol version
// (ConnectRequest.MQTT.ProtocolVersion); the service sends "unspecified
// error" for a code the client's protocol does not define.
type MQTTConnectCode int

// MQTT 3.1.1 CONNACK return codes.
const (
	MQTT311UnacceptableProtocolVersion MQTTConnectCode = 0x01
	MQTT311IdentifierRejected          MQTTConnectCode = 0x02
	MQTT311ServerUnavailable           MQTTConnectCode = 0x03
	MQTT311BadUsernameOrPassword       MQTTConnectCode = 0x04
	MQTT311NotAuthorized               MQTTConnectCode = 0x05
)

// MQTT 5.0 CONNACK reason codes that refuse a connection.
const (
	MQTT5UnspecifiedError            MQTTConnectCode = 0x80
	MQTT5MalformedPacket             MQTTConnectCode = 0x81
	MQTT5ProtocolError               MQTTConnectCode = 0x82
	MQTT5ImplementationSpecificError MQTTConnectCode = 0x83
	MQTT5UnsupportedProtocolVersion  MQTTConnectCode = 0x84
	MQTT5ClientIdentifierNotValid    MQTTConnectCode = 0x85
	MQTT5BadUserNameOrPassword       MQTTConnectCode = 0x86
	MQTT5NotAuthorized               MQTTConnectCode = 0x87
	MQTT5ServerUnavailable           MQTTConnectCode = 0x88
	MQTT5ServerBusy                  MQTTConnectCode = 0x89
	MQTT5Banned                      MQTTConnectCode = 0x8A
	MQTT5BadAuthenticationMethod     MQTTConnectCode = 0x8C
	MQTT5TopicNameInvalid            MQTTConnectCode = 0x90
	MQTT5PacketTooLarge              MQTTConnectCode = 0x95
	MQTT5QuotaExceeded               MQTTConnectCode = 0x97
	MQTT5PayloadFormatInvalid        MQTTConnectCode = 0x99
	MQTT5RetainNotSupported          MQTTConnectCode = 0x9A
	MQTT5QoSNotSupported             MQTTConnectCode = 0x9B
	MQTT5UseAnotherServer            MQTTConnectCode = 0x9C
	MQTT5ServerMoved                 MQTTConnectCode = 0x9D
	MQTT5ConnectionRateExceeded      MQTTConnectCode = 0x9F
)

// MQTTConnection is what an MQTT client's events tell beyond a WebSocket
// client's. For MQTT, ConnectionContext.ConnectionID is the MQTT client id
// and names the session, which may outlive several network connections.
type MQTTConnection struct {
	// PhysicalConnectionID identifies the network connection the event
	// came from (ce-physicalConnectionId). Its format may change: compare
	// it, do not parse it.
	PhysicalConnectionID string
	// SessionID identifies the MQTT session (ce-sessionId); empty in the
	// connect event, which comes before the session exists.
	SessionID string
}

// MQTTUserProperty is an MQTT 5.0 user property: a name/value pair that a
// packet carries for the application.
type MQTTUserProperty struct {
	// Name is the property's name.
	Name string
	// Value is the property's value.
	Value string
}

// MQTTConnectProperties is what an MQTT client's CONNECT packet said.
type MQTTConnectProperties struct {
	// ProtocolVersion is MQTTVersion311 or MQTTVersion5.
	ProtocolVersion int
	// Username is the packet's user name; empty when it had none.
	Username string
	// Password is the packet's password (decoded from the event's base64);
	// nil when it had none. It prints redacted with every fmt verb.
	Password MQTTPassword
	// UserProperties are the packet's user properties (MQTT 5.0).
	UserProperties []MQTTUserProperty
}

// MQTTPassword is the password of an MQTT CONNECT packet. Every fmt verb
// prints it redacted; convert it with []byte(p) or string(p) to check it.
type MQTTPassword []byte

// String returns "[REDACTED]" (or "" for no password).
func (p MQTTPassword) String() string {
	if len(p) == 0 {
		return ""
	}
	return "[REDACTED]"
}

// GoString is String, so %#v does not reveal the value either.
func (p MQTTPassword) GoString() string { return p.String() }

// Format makes every fmt verb print the redacted form.
func (p MQTTPassword) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// MQTTDisconnect is what an MQTT client's disconnected event tells about
// how the session ended.
type MQTTDisconnect struct {
	// InitiatedByClient reports whether the client ended the session.
	InitiatedByClient bool
	// Packet is the DISCONNECT packet that ended the last network
	// connection, sent by the client or by the service; nil when there was
	// none (for example when the network connection dropped).
	Packet *MQTTDisconnectPacket
}

// MQTTDisconnectPacket describes a DISCONNECT packet.
type MQTTDisconnectPacket struct {
	// ReasonCode is the MQTT 5.0 DISCONNECT reason code (0 is a normal
	// disconnection); always 0 for MQTT 3.1.1 clients, whose packet has
	// none.
	ReasonCode int
	// UserProperties are the packet's user properties (MQTT 5.0).
	UserProperties []MQTTUserProperty
}

// MQTTRejectError is an OnConnect callback's refusal of an MQTT client with
// a CONNACK code. Create it with RejectMQTT.
type MQTTRejectError struct {
	// Code goes to the client in its CONNACK packet.
	Code MQTTConnectCode
	// Reason is a diagnostic text the service passes on to MQTT 5.0
	// clients (CONNACK reason string).
	Reason string
	// UserProperties go to MQTT 5.0 clients in the CONNACK packet.
	UserProperties []MQTTUserProperty
}

// RejectMQTT returns an error that refuses an MQTT client's connect with a
// CONNACK code, for example MQTT5NotAuthorized or MQTT311NotAuthorized
// (choose by ConnectRequest.MQTT.ProtocolVersion). The handler answers the
// HTTP status the official handlers use for the code (401 for
// authentication codes, 403 for MQTT5Banned, 429 for rate limits, 400 for
// the client's mistakes, 500 otherwise) with the code, reason and user
// properties in the body. Returned for a WebSocket client's connect it
// rejects with that status and the reason.
func RejectMQTT(code MQTTConnectCode, reason string, userProperties ...MQTTUserProperty) error {
	return &MQTTRejectError{Code: code, Reason: reason, UserProperties: userProperties}
}

// Error describes the rejection.
func (e *MQTTRejectError) Error() string {
	return fmt.Sprintf("eventhandler: MQTT connect rejected with code %#02x: %s", int(e.Code), e.Reason)
}

func (e *MQTTRejectError) status() int { return wire.MQTTStatusForConnectCode(int(e.Code)) }

// isMQTT reports whether headers are an MQTT client's event: ce-subprotocol
// mqtt and a ce-physicalConnectionId, as the official handlers decide.
func isMQTT(h http.Header) bool {
	return strings.Contains(strings.ToLower(h.Get(wire.HeaderCESubprotocol)), wire.SubprotocolMQTT) &&
		h.Get(wire.HeaderCEPhysicalConnectionID) != ""
}

// mqttConnection reads the MQTT headers, or returns nil for a WebSocket
// client's event.
func mqttConnection(h http.Header) *MQTTConnection {
	if !isMQTT(h) {
		return nil
	}
	return &MQTTConnection{
		PhysicalConnectionID: h.Get(wire.HeaderCEPhysicalConnectionID),
		SessionID:            h.Get(wire.HeaderCESessionID),
	}
}

func userProperties(in []wire.CEMQTTUserProperty) []MQTTUserProperty {
	if len(in) == 0 {
		return nil
	}
	out := make([]MQTTUserProperty, len(in))
	for i, p := range in {
		out[i] = MQTTUserProperty{Name: p.Name, Value: p.Value}
	}
	return out
}

func wireUserProperties(in []MQTTUserProperty) []wire.CEMQTTUserProperty {
	if len(in) == 0 {
		return nil
	}
	out := make([]wire.CEMQTTUserProperty, len(in))
	for i, p := range in {
		out[i] = wire.CEMQTTUserProperty{Name: p.Name, Value: p.Value}
	}
	return out
}

// mqttConnectProperties decodes a connect event's mqtt object.
func mqttConnectProperties(p *wire.CEMQTTConnectProperties) (*MQTTConnectProperties, *requestError) {
	out := &MQTTConnectProperties{ProtocolVersion: p.ProtocolVersion, UserProperties: userProperties(p.UserProperties)}
	if p.ProtocolVersion != MQTTVersion311 && p.ProtocolVersion != MQTTVersion5 {
		return nil, badRequest("the MQTT connect event's mqtt.protocolVersion is %d: want %d (MQTT 3.1.1) or %d (MQTT 5.0)",
			p.ProtocolVersion, MQTTVersion311, MQTTVersion5)
	}
	if p.Username != nil {
		out.Username = *p.Username
	}
	if p.Password != nil {
		pw, err := base64.StdEncoding.DecodeString(*p.Password)
		if err != nil {
			return nil, badRequest("the MQTT connect event's mqtt.password is not base64")
		}
		out.Password = pw
	}
	return out, nil
}

// mqttDisconnect decodes a disconnected event's mqtt object.
func mqttDisconnect(p *wire.CEMQTTDisconnectedProperties) *MQTTDisconnect {
	out := &MQTTDisconnect{InitiatedByClient: p.InitiatedByClient}
	if p.DisconnectPacket != nil {
		out.Packet = &MQTTDisconnectPacket{ReasonCode: p.DisconnectPacket.Code, UserProperties: userProperties(p.DisconnectPacket.UserProperties)}
	}
	return out
}

// writeMQTTConnectFailure answers a refused MQTT connect: status, and the
// CONNACK code, reason and user properties as the service expects them.
func writeMQTTConnectFailure(w http.ResponseWriter, status int, code MQTTConnectCode, reason string, props []MQTTUserProperty) {
	body, err := json.Marshal(wire.CEMQTTConnectFailure{MQTT: wire.CEMQTTConnectFailureProperties{
		Code: int(code), Reason: reason, UserProperties: wireUserProperties(props),
	}})
	if err != nil { // only ints and strings: cannot fail
		http.Error(w, "the event handler failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set(wire.HeaderContentType, wire.ContentTypeJSON+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
